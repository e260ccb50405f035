/**
 * Deleting an organization from `/server/people` (its "Organizations" table links here), through
 * identity/org-deletion.ts — the service of the admin API's `DELETE /orgs/:org`, recorded under
 * the same audit kind. A confirmation page first says what goes with it (memberships, workspaces,
 * invitations, connections, keys; members' app connections for it end now; accounts stay) and
 * refuses up front while the organization owns applications.
 */
import type { Hono } from 'hono';
import { PortcullisError } from '../../core/errors.ts';
import { identityDeps } from '../../identity/context.ts';
import { deleteOrganization } from '../../identity/org-deletion.ts';
import { audit } from '../account/audit.ts';
import { csrfField } from '../account/layout.ts';
import { refusalPage } from '../refusals.ts';
import { html } from '../../web/html.ts';
import { field, type WebEnv } from '../../web/pages.ts';
import { serverAccess, serverForm, serverPage, serverPath, type ServerPagesDeps } from './access.ts';

const PURPOSE = 'server:orgs:delete';

export function orgDeletionRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  const ids = identityDeps(deps);
  app.get('/server/people/orgs/delete', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const org = await deps.store.orgs.bySlug(c.req.query('org') ?? '');
    if (!org) return refusalPage(deps, c, new PortcullisError('not_found', 'no such organization'));
    const [members, apps] = await Promise.all([deps.store.orgs.members(org.id), deps.store.applications.list({ orgId: org.id })]);
    const body = apps.length
      ? html`<p data-testid="owns-applications">${org.name} owns applications (${apps.map((a, i) => html`${i ? ', ' : ''}<a href="${serverPath(deps, 'applications', `/${a.slug}`)}">${a.slug}</a>`)}). Delete them or make them server-wide first: deleting the organization would leave them open to every organization.</p>
<p><a href="${serverPath(deps, 'people')}">Back to people</a></p>`
      : html`<p>${org.name} (${org.slug}) and everything in it goes: its ${members.length} membership${members.length === 1 ? '' : 's'}, workspaces and projects, invitations, single sign-on connections and domains, SCIM token and API keys. Every app connection its members made for it stops working now. The people's accounts stay. This cannot be undone.</p>
<form method="post" action="${serverPath(deps, 'people', '/orgs/delete')}" data-testid="confirm-form">${csrfField(deps, c, PURPOSE)}<input type="hidden" name="org" value="${org.slug}">
<button type="submit" class="danger" data-testid="confirm">Delete the organization</button> <a href="${serverPath(deps, 'people')}">Cancel</a></form>`;
    return c.html(await serverPage(deps, c, me, 'people', body, `Delete ${org.name}?`));
  });

  app.post('/server/people/orgs/delete', async (c) => {
    const posted = await serverForm(deps, c, PURPOSE);
    if (posted instanceof Response) return posted;
    const org = await deps.store.orgs.bySlug(field(posted.form, 'org'));
    try {
      if (!org) throw new PortcullisError('not_found', 'no such organization');
      const done = await deleteOrganization(ids, org.id, posted.me.user.id);
      await audit(deps, { kind: 'admin.org.deleted', actor: posted.me.user.id, details: { org: org.id, slug: org.slug, ...done } });
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    return c.redirect(`${serverPath(deps, 'people')}?done=org-deleted`, 303);
  });
}
