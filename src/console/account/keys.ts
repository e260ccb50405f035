/**
 * `/account/keys`: your API keys for scripts and CI. The list never shows a secret (only the
 * visible prefix); creating one shows its secret once, on the answer to the form (a POST, never a
 * URL, never cached), and nowhere ever again. Revoking is permanent. The rules — a key never
 * exceeds its creator, expiry choices, applications and resources of the org — are
 * identity/api-keys.ts's; this page turns a plain form into its input and its field errors back
 * into the form.
 */
import type { Org } from '../../store/orgs.ts';
import type { Hono } from 'hono';
import { isRefusal, PortcullisError, type FieldError } from '../../core/errors.ts';
import { issueApiKey, KEY_EXPIRY_DAYS, listApiKeys, revokeApiKey, type ApiKeyView } from '../../api-keys/service.ts';
import { identityDeps } from '../../identity/context.ts';
import { audit } from './audit.ts';
import { html, type Html } from '../../web/html.ts';
import type { SignedIn } from '../../web/session.ts';
import { csrfValid, field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { keyNames, keyTable } from './key-views.ts';
import { csrfField, errorPage, formExpired, notFound, notice, requireSignedIn, signedInForm, signedInPage } from './layout.ts';
import { KIND_LABEL, treeOrder } from './resource-tree.ts';
import type { OrgRole } from '../../core/roles.ts';


const EXPIRY_LABEL: Record<string, string> = { never: 'Never', '7d': 'In 7 days', '30d': 'In 30 days', '90d': 'In 90 days', '365d': 'In a year', date: 'On a date' };

/** The form as issueApiKey's input (unchecked: it validates). */
export function keyInputFromForm(form: Record<string, string | File | (string | File)[]>): Record<string, unknown> {
  const all = (name: string): string[] => ([] as unknown[]).concat(form[name] ?? []).filter((v): v is string => typeof v === 'string' && v !== '');
  const one = (name: string): string => {
    const value = form[name];
    return typeof value === 'string' ? value : '';
  };
  const levels: Record<string, string> = {};
  for (const [name, value] of Object.entries(form)) {
    if (name.startsWith('level:') && typeof value === 'string' && value !== '') levels[name.slice('level:'.length)] = value;
  }
  const expiry = one('expiry') === 'date' ? one('expiryDate') : one('expiry') || '90d';
  return {
    name: one('name'),
    applications: one('apps') === 'pick' ? all('app') : null,
    resources: one('scope') === 'pick' ? all('resource') : null,
    permissions: one('mode') === 'granular' ? { mode: 'granular', levels } : { mode: 'simple', level: one('level') || 'read' },
    expiry,
    admin: one('admin') === 'on',
  };
}

export function keyRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const base = deps.base;
  const ids = identityDeps(deps);

  async function page(c: WebContext, me: SignedIn, extra: { problems?: FieldError[]; code?: string; created?: { key: ApiKeyView; secret: string }; name?: string } = {}) {
    const orgs = await deps.store.orgs.forUser(me.user.id);
    const keys = await listApiKeys(ids, { userId: me.user.id });
    const names = await keyNames(deps, [...keys.map((k) => k.orgId), ...orgs.map((o) => o.id)]);
    const created = extra.created;
    return signedInPage(deps, c, me, {
      title: 'API keys',
      active: 'keys',
      body: html`<h1>API keys</h1>
${notice(c, { revoked: 'The key was revoked. It stops working now, everywhere, for good.' })}
${created
  ? html`<section class="notice" data-testid="created" data-key="${created.key.id}">
<p><strong>Your new key “${created.key.name}”.</strong> Copy it now: it is shown this once and never again.</p>
<code class="secret" data-testid="secret">${created.secret}</code>
<p class="muted">Use it as <code>Authorization: Bearer ${created.key.prefix}…</code></p>
</section>`
  : ''}
${keyTable(deps, c, keys, names, `${base}/account/keys/revoke`)}
<h2>Create a key</h2>
${orgs.length ? await createForm(c, orgs, names.applications, extra) : html`<p class="muted">Keys act for an organization; you do not belong to one yet.</p>`}`,
    });
  }

  async function createForm(c: WebContext, orgs: (Org & { role: OrgRole })[], applications: Map<string, string>, extra: { problems?: FieldError[]; code?: string; name?: string }): Promise<Html> {
    const trees = await Promise.all(orgs.map(async (o) => ({ org: o, nodes: treeOrder(await deps.store.orgs.resources(o.id)) })));
    const manages = orgs.some((o) => o.role === 'owner' || o.role === 'admin');
    const problems = extra.problems ?? [];
    return html`${problems.length || extra.code
      ? html`<div class="error" role="alert" data-testid="problem" data-code="${extra.code ?? 'invalid_request'}"><p>The key was not created:</p>
<ul data-testid="field-errors">${problems.map((p) => html`<li data-path="${p.path}">${p.path}: ${p.message}</li>`)}</ul></div>`
      : ''}
<form method="post" action="${base}/account/keys" data-testid="create-key">
${csrfField(deps, c, 'keys:create')}
<label for="key-name">Name</label>
<input id="key-name" name="name" type="text" maxlength="100" required value="${extra.name ?? ''}">
${orgs.length > 1
  ? html`<label for="key-org">Organization</label><select id="key-org" name="org">${orgs.map((o) => html`<option value="${o.id}">${o.name}</option>`)}</select>`
  : html`<input type="hidden" name="org" value="${orgs[0]!.id}">`}
<fieldset><legend>Applications</legend>
<label class="choice"><input type="radio" name="apps" value="all" checked> All applications</label>
<label class="choice"><input type="radio" name="apps" value="pick"> Only these:</label>
<div>${[...applications].map(([slug, name]) => html`<label class="choice"><input type="checkbox" name="app" value="${slug}"> ${name}</label>`)}</div>
</fieldset>
<fieldset><legend>Resources</legend>
<label class="choice"><input type="radio" name="scope" value="all" checked> All resources</label>
<label class="choice"><input type="radio" name="scope" value="pick"> Only the ones ticked below</label>
</fieldset>
<fieldset><legend>Permissions</legend>
<label class="choice"><input type="radio" name="mode" value="simple" checked> Simple:</label>
<select name="level" aria-label="Simple permission"><option value="read">Read</option><option value="read-write">Read and write</option></select>
<label class="choice"><input type="radio" name="mode" value="granular"> Granular, per resource (below)</label>
${trees.map(({ org, nodes }) =>
  nodes.length
    ? html`<table data-org="${org.id}"><thead><tr><th>${orgs.length > 1 ? org.name : 'Resource'}</th><th>Include</th><th>Granular level</th></tr></thead><tbody>
${nodes.map(
  ({ resource, depth }) => html`<tr data-resource="${resource.id}"><td>${'— '.repeat(depth)}${KIND_LABEL[resource.kind]} ${resource.name}</td>
<td><input type="checkbox" name="resource" value="${resource.id}" aria-label="Include ${resource.name}"></td>
<td><select name="level:${resource.id}" aria-label="Level on ${resource.name}"><option value="">—</option><option value="read">read</option><option value="write">write</option><option value="delete">delete</option></select></td></tr>`,
)}</tbody></table>`
    : html`<p class="muted">${org.name} has no workspaces yet: a key there covers all of it.</p>`,
)}
</fieldset>
<fieldset><legend>Expires</legend>
<select name="expiry" aria-label="Expires">${['never', ...KEY_EXPIRY_DAYS, 'date'].map((e) => html`<option value="${e}"${e === '90d' ? html` selected` : ''}>${EXPIRY_LABEL[e] ?? e}</option>`)}</select>
<input type="date" name="expiryDate" aria-label="Expiry date">
</fieldset>
${manages ? html`<label class="choice"><input type="checkbox" name="admin"> May use the organization's admin API</label>` : ''}
<div class="actions"><button class="primary" type="submit">Create key</button></div>
</form>`;
  }

  app.get('/account/keys', async (c) => {
    const me = await requireSignedIn(deps, c);
    if (me instanceof Response) return me;
    return c.html(await page(c, me));
  });

  app.post('/account/keys', async (c) => {
    const me = await requireSignedIn(deps, c);
    if (me instanceof Response) return me;
    const form = await c.req.parseBody({ all: true });
    if (!csrfValid(deps, c, form.csrf, 'keys:create')) return formExpired(deps, c);
    const orgId = typeof form.org === 'string' ? form.org : '';
    const input = keyInputFromForm(form);
    try {
      const created = await issueApiKey(ids, { orgId, userId: me.user.id }, input);
      await audit(deps, { kind: 'account.key.created', orgId: created.key.orgId, actor: me.user.id, subject: me.user.id, details: { key: created.key.id, admin: created.key.admin } });
      deps.log.info({ event: 'key.created', user: me.user.id, key: created.key.id }, 'API key created');
      return c.html(await page(c, me, { created }));
    } catch (err) {
      if (!(isRefusal(err))) throw err;
      if (err.code === 'not_found') return notFound(deps, c);
      const problems = (err.detail.errors as FieldError[] | undefined) ?? [];
      return c.html(await page(c, me, { problems, code: err.code, name: String(input.name ?? '') }), err.code === 'forbidden' ? 403 : 400);
    }
  });

  app.post('/account/keys/revoke', async (c) => {
    const posted = await signedInForm(deps, c, 'keys:revoke');
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    try {
      const key = await revokeApiKey(ids, { userId: me.user.id }, field(form, 'key'), me.user.id);
      await audit(deps, { kind: 'account.key.revoked', orgId: key.orgId, actor: me.user.id, subject: me.user.id, details: { key: key.id } });
    } catch (err) {
      if (!(isRefusal(err))) throw err;
      if (err.code === 'already_revoked') return errorPage(deps, c, 409, 'already_revoked', 'This key is revoked already', 'Revoking is permanent; there is nothing more to do.');
      return notFound(deps, c);
    }
    return c.redirect(`${base}/account/keys?done=revoked`, 303);
  });
}
