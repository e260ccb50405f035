/**
 * `/account/apps`: every client holding a grant of yours — what it may do in plain English (the
 * applications' own scope descriptions), for which organization, when granted and last used —
 * and "Disconnect", which revokes the grant at once: its refresh tokens go and every gateway
 * refuses its access tokens within a second (identity/account.ts disconnectApp).
 */
import type { Org } from '../../store/orgs.ts';
import type { Hono } from 'hono';
import { disconnectApp, listConnectedApps, type ClientRegistration, type ConnectedApp } from '../../identity/account.ts';
import { audit } from './audit.ts';
import { confirmFirst } from '../confirm.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { csrfField, notFound, notice, requireSignedIn, signedInForm, signedInPage, when } from './layout.ts';

const ACCOUNT_SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  email: 'See your e-mail address',
  profile: 'See your name',
  offline_access: 'Stay connected while you are away',
};

/** How far anyone vouches for a client, in words (two apps with one name tell apart by this and their id). */
const REGISTRATION_TEXT: Record<ClientRegistration, string> = {
  registered: 'Verified: registered by an administrator',
  'metadata-document': 'Identified by its metadata document at its own address',
  dynamic: 'Unverified: it registered itself',
};

/** Names of the organizations grants act for (one lookup per org). */
export async function orgNames(deps: WebDeps, apps: ConnectedApp[]): Promise<Map<string, Org>> {
  const ids = [...new Set(apps.map((a) => a.orgId).filter((id): id is string => id !== null))];
  const orgs = await Promise.all(ids.map((id) => deps.store.orgs.get(id)));
  return new Map(orgs.filter((o): o is Org => o !== undefined).map((o) => [o.id, o]));
}

/** One connected app as a table row; `who` adds the user column (org admins' view). */
export function appRow(deps: WebDeps, c: WebContext, app: ConnectedApp, orgs: Map<string, Org>, action: string, who?: Html): Html {
  const permissions = app.applications.flatMap((a) => a.permissions.map((p) => html`<li data-scope="${p.scope}">${p.description} <span class="muted">(${a.name})</span></li>`));
  const account = app.accountScopes.filter((s) => ACCOUNT_SCOPE_TEXT[s]).map((s) => html`<li data-scope="${s}">${ACCOUNT_SCOPE_TEXT[s]!}</li>`);
  return html`<tr data-testid="app" data-grant="${app.grantId}" data-client="${app.clientId}">
<td><strong>${app.clientName}</strong><span class="sub"><code data-testid="client-id">${app.clientId}</code></span><span class="sub" data-testid="registration" data-registration="${app.registration}">${REGISTRATION_TEXT[app.registration]}</span></td>
${who ?? ''}
<td><ul class="scopes">${permissions}${account}</ul></td>
<td>${app.orgId ? (orgs.get(app.orgId)?.name ?? '—') : '—'}</td>
<td>${when(app.createdAt)}</td><td>${when(app.lastUsedAt)}</td>
<td><form method="post" action="${action}" class="inline">${csrfField(deps, c, 'apps:disconnect')}<input type="hidden" name="grant" value="${app.grantId}"><button class="danger" type="submit" data-testid="disconnect">Disconnect</button></form></td>
</tr>`;
}

export function appsRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const base = deps.base;

  app.get('/account/apps', async (c) => {
    const me = await requireSignedIn(deps, c);
    if (me instanceof Response) return me;
    const apps = await listConnectedApps(deps, { userId: me.user.id });
    const orgs = await orgNames(deps, apps);
    return c.html(
      await signedInPage(deps, c, me, {
        title: 'Connected apps',
        active: 'apps',
        body: html`<h1>Apps you connected</h1>
${notice(c, { disconnected: 'The app was disconnected. Its access ends now, everywhere.' })}
${apps.length
  ? html`<div class="table-scroll" tabindex="0"><table data-testid="apps">
<thead><tr><th>App</th><th>What it may do</th><th>Organization</th><th>First connected</th><th>Last used</th><th></th></tr></thead>
<tbody>${apps.map((a) => appRow(deps, c, a, orgs, `${base}/account/apps/disconnect`))}</tbody>
</table></div>
<p class="muted">Disconnecting an app ends its access at once; it has to ask you again to reconnect.</p>`
  : html`<p data-testid="no-apps">No app is connected to your account.</p>`}`,
      }),
    );
  });

  app.post('/account/apps/disconnect', async (c) => {
    const posted = await signedInForm(deps, c, 'apps:disconnect');
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    const ask = confirmFirst(deps, c, form, 'apps:disconnect', {
      title: 'Disconnect this app?',
      text: 'Its access ends at once, everywhere: its tokens are revoked and it has to ask you again to reconnect.',
      button: 'Disconnect',
      cancel: `${base}/account/apps`,
    });
    if (ask) return ask;
    const grantId = field(form, 'grant');
    if (!(await disconnectApp(deps, { userId: me.user.id }, grantId))) return notFound(deps, c);
    await audit(deps, { kind: 'account.grant.revoked', actor: me.user.id, subject: me.user.id, details: { grant: grantId } });
    deps.log.info({ event: 'grant.disconnected', user: me.user.id, grant: grantId }, 'app disconnected by its user');
    return c.redirect(`${base}/account/apps?done=disconnected`, 303);
  });
}
