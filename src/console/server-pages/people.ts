/**
 * `/server/people`: every account on the server (searchable by e-mail or name), its
 * organizations, whether it is a server administrator or disabled, its last sign-in; disable,
 * enable and delete — each through identity/people.ts, as the admin API's `/users` routes do, and
 * recorded under the same audit kinds. Disabling and deleting ask first (a confirmation page):
 * both end the person's sessions and tokens at once. Below, every organization and its size, with
 * links to its pages and to deleting it (server-pages/org-deletion.ts).
 */
import type { Hono } from 'hono';
import { PortcullisError } from '../../core/errors.ts';
import { deleteUser, disableUser, enableUser } from '../../identity/people.ts';
import { identityDeps } from '../../identity/context.ts';
import type { User } from '../../store/users.ts';
import { audit } from '../account/audit.ts';
import { csrfField, notice, when } from '../account/layout.ts';
import { refusalPage } from '../refusals.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebEnv } from '../../web/pages.ts';
import { serverAccess, serverForm, serverPage, serverPath, type ServerPagesDeps } from './access.ts';

type Action = 'disable' | 'enable' | 'delete';
const ACTIONS: Record<Action, { kind: string; done: string; confirm?: string }> = {
  disable: { kind: 'admin.user.disabled', done: 'disabled', confirm: 'They are signed out everywhere and every token and app connection they have stops working now. You can enable the account again later.' },
  enable: { kind: 'admin.user.enabled', done: 'enabled' },
  delete: { kind: 'admin.user.deleted', done: 'deleted', confirm: 'Their personal data is erased, they leave every organization and everything they could do stops now. This cannot be undone.' },
};

async function personRow(deps: ServerPagesDeps, c: WebContext, u: User, me: string): Promise<Html> {
  const orgs = await deps.store.orgs.forUser(u.id);
  // The audit trail's last `signin.succeeded` (kept after sessions end), or a live session's sign-in
  // (the trail is written in batches, so the newest may not be there yet).
  const [sessions, signIns] = await Promise.all([deps.store.sessions.listForUser(u.id), deps.store.audit.list({ kind: 'signin.succeeded', subject: u.id, order: 'desc', limit: 1 })]);
  const last = Math.max(0, ...sessions.map((s) => s.authTime), ...signIns.map((e) => e.at));
  const action = (a: Action, label: string) =>
    ACTIONS[a].confirm
      ? html`<a href="${serverPath(deps, 'people', `/${a}?user=${encodeURIComponent(u.id)}`)}" data-testid="${a}-start" aria-label="${label.replace('…', '')} ${u.email}">${label}</a>`
      : html`<form method="post" class="inline" action="${serverPath(deps, 'people', `/${a}`)}">${csrfField(deps, c, `server:people:${a}`)}<input type="hidden" name="user" value="${u.id}"><button type="submit" data-testid="${a}" aria-label="${label} ${u.email}">${label}</button></form>`;
  const self = u.id === me;
  const actions = self
    ? html`<span class="muted">your account</span>`
    : html`${u.disabledAt !== null ? action('enable', 'Enable') : action('disable', 'Disable…')} ${action('delete', 'Delete…')}`;
  return html`<tr data-testid="person" data-email="${u.email}" data-disabled="${u.disabledAt !== null ? 'true' : 'false'}" data-admin="${u.isAdmin ? 'true' : 'false'}"><td>${u.email}${u.name ? html`<span class="sub">${u.name}</span>` : ''}${u.isAdmin ? html`<span class="sub">Server administrator</span>` : ''}${u.disabledAt !== null ? html`<span class="sub">Disabled since ${when(u.disabledAt)}</span>` : ''}</td>
<td>${orgs.length ? orgs.map((o, i) => html`${i ? ', ' : ''}${o.name} (${o.role})`) : html`<span class="muted">none</span>`}</td><td data-testid="last-sign-in">${when(last || null)}</td><td>${actions} <a href="${serverPath(deps, 'doctor', `/people?email=${encodeURIComponent(u.email)}`)}" data-testid="doctor-person" aria-label="Connection attempts of ${u.email}">Connection attempts</a></td></tr>`;
}

