/**
 * How `/server/clients` draws OAuth clients: the list (kind, type, last use, people connected),
 * one client's metadata with its actions, the registration form with each problem beside its
 * field, and a secret shown once. The rules are clients/input.ts's; nothing here decides.
 */
import type { FieldError } from '../../core/errors.ts';
import type { ClientSummary } from '../../clients/service.ts';
import { html, type Html } from '../../web/html.ts';
import type { WebContext, WebDeps } from '../../web/pages.ts';
import { csrfField, when } from '../account/layout.ts';
import { serverPath } from './access.ts';

export const KIND_LABELS: Record<ClientSummary['kind'], string> = {
  'pre-registered': 'pre-registered',
  dynamic: 'dynamically registered',
  'metadata-document': 'metadata document',
};

export const clientPath = (deps: WebDeps, clientId: string, rest = '') => serverPath(deps, 'clients', `/${encodeURIComponent(clientId)}${rest}`);

export function clientTable(deps: WebDeps, clients: ClientSummary[]): Html {
  if (!clients.length) return html`<p class="muted" data-testid="no-clients">No clients yet: register one below, or let a client register itself.</p>`;
  // Three columns, so the table fits a phone's width (390 px) without scrolling sideways.
  const rows = clients.map(
    (c) => html`<tr data-testid="client" data-client="${c.clientId}" data-kind="${c.kind}" data-people="${c.people}">
<td><a href="${clientPath(deps, c.clientId)}">${c.name ?? html`<span class="sub"><code>${c.clientId}</code></span>`}</a>${c.name ? html`<span class="sub"><code>${c.clientId}</code></span>` : ''}<span class="sub">${KIND_LABELS[c.kind]} · ${c.type} (${c.tokenEndpointAuthMethod})</span></td>
<td>${when(c.lastUsedAt)}</td><td>${c.people}</td></tr>`,
  );
  return html`<div class="table-scroll" tabindex="0"><table data-testid="clients"><caption>OAuth clients (${clients.length})</caption><thead><tr><th scope="col">Client, kind and type</th><th scope="col">Last used</th><th scope="col">People connected</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

const list = (items: string[], none = 'none') => (items.length ? html`${items.map((v, i) => html`${i ? html`<br>` : ''}<code>${v}</code>`)}` : html`<span class="muted">${none}</span>`);

/** One client's metadata, as a definition list. */
export function clientDetails(c: ClientSummary): Html {
  const row = (label: string, value: Html | string, id: string) => html`<dt>${label}</dt><dd data-testid="detail-${id}">${value}</dd>`;
  return html`<dl data-testid="client-details">
${row('Client ID', html`<code>${c.clientId}</code>`, 'client-id')}
${row('Kind', KIND_LABELS[c.kind], 'kind')}
${row('Type', c.type, 'type')}
${row('Token endpoint authentication', c.tokenEndpointAuthMethod, 'auth-method')}
${c.jwksUri ? row('JWKS URL', html`<code>${c.jwksUri}</code>`, 'jwks-uri') : ''}
${row('Grant types', list(c.grantTypes), 'grants')}
${row('Redirect URIs', list(c.redirectUris), 'redirect-uris')}
${row('Allowed applications', list(c.applications, 'every application'), 'applications')}
${row('Allowed scopes', list(c.scopes, 'no limit of its own'), 'scopes')}
${c.resourceServers.length ? row('May introspect tokens for', list(c.resourceServers), 'resource-servers') : ''}
${row('Registered', when(c.createdAt, 'unknown'), 'created')}
${row('Last used', when(c.lastUsedAt), 'last-used')}
${row('People connected', String(c.people), 'people')}
</dl>`;
}

/** The secret just made: shown this once. */
export function secretShown(secret: string): Html {
  return html`<section class="notice" data-testid="secret-shown"><p>The client secret is shown only now: copy it into the client's configuration. Only its hash is kept.</p>
<code class="secret" data-testid="client-secret">${secret}</code></section>`;
}

/** The actions on a stored client (a metadata-document client is not stored: nothing to act on). */
export function clientActions(deps: WebDeps, c: WebContext, client: ClientSummary): Html {
  if (client.kind === 'metadata-document') return html`<p class="muted">A metadata-document client is described by the document at its client ID; Portcullis keeps nothing to change or delete.</p>`;
  const rotatable = client.tokenEndpointAuthMethod === 'client_secret_basic' || client.tokenEndpointAuthMethod === 'client_secret_post';
  return html`<div class="actions">
${rotatable ? html`<form method="post" action="${clientPath(deps, client.clientId, '/rotate')}" class="inline">${csrfField(deps, c, 'server:clients:rotate')}<button type="submit" data-testid="rotate-secret">Rotate the secret…</button></form>` : ''}
<form method="post" action="${clientPath(deps, client.clientId, '/delete')}" class="inline">${csrfField(deps, c, 'server:clients:delete')}<button type="submit" class="danger" data-testid="delete-client">Delete…</button></form>
</div>`;
}

/** What the registration form was filled with (sent back after a refusal). */
export interface ClientFormValues {
  name: string;
  tokenEndpointAuthMethod: string;
  jwksUri: string;
  redirectUris: string;
  grants: string[];
  applications: string[];
  scopes: string;
}

export const EMPTY_FORM: ClientFormValues = { name: '', tokenEndpointAuthMethod: 'none', jwksUri: '', redirectUris: '', grants: ['authorization_code'], applications: [], scopes: '' };

/** The problems of `path` (and below it), beside its field. */
function errorsFor(errors: FieldError[], path: string): Html | '' {
  const found = errors.filter((e) => e.path === path || e.path.startsWith(`${path}.`));
  return found.length ? html`<p class="error" id="error-${path}" data-testid="field-error" data-field="${path}">${found.map((e) => e.message).join('; ')}</p>` : '';
}

const described = (errors: FieldError[], path: string) =>
  errors.some((e) => e.path === path || e.path.startsWith(`${path}.`)) ? html` aria-invalid="true" aria-describedby="error-${path}"` : '';

const METHODS: [string, string][] = [
  ['none', 'Public: no secret (none)'],
  ['client_secret_basic', 'Secret (client_secret_basic)'],
  ['client_secret_post', 'Secret (client_secret_post)'],
  ['private_key_jwt', 'Signed JWT (private_key_jwt)'],
];
const GRANTS: [string, string][] = [
  ['authorization_code', 'People sign in (authorization code with PKCE)'],
  ['device_code', 'People sign in on another device (device code)'],
  ['client_credentials', 'A service acting for itself (client credentials)'],
];

function choiceBoxes(prefix: string, legend: string, choices: [string, string][], checked: string[], errors: FieldError[], path: string): Html {
  return html`<fieldset${described(errors, path)}><legend>${legend}</legend>
${choices.map(([value, label], i) => html`<label class="choice"><input type="checkbox" name="${prefix}${i}" value="${value}"${checked.includes(value) ? html` checked` : ''}> ${label}</label><br>`)}
${errorsFor(errors, path)}</fieldset>`;
}

/** The registration form. `applications`: [resource URL, name] of the applications served now. */
export function registerForm(deps: WebDeps, c: WebContext, applications: [string, string][], values: ClientFormValues, errors: FieldError[]): Html {
  const claimed = ['name', 'tokenEndpointAuthMethod', 'jwksUri', 'redirectUris', 'grants', 'applications', 'scopes', 'clientId'];
  const others = errors.filter((e) => !claimed.some((p) => e.path === p || e.path.startsWith(`${p}.`)));
  return html`<h2 id="register">Register a client</h2>
<form method="post" action="${serverPath(deps, 'clients')}" data-testid="register-client">
${csrfField(deps, c, 'server:clients:register')}
<label for="client-name">Name shown on the consent page</label><input id="client-name" name="name" type="text" required value="${values.name}"${described(errors, 'name')}>${errorsFor(errors, 'name')}
<label for="client-method">Type and token endpoint authentication</label>
<select id="client-method" name="tokenEndpointAuthMethod"${described(errors, 'tokenEndpointAuthMethod')}>${METHODS.map(([v, label]) => html`<option value="${v}"${v === values.tokenEndpointAuthMethod ? html` selected` : ''}>${label}</option>`)}</select>${errorsFor(errors, 'tokenEndpointAuthMethod')}
<p class="muted">A public client (a desktop or browser app) proves nothing and uses PKCE. A confidential one sends its secret in the Authorization header (basic) or the request body (post), or signs a JWT with a key it publishes at a JWKS URL (RFC 7523).</p>
<label for="client-jwks">JWKS URL (private_key_jwt only)</label><input id="client-jwks" name="jwksUri" type="text" inputmode="url" value="${values.jwksUri}"${described(errors, 'jwksUri')}>${errorsFor(errors, 'jwksUri')}
<label for="client-redirects">Redirect URIs, one per line</label><textarea id="client-redirects" name="redirectUris" rows="3"${described(errors, 'redirectUris')}>${values.redirectUris}</textarea>
<p class="muted">https; http only on localhost, 127.0.0.1 or [::1] (any port then matches); or a native app's reverse-domain scheme.</p>${errorsFor(errors, 'redirectUris')}
${choiceBoxes('grant', 'How it gets tokens', GRANTS, values.grants, errors, 'grants')}
${applications.length ? choiceBoxes('application', 'Applications it may get tokens for (none ticked: every one)', applications, values.applications, errors, 'applications') : ''}
<label for="client-scopes">Scopes it may be given at most, separated by spaces (empty: no limit of its own)</label><input id="client-scopes" name="scopes" type="text" value="${values.scopes}"${described(errors, 'scopes')}>${errorsFor(errors, 'scopes')}
${others.length ? html`<p class="error" data-testid="field-error" data-field="(form)">${others.map((e) => `${e.path}: ${e.message}`).join('; ')}</p>` : ''}
<div class="actions"><button class="primary" type="submit" data-testid="register">Register</button></div>
</form>`;
}
