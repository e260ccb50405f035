/**
 * `/orgs/<slug>/keys` and `/orgs/<slug>/apps`: every API key of the organization (anyone's) and
 * every app connected to act for it, each revocable by the org's owners and admins at once.
 */
import type { Hono } from 'hono';
import { disconnectApp, listConnectedApps } from '../../identity/account.ts';
import { listApiKeys, revokeApiKey } from '../../api-keys/service.ts';
import { identityDeps } from '../../identity/context.ts';
import { appRow, orgNames } from '../account/connected-apps.ts';
import { keyNames, keyTable } from '../account/key-views.ts';
import { PortcullisError } from '../../core/errors.ts';
import { notice } from '../account/layout.ts';
import { html } from '../../web/html.ts';
import { field, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { orgAccess, orgAction, orgPage, orgPath } from './access.ts';

export function keysAndAppsRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const ids = identityDeps(deps);

  const emailsOf = async (userIds: string[]) =>
    new Map((await Promise.all([...new Set(userIds)].map((id) => deps.store.users.findById(id)))).filter((u) => u !== undefined).map((u) => [u.id, u.email]));

  app.get('/orgs/:org/keys', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    const keys = await listApiKeys(ids, { orgId: access.org.id });
    const names = { ...(await keyNames(deps, [access.org.id])), users: await emailsOf(keys.map((k) => k.userId)) };
    return c.html(
      await orgPage(
        deps,
        c,
        access,
        'keys',
        html`${notice(c, { revoked: 'The key was revoked. It stops working now, everywhere, for good.' })}
${keyTable(deps, c, keys, names, orgPath(deps, access.org, 'keys', '/revoke'))}`,
      ),
    );
  });

  orgAction(app, deps, { path: '/orgs/:org/keys/revoke', purpose: 'keys:revoke', section: 'keys', done: 'revoked', confirm: {
    title: 'Revoke this API key?',
    text: 'Every program using it is refused from now on, at every gateway. A revoked key cannot be brought back; its owner makes a new one.',
    button: 'Revoke',
  } }, async (form, { org, me }) => {
    const key = await revokeApiKey(ids, { orgId: org.id }, field(form, 'key'), me.user.id);
    return { kind: 'admin.key.revoked', subject: key.userId, details: { key: key.id } };
  });

  app.get('/orgs/:org/apps', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    const apps = await listConnectedApps(deps, { orgId: access.org.id });
    const orgs = await orgNames(deps, apps);
    const emails = await emailsOf(apps.map((a) => a.userId));
    return c.html(
      await orgPage(
        deps,
        c,
        access,
        'apps',
        html`${notice(c, { disconnected: 'The app was disconnected. Its access ends now, everywhere.' })}
${apps.length
  ? html`<div class="table-scroll" tabindex="0"><table data-testid="apps"><thead><tr><th>App</th><th>Person</th><th>What it may do</th><th>Organization</th><th>First connected</th><th>Last used</th><th></th></tr></thead>
<tbody>${apps.map((a) => appRow(deps, c, a, orgs, orgPath(deps, access.org, 'apps', '/disconnect'), html`<td>${emails.get(a.userId) ?? a.userId}</td>`))}</tbody></table></div>`
  : html`<p data-testid="no-apps">No app is connected to act for this organization.</p>`}`,
      ),
    );
  });

  orgAction(app, deps, { path: '/orgs/:org/apps/disconnect', purpose: 'apps:disconnect', section: 'apps', done: 'disconnected', confirm: async (_form, { org }) => ({
    title: 'Disconnect this app?',
    text: `Its access for ${org.name} ends at once, everywhere: its tokens are revoked and it has to ask the person again to reconnect.`,
    button: 'Disconnect',
  }) }, async (form, { org, me }) => {
    const grantId = field(form, 'grant');
    if (!(await disconnectApp(deps, { orgId: org.id }, grantId))) throw new PortcullisError('not_found', 'no such connected app');
    deps.log.info({ event: 'grant.disconnected', by: me.user.id, org: org.id, grant: grantId }, 'app disconnected by an org admin');
    return { kind: 'admin.grant.revoked', details: { grant: grantId } };
  });
}