async function orgTable(deps: ServerPagesDeps): Promise<Html> {
  const orgs = await deps.store.orgs.list();
  const counts = await Promise.all(orgs.map(async (o) => (await deps.store.orgs.members(o.id)).length));
  return html`<h2>Organizations</h2><div class="table-scroll" tabindex="0"><table data-testid="organizations"><thead><tr><th scope="col">Organization</th><th scope="col">Slug</th><th scope="col">Members</th><th scope="col">Actions</th></tr></thead>
<tbody>${orgs.map((o, i) => html`<tr data-testid="organization" data-slug="${o.slug}" data-members="${counts[i]}"><td><a href="${deps.base}/orgs/${o.slug}/members">${o.name}</a></td><td>${o.slug}</td><td>${counts[i]}</td>
<td><a href="${serverPath(deps, 'people', `/orgs/delete?org=${encodeURIComponent(o.slug)}`)}" data-testid="delete-org-start" aria-label="Delete ${o.name}…">Delete…</a></td></tr>`)}</tbody></table></div>`;
}

function matches(u: User, q: string): boolean {
  const needle = q.trim().toLowerCase();
  return !needle || u.email.toLowerCase().includes(needle) || (u.name ?? '').toLowerCase().includes(needle);
}

async function listPage(deps: ServerPagesDeps, c: WebContext, me: string): Promise<Html> {
  const q = c.req.query('q') ?? '';
  const users = (await deps.store.users.list()).filter((u) => u.deletedAt === null && matches(u, q));
  const rows = await Promise.all(users.map((u) => personRow(deps, c, u, me)));
  return html`${notice(c, { disabled: 'The account was disabled; its sessions and tokens ended.', enabled: 'The account was enabled.', deleted: 'The account was deleted.', 'org-deleted': 'The organization was deleted; its members\' app connections for it ended.' })}
<form method="get" action="${serverPath(deps, 'people')}" role="search"><label for="q">Search people by e-mail or name</label> <input id="q" name="q" type="search" value="${q}"> <button type="submit">Search</button></form>
<div class="table-scroll" tabindex="0"><table data-testid="people"><caption>People${q ? ` matching “${q}”` : ''} (${users.length})</caption><thead><tr><th scope="col">Person</th><th scope="col">Organizations</th><th scope="col">Last sign-in</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${await orgTable(deps)}`;
}

function confirmRoute(app: Hono<WebEnv>, deps: ServerPagesDeps, a: Action): void {
  app.get(`/server/people/${a}`, async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const user = await deps.store.users.findById(c.req.query('user') ?? '');
    if (!user || user.deletedAt !== null) return refusalPage(deps, c, new PortcullisError('not_found', 'no such user'));
    const title = `${a === 'delete' ? 'Delete' : 'Disable'} ${user.email}?`;
    const body = html`<p>${ACTIONS[a].confirm}</p><form method="post" action="${serverPath(deps, 'people', `/${a}`)}" data-testid="confirm-form">${csrfField(deps, c, `server:people:${a}`)}<input type="hidden" name="user" value="${user.id}">
<button type="submit" data-testid="confirm">${a === 'delete' ? 'Delete the account' : 'Disable the account'}</button> <a href="${serverPath(deps, 'people')}">Cancel</a></form>`;
    return c.html(await serverPage(deps, c, me, 'people', body, title));
  });
}

function actionRoute(app: Hono<WebEnv>, deps: ServerPagesDeps, a: Action): void {
  const ids = identityDeps(deps);
  app.post(`/server/people/${a}`, async (c) => {
    const posted = await serverForm(deps, c, `server:people:${a}`);
    if (posted instanceof Response) return posted;
    const id = field(posted.form, 'user');
    try {
      // As the admin API: an administrator cannot lock themselves out from here.
      if (a !== 'enable' && id === posted.me.user.id) throw new PortcullisError('forbidden', 'you cannot do that to your own account', { rule: 'self' });
      if (a === 'disable') await disableUser(ids, id, posted.me.user.id);
      else if (a === 'enable') await enableUser(ids, id);
      else await deleteUser(ids, id, posted.me.user.id);
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    await audit(deps, { kind: ACTIONS[a].kind, actor: posted.me.user.id, subject: id });
    return c.redirect(`${serverPath(deps, 'people')}?done=${ACTIONS[a].done}`, 303);
  });
}

export function peopleRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  app.get('/server/people', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    return c.html(await serverPage(deps, c, me, 'people', await listPage(deps, c, me.user.id)));
  });
  confirmRoute(app, deps, 'disable');
  confirmRoute(app, deps, 'delete');
  for (const a of ['disable', 'enable', 'delete'] as const) actionRoute(app, deps, a);
}
