/**
 * What an organization's "Single sign-on" page shows (org-pages/sso.ts): its claimed domains with
 * the DNS TXT record each needs and a "Verify" button, its connections (a SAML one with the values
 * to give the IdP), and the forms that add an OpenID Connect, a GitHub or a SAML connection — a
 * refused form comes back with what was typed (never the secret) and each problem beside its field.
 */
import type { FieldError } from '../core/errors.ts';
import { html, type Html } from '../web/html.ts';
import { csrfToken, type WebContext, type WebDeps } from '../web/pages.ts';

export interface DomainRow {
  domain: string;
  verified: boolean;
  verifiedHow: string | null;
  record: { name: string; type: string; value: string };
}

export interface ConnectionRow {
  id: string;
  type: string;
  name: string;
  domains: string[];
  public: boolean;
  requireSso: boolean;
  readOnly: boolean;
}

/** A form the page re-shows after a refusal: what was typed, and the problems by field path. */
export interface FormState {
  kind: 'oidc' | 'github' | 'saml';
  values: Record<string, string>;
  errors: FieldError[];
}

export interface SsoPageForms {
  action: (rest: string) => string;
  csrf: (purpose: string) => Html;
}

export function ssoForms(deps: WebDeps, c: WebContext, path: (rest: string) => string): SsoPageForms {
  return { action: path, csrf: (purpose) => html`<input type="hidden" name="csrf" value="${csrfToken(deps, c, purpose)}">` };
}

function rowButton(forms: SsoPageForms, rest: string, purpose: string, name: string, value: string, label: string, testid: string, kind = 'danger'): Html {
  return html`<form method="post" action="${forms.action(rest)}" class="inline">${forms.csrf(purpose)}<input type="hidden" name="${name}" value="${value}"><button class="${kind}" type="submit" data-testid="${testid}">${label}</button></form>`;
}

export function domainSection(forms: SsoPageForms, domains: DomainRow[]): Html {
  const rows = domains.map(
    (d) => html`<tr data-testid="domain" data-domain="${d.domain}" data-verified="${String(d.verified)}"><td>${d.domain}</td>
<td>${d.verified ? html`Verified (${d.verifiedHow === 'admin' ? 'by a server administrator' : 'DNS'})` : html`Waiting for its DNS record:<br><code data-testid="txt-name">${d.record.name}</code> ${d.record.type} <code data-testid="txt-value">${d.record.value}</code>`}</td>
<td>${d.verified ? '' : rowButton(forms, '/domains/verify', 'sso:domain-verify', 'domain', d.domain, 'Verify', 'verify-domain', 'primary')}
${rowButton(forms, '/domains/remove', 'sso:domain-remove', 'domain', d.domain, 'Remove', 'remove-domain')}</td></tr>`,
  );
  return html`<h2>E-mail domains</h2>
<p class="muted">A connection signs in people of your organization's verified domains. To verify one, create the TXT record shown at your DNS provider, then press Verify.</p>
${domains.length ? html`<div class="table-scroll" tabindex="0"><table data-testid="domains"><thead><tr><th>Domain</th><th>State</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p class="muted" data-testid="no-domains">No domains yet.</p>`}
<form method="post" action="${forms.action('/domains')}" data-testid="add-domain">${forms.csrf('sso:domain-add')}
<label for="domain">Domain</label><input id="domain" name="domain" required placeholder="example.com">
<div class="actions"><button class="primary" type="submit">Add domain</button></div></form>`;
}

/**
 * What the IdP's administrator enters for a SAML connection (SAML Metadata §2.4.4): this server's
 * entity ID and AssertionConsumerService for it — or the SP metadata URL, which holds both.
 */
export function samlSpValues(ssoBase: string, id: string): Html {
  const entityId = `${ssoBase}/${id}/saml`;
  return html`<dl class="sp-values" data-testid="sp-values" data-connection="${id}"><dt>SP entity ID</dt><dd><code data-testid="sp-entity-id">${entityId}</code></dd>
<dt>ACS URL (HTTP-POST)</dt><dd><code data-testid="sp-acs-url">${entityId}/acs</code></dd>
<dt>SP metadata URL</dt><dd><code data-testid="sp-metadata-url">${entityId}/metadata</code></dd></dl>`;
}

