/**
 * The form that creates an API key (`/account/keys`), and the form's fields as the input
 * api-keys/service.ts `issueApiKey` validates: applications, resources, simple or granular
 * permissions, expiry, admin API use.
 */
import type { Org } from '../../store/orgs.ts';
import { KEY_EXPIRY_DAYS } from '../../api-keys/service.ts';
import { html, type Html } from '../../web/html.ts';
import type { WebContext, WebDeps } from '../../web/pages.ts';
import type { OrgRole } from '../../core/roles.ts';
import { fieldErrorList, type FormRefusal } from '../refusals.ts';
import { csrfField } from './layout.ts';
import { KIND_LABEL, treeOrder } from './resource-tree.ts';

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

/** What the form shows again after a refusal: the refusal (its code, field errors) and the name typed. */
export interface KeyFormAgain {
  refusal?: FormRefusal;
  name?: string;
}

/** The form that creates a key for one of `orgs` (with their resources to pick from) and `applications`. */
export async function keyCreateForm(deps: WebDeps, c: WebContext, orgs: (Org & { role: OrgRole })[], applications: Map<string, string>, again: KeyFormAgain = {}): Promise<Html> {
  const trees = await Promise.all(orgs.map(async (o) => ({ org: o, nodes: treeOrder(await deps.store.orgs.resources(o.id)) })));
  const manages = orgs.some((o) => o.role === 'owner' || o.role === 'admin');
  const { refusal } = again;
  return html`${refusal
    ? html`<div class="error" role="alert" data-testid="problem" data-code="${refusal.code}"><p>The key was not created:</p>
${fieldErrorList(refusal.errors)}</div>`
    : ''}
<form method="post" action="${deps.base}/account/keys" data-testid="create-key">
${csrfField(deps, c, 'keys:create')}
<label for="key-name">Name</label>
<input id="key-name" name="name" type="text" maxlength="100" required value="${again.name ?? ''}">
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
    ? html`<div class="table-scroll" tabindex="0"><table data-org="${org.id}"><thead><tr><th>${orgs.length > 1 ? org.name : 'Resource'}</th><th>Include</th><th>Granular level</th></tr></thead><tbody>
${nodes.map(
  ({ resource, depth }) => html`<tr data-resource="${resource.id}"><td>${'— '.repeat(depth)}${KIND_LABEL[resource.kind]} ${resource.name}</td>
<td><input type="checkbox" name="resource" value="${resource.id}" aria-label="Include ${resource.name}"></td>
<td><select name="level:${resource.id}" aria-label="Level on ${resource.name}"><option value="">—</option><option value="read">read</option><option value="write">write</option><option value="delete">delete</option></select></td></tr>`,
)}</tbody></table></div>`
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
