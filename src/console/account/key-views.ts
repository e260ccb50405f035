/**
 * API keys as people read them: a table (prefix, name, applications, resources, permissions,
 * expiry, last use, status — revoked keys stay, marked revoked) shared by a person's own keys
 * page and an org admin's. Never the secret: the views come from identity/api-keys.ts, which has
 * none to give.
 */
import type { ApiKeyView } from '../../api-keys/service.ts';
import { html, type Html } from '../../web/html.ts';
import type { WebContext, WebDeps } from '../../web/pages.ts';
import { csrfField, when } from './layout.ts';

/** Names for what a key refers to by id or slug (falls back to the id when unknown). */
export interface KeyNames {
  orgs: Map<string, string>;
  resources: Map<string, string>;
  applications: Map<string, string>;
  /** Who created each key (the org admin's view). */
  users?: Map<string, string>;
}

const seconds = (iso: string | null) => (iso ? Math.floor(Date.parse(iso) / 1000) : null);

function list(ids: string[] | null, names: Map<string, string>, all: string): Html {
  if (ids === null) return html`<span data-all="true">${all}</span>`;
  return html`${ids.map((id, i) => html`${i ? ', ' : ''}<span data-id="${id}">${names.get(id) ?? id}</span>`)}`;
}

export function permissionsText(key: ApiKeyView, names: KeyNames): Html {
  const p = key.permissions;
  const base =
    p.mode === 'simple'
      ? html`${p.level === 'read-write' ? 'Read and write' : 'Read'}`
      : html`${Object.entries(p.levels).map(([id, level], i) => html`${i ? '; ' : ''}${names.resources.get(id) ?? id}: ${level}`)}`;
  return html`${base}${key.admin ? html` · <strong>admin API</strong>` : ''}`;
}

/** The keys table; `revokeAction` is where the Revoke buttons post. */
export function keyTable(deps: WebDeps, c: WebContext, keys: ApiKeyView[], names: KeyNames, revokeAction: string): Html {
  if (!keys.length) return html`<p data-testid="no-keys">No API keys yet.</p>`;
  return html`<div class="table-scroll" tabindex="0"><table data-testid="keys">
<thead><tr><th>Key</th><th>Name</th>${names.users ? html`<th>Created by</th>` : ''}<th>Organization</th><th>Applications</th><th>Resources</th><th>Permissions</th><th>Expires</th><th>Last used</th><th>Status</th><th></th></tr></thead>
<tbody>
${keys.map(
  (k) => html`<tr data-testid="key" data-key="${k.id}" data-status="${k.status}">
<td><code data-testid="prefix">${k.prefix}…</code></td>
<td>${k.name}</td>
${names.users ? html`<td>${names.users.get(k.userId) ?? k.userId}</td>` : ''}
<td>${names.orgs.get(k.orgId) ?? k.orgId}</td>
<td>${list(k.applications, names.applications, 'All')}</td>
<td>${list(k.resources, names.resources, 'All resources')}</td>
<td>${permissionsText(k, names)}</td>
<td>${when(seconds(k.expiresAt), 'never')}</td>
<td>${when(seconds(k.lastUsedAt))}${k.lastUsedIp ? html` <span class="muted">from ${k.lastUsedIp}</span>` : ''}</td>
<td>${k.status === 'revoked' ? html`<strong>revoked</strong> ${when(seconds(k.revokedAt))}` : k.status}</td>
<td>${k.status === 'revoked'
  ? ''
  : html`<form method="post" action="${revokeAction}" class="inline">${csrfField(deps, c, 'keys:revoke')}<input type="hidden" name="key" value="${k.id}"><button class="danger" type="submit" data-testid="revoke">Revoke</button></form>`}</td>
</tr>`,
)}
</tbody>
</table></div>
<p class="muted">Revoking a key is immediate and permanent: it stays listed as revoked and can never be used again.</p>`;
}

/** Names for the orgs, resources and applications keys mention. */
export async function keyNames(deps: WebDeps, orgIds: string[]): Promise<KeyNames> {
  const orgs = new Map<string, string>();
  const resources = new Map<string, string>();
  for (const id of new Set(orgIds)) {
    const org = await deps.store.orgs.get(id);
    if (org) orgs.set(org.id, org.name);
    for (const r of await deps.store.orgs.resources(id)) resources.set(r.id, r.name);
  }
  const applications = new Map<string, string>();
  for (const app of await deps.store.applications.list()) {
    let name = app.slug;
    try {
      name = String((JSON.parse(app.definition) as { name?: unknown }).name ?? app.slug);
    } catch {
      // A definition that does not parse still has its slug.
    }
    applications.set(app.slug, name);
  }
  return { orgs, resources, applications };
}