/** `ssoBase`: `<publicUrl>/sso`, for the SP values of SAML connections. */
export function connectionSection(forms: SsoPageForms, connections: ConnectionRow[], ssoBase: string): Html {
  const rows = connections.map(
    (c) => html`<tr data-testid="connection" data-connection="${c.id}"><td>${c.name}<br><code>${c.id}</code>${c.type === 'saml' ? samlSpValues(ssoBase, c.id) : ''}</td><td>${c.type}</td><td>${c.domains.join(', ') || html`<span class="muted">none</span>`}</td>
<td>${c.public ? 'button on sign-in pages' : ''}${c.requireSso ? html`<br>SSO required` : ''}</td>
<td>${c.readOnly ? html`<span class="muted">from the server's configuration</span>` : rowButton(forms, '/connections/delete', 'sso:connection-delete', 'connection', c.id, 'Delete', 'delete-connection')}</td></tr>`,
  );
  return html`<h2>Connections</h2>
${connections.length ? html`<div class="table-scroll" tabindex="0"><table data-testid="connections"><thead><tr><th>Name</th><th>Type</th><th>Domains</th><th></th><th></th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p class="muted" data-testid="no-connections">No connections yet.</p>`}`;
}

/** The problems of `path` (and below it), beside its field. */
function errorsFor(state: FormState | undefined, kind: FormState['kind'], ...paths: string[]): Html | '' {
  const found = state?.kind === kind ? state.errors.filter((e) => paths.some((p) => e.path === p || e.path.startsWith(`${p}.`))) : [];
  return found.length ? html`<p class="error" role="alert" data-testid="field-error" data-field="${paths[0]}">${found.map((e) => e.message).join('; ')}</p>` : '';
}

/** The problems no field of the form claims (shown above its button, so none goes unseen). */
function otherErrors(state: FormState | undefined, kind: FormState['kind'], fields: Input[], checkboxes: string[]): Html | '' {
  const claimed = [...fields.flatMap((f) => [f.name, ...(f.paths ?? [])]), ...checkboxes];
  const rest = state?.kind === kind ? state.errors.filter((e) => !claimed.some((p) => e.path === p || e.path.startsWith(`${p}.`))) : [];
  return rest.length ? html`<p class="error" role="alert" data-testid="field-error" data-field="(form)">${rest.map((e) => (e.path === '(root)' ? e.message : `${e.path}: ${e.message}`)).join('; ')}</p>` : '';
}

interface Input {
  name: string;
  label: string;
  type?: string;
  /** A multi-line field (pasted XML). */
  multiline?: boolean;
  placeholder?: string;
  hint?: string;
  /** Other field paths whose problems show here (e.g. `roles` for the role map). */
  paths?: string[];
}

function input(kind: FormState['kind'], state: FormState | undefined, field: Input): Html {
  const id = `${kind}-${field.name}`;
  // A secret typed is never sent back to the browser.
  const value = field.type === 'password' || state?.kind !== kind ? '' : (state.values[field.name] ?? '');
  const control = field.multiline
    ? html`<textarea id="${id}" name="${field.name}" rows="6"${field.placeholder ? html` placeholder="${field.placeholder}"` : ''}>${value}</textarea>`
    : html`<input id="${id}" name="${field.name}" type="${field.type ?? 'text'}" value="${value}"${field.placeholder ? html` placeholder="${field.placeholder}"` : ''}${field.type === 'password' ? html` autocomplete="off"` : ''}>`;
  return html`<label for="${id}">${field.label}</label>${control}
${field.hint ? html`<p class="muted">${field.hint}</p>` : ''}${errorsFor(state, kind, field.name, ...(field.paths ?? []))}`;
}

function checkbox(kind: FormState['kind'], state: FormState | undefined, name: string, label: string): Html {
  const checked = state?.kind === kind && state.values[name] === 'on';
  return html`<label class="choice"><input type="checkbox" id="${kind}-${name}" name="${name}"${checked ? html` checked` : ''}> ${label}</label>${errorsFor(state, kind, name)}`;
}

const COMMON_TOP: Input[] = [
  { name: 'id', label: 'Id', placeholder: 'acme-okta', hint: 'Lowercase letters, digits and dashes; part of the redirect URI, cannot change.' },
  { name: 'name', label: 'Name shown to people', placeholder: 'Acme SSO' },
];

/** The "Continue with" button choice, where the server lets owners' connections have one (`organizationConnections.allowPublicButtons`). */
function publicChoice(kind: FormState['kind'], state: FormState | undefined, allowed: boolean): Html | '' {
  return allowed ? checkbox(kind, state, 'public', 'Show "Continue with <name>" on sign-in pages') : '';
}

