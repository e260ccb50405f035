/**
 * "Default access for new members" on `/orgs/<slug>/settings` (identity/new-member-access.ts): the
 * workspace or project role everyone who joins gets — by invitation without a starting role of
 * its own, by single sign-on, by SCIM — or none. Saved through the service the admin API's
 * `PATCH /orgs/:org` uses (identity/org-settings.ts), which checks the resource is the org's.
 */
import type { Hono } from 'hono';
import type { Org } from '../../store/orgs.ts';
import { parseInput } from '../../core/input.ts';
import { identityDeps } from '../../identity/context.ts';
import { StartingAccessSchema } from '../../identity/new-member-access.ts';
import { updateOrganization } from '../../identity/org-settings.ts';
import { csrfField } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { orgAction, orgPath } from './access.ts';
import { accessOptions, postedAccess } from './starting-access.ts';

export async function newMemberAccessForm(deps: WebDeps, c: WebContext, org: Org): Promise<Html> {
  const resources = await deps.store.orgs.resources(org.id);
  return html`<h2>Default access for new members</h2>
<p class="muted">What someone who joins ${org.name} can use at once. Without a workspace role, their roles unlock none of an application's permissions and they must ask for access. An invitation can name its own starting role instead.</p>
<form method="post" action="${orgPath(deps, org, 'settings', '/new-member-access')}" data-testid="new-member-access">${csrfField(deps, c, 'org:new-member-access')}
<label for="new-member-access">New members get</label>
<select id="new-member-access" name="access">${accessOptions(resources, org.settings.newMemberAccess, 'no workspace role (they ask for access)')}</select>
<div class="actions"><button class="primary" type="submit">Save</button></div></form>`;
}

export function newMemberAccessRoute(app: Hono<WebEnv>, deps: WebDeps): void {
  const ids = identityDeps(deps);
  orgAction(app, deps, { path: '/orgs/:org/settings/new-member-access', purpose: 'org:new-member-access', section: 'settings', done: 'new_member_access' }, async (form, { org }) => {
    const posted = postedAccess(field(form, 'access'));
    const newMemberAccess = posted ? parseInput(StartingAccessSchema, posted) : null;
    // The settings are replaced as a whole: keep the others as they are.
    await updateOrganization(ids, deps.config, org.id, { settings: { ...org.settings, newMemberAccess } });
    return { kind: 'admin.org.updated', details: { settings: true, newMemberAccess: newMemberAccess ? `${newMemberAccess.role}:${newMemberAccess.resourceId}` : null } };
  });
}