export function oidcForm(forms: SsoPageForms, state: FormState | undefined, redirectBase: string, verified: string[], publicButtons: boolean): Html {
  const fields: Input[] = [
    ...COMMON_TOP,
    { name: 'issuer', label: 'Issuer URL', placeholder: 'https://acme.okta.com' },
    { name: 'clientId', label: 'Client id' },
    { name: 'clientSecret', label: 'Client secret', type: 'password', hint: 'Kept encrypted; never shown again.', paths: ['privateKeyJwt'] },
    { name: 'domains', label: 'Domains', placeholder: verified.join(', '), hint: `Verified domains of your organization, comma separated${verified.length ? ` (${verified.join(', ')})` : ' — verify one first'}.` },
    { name: 'scopes', label: 'Scopes', placeholder: 'openid email profile groups' },
    { name: 'rolesClaim', label: 'Groups claim', placeholder: 'groups', paths: ['roles.claim'] },
    { name: 'rolesMap', label: 'Group → role', placeholder: 'mcp-admins=admin, mcp-owners=owner', hint: 'group=role pairs, comma separated; roles: owner, admin, member.', paths: ['roles.map'] },
    { name: 'rolesDefault', label: 'Role of everyone else', placeholder: 'member', paths: ['roles.default'] },
  ];
  return html`<h2>Add an OpenID Connect connection</h2>
<p class="muted">Register this redirect URI at your identity provider: <code>${redirectBase}/&lt;id&gt;/callback</code></p>
<form method="post" action="${forms.action('/connections/oidc')}" data-testid="add-oidc">${forms.csrf('sso:connection-add')}
${fields.map((f) => input('oidc', state, f))}
${publicChoice('oidc', state, publicButtons)}
${checkbox('oidc', state, 'requireSso', 'Members must sign in through this connection (no passwords)')}
${otherErrors(state, 'oidc', fields, ['public', 'requireSso'])}
<div class="actions"><button class="primary" type="submit">Add connection</button></div></form>`;
}

export function githubForm(forms: SsoPageForms, state: FormState | undefined, publicButtons: boolean): Html {
  const fields: Input[] = [
    ...COMMON_TOP,
    { name: 'clientId', label: 'OAuth app client id' },
    { name: 'clientSecret', label: 'OAuth app client secret', type: 'password', hint: 'Kept encrypted; never shown again.' },
    { name: 'domains', label: 'Domains (optional)', hint: 'Only addresses in these verified domains sign in; empty: any GitHub-verified address.' },
    { name: 'githubOrg', label: 'Required GitHub organization (optional)' },
    { name: 'githubTeam', label: 'Required team of it (optional)' },
  ];
  return html`<h2>Add a GitHub connection</h2>
<form method="post" action="${forms.action('/connections/github')}" data-testid="add-github">${forms.csrf('sso:connection-add')}
${fields.map((f) => input('github', state, f))}
${publicChoice('github', state, publicButtons)}
${otherErrors(state, 'github', fields, ['public'])}
<div class="actions"><button class="primary" type="submit">Add connection</button></div></form>`;
}

/**
 * A SAML 2.0 connection: the IdP by its metadata URL or its metadata pasted (one of the two), the
 * attribute carrying group names and their roles. The SP values to give the IdP come first: the
 * IdP is usually set up before its metadata exists.
 */
export function samlForm(forms: SsoPageForms, state: FormState | undefined, ssoBase: string, verified: string[], publicButtons: boolean): Html {
  const fields: Input[] = [
    ...COMMON_TOP,
    { name: 'metadataUrl', label: 'IdP metadata URL', placeholder: 'https://idp.example.com/saml/metadata', hint: 'Fetched over https and read again every hour; or paste the metadata below.', paths: ['idp.metadataUrl'] },
    { name: 'metadataXml', label: 'IdP metadata XML', multiline: true, placeholder: '<md:EntityDescriptor …', paths: ['idp.metadataXml'] },
    { name: 'domains', label: 'Domains', placeholder: verified.join(', '), hint: `Verified domains of your organization, comma separated${verified.length ? ` (${verified.join(', ')})` : ' — verify one first'}.` },
    { name: 'rolesAttribute', label: 'Groups attribute', placeholder: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups', paths: ['roles.attribute'] },
    { name: 'rolesMap', label: 'Group → role', placeholder: 'mcp-admins=admin, mcp-owners=owner', hint: 'group=role pairs, comma separated; roles: owner, admin, member.', paths: ['roles.map'] },
    { name: 'rolesDefault', label: 'Role of everyone else', placeholder: 'member', paths: ['roles.default'] },
  ];
  return html`<h2>Add a SAML connection</h2>
<p class="muted">Give your identity provider these values (with the id you choose below):</p>
${samlSpValues(ssoBase, '<id>')}
<form method="post" action="${forms.action('/connections/saml')}" data-testid="add-saml">${forms.csrf('sso:connection-add')}
${fields.map((f) => input('saml', state, f))}
${publicChoice('saml', state, publicButtons)}
${checkbox('saml', state, 'requireSso', 'Members must sign in through this connection (no passwords)')}
${otherErrors(state, 'saml', fields, ['public', 'requireSso'])}
<div class="actions"><button class="primary" type="submit">Add connection</button></div></form>`;
}
