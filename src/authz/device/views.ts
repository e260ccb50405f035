/**
 * The device verification pages (RFC 8628 §3.3), as views: pure functions from what a page shows
 * to its HTML. The tokens a form carries (CSRF, the code's ticket — tickets.ts) are computed by the
 * caller and handed in.
 */
import type { ProtectedResource } from '../../core/protected-resource.ts';
import { html, page, type Html } from '../../web/html.ts';
import { accountScopes, clientCard, scopeCheckbox, scopeText, staysConnectedNote, unverifiedWarning, type ClientView } from '../../web/approval.ts';
import { signInForm, type SignInForm } from '../../web/sign-in-form.ts';
import type { MemberOrg } from '../grant-org.ts';
import { formatUserCode } from './user-codes.ts';

/** The hidden fields of a form about one code: its CSRF token, the code and this browser's ticket. */
export interface CodeForm {
  userCode: string;
  csrf: string;
  ticket: string;
}

function alert(error: string | undefined): Html | '' {
  return error ? html`<p class="error" role="alert">${error}</p>` : '';
}

function hiddenFields(form: CodeForm): Html {
  return html`<input type="hidden" name="csrf" value="${form.csrf}">
<input type="hidden" name="user_code" value="${formatUserCode(form.userCode)}">
<input type="hidden" name="ticket" value="${form.ticket}">`;
}

/** Wait times as a person reads them. */
export function plainWait(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

export function codeEntryPage(view: { base: string; csrf: string; error?: string; value?: string }): string {
  const { base } = view;
  return page({
    title: 'Connect a device',
    base,
    body: html`<h1>Connect a device</h1>
<p>Enter the code shown on your device or terminal.</p>
${alert(view.error)}
<form id="device-code" method="post" action="${base}/device">
<input type="hidden" name="csrf" value="${view.csrf}">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="BCDF-GHJK" required autofocus value="${view.value ?? ''}">
<div class="actions"><button class="primary" type="submit">Continue</button></div>
</form>`,
  });
}

export function codeNoLongerValidPage(base: string, why: 'expired' | 'used'): string {
  const text = why === 'expired' ? 'This code has expired.' : 'This code has already been used.';
  return page({
    title: 'Code no longer valid',
    base,
    id: 'device-expired',
    body: html`<h1>${text}</h1><p>Start the sign-in again on your device to get a new code.</p>`,
  });
}

/** Sign in (or, `again`, confirm a sign-in that is too old for a step-up scope) to connect the device. */
export function signInPage(view: { base: string; form: CodeForm; error?: string; email?: string; again?: boolean; sso?: SignInForm['sso']; passkey?: SignInForm['passkey'] }): string {
  const { base, form } = view;
  const shownCode = formatUserCode(form.userCode);
  const title = view.again ? 'Confirm it is you' : 'Sign in';
  return page({
    title,
    base,
    body: html`<h1>${title}</h1>
${view.again
  ? html`<p>The device showing <strong class="user-code">${shownCode}</strong> asks for actions that need a recent sign-in. Enter your password again to continue.</p>`
  : html`<p>to connect the device showing <strong class="user-code">${shownCode}</strong></p>`}
${signInForm({ id: 'device-login', action: `${base}/device/login`, hidden: hiddenFields(form), email: view.email, error: view.error, sso: view.sso, passkey: view.passkey, forgot: view.again ? undefined : `${base}/forgot-password?back=${encodeURIComponent(`${base}/device?user_code=${shownCode}`)}` })}`,
  });
}

/** The confirmation: which client asks, the code to compare with the device, the permissions and the orgs. */
export interface ConfirmView {
  base: string;
  form: CodeForm;
  client: ClientView;
  userEmail: string;
  /** The address the device request came from, when the engine recorded one. */
  requestIp: string | undefined;
  resource: ProtectedResource | undefined;
  /** Scopes the user's role allows in at least one offered organization. */
  shown: string[];
  oidcScopes: string[];
  offered: MemberOrg[];
  staysConnectedDays: number;
  error?: string;
}

export function confirmPage(view: ConfirmView): string {
  const { client } = view;
  const body = html`${clientCard(client, `Connect ${client.name}?`, view.userEmail)}
${unverifiedWarning(client)}
<p>Check that your device shows this code:</p>
<p class="user-code">${formatUserCode(view.form.userCode)}</p>
${alert(view.error)}
<p class="muted">If it does not, or you did not start a sign-in on a device just now, choose Deny: someone may be trying to get you to approve their device.${view.requestIp !== undefined ? html` The request came from ${view.requestIp}.` : ''}</p>
${view.offered.length === 0 ? denyOnlyForm(view) : decisionForm(view)}`;
  return page({ title: `Connect ${client.name}?`, base: view.base, body });
}

/** No organization of the user lets the client act for it: the only way on is Deny. */
function denyOnlyForm(view: ConfirmView): Html {
  return html`<p class="error" role="alert">None of your organizations allows ${view.client.name} to act for it.</p>
<form id="device-confirm" method="post" action="${view.base}/device/confirm">
${hiddenFields(view.form)}
<div class="actions"><button type="submit" name="decision" value="deny">Deny</button></div>
</form>`;
}

function decisionForm(view: ConfirmView): Html {
  const { client, offered, resource } = view;
  return html`<form id="device-confirm" method="post" action="${view.base}/device/confirm">
${hiddenFields(view.form)}
${offered.length > 1 ? orgPicker(offered) : ''}
${resource ? resourceScopes(resource, view.shown, offered.length > 1) : ''}
${staysConnectedNote(client, view.staysConnectedDays)}
${accountScopes(view.oidcScopes)}
<div class="actions">
<button class="primary" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`;
}

function orgPicker(orgs: MemberOrg[]): Html {
  return html`<fieldset class="orgs"><legend>Act for which organization?</legend>
${orgs.map((org, i) => html`<div><label><input type="radio" name="org" value="${org.id}"${i === 0 ? html` checked` : ''}> ${org.name}</label></div>`)}
</fieldset>`;
}

/** The resource's permissions asked for, ticked; with several orgs, a note that the role decides. */
function resourceScopes(resource: ProtectedResource, shown: string[], severalOrgs: boolean): Html {
  return html`<h2>${resource.name}</h2>
<p class="muted">${resource.url}</p>
${shown.length ? scopeList(resource, shown, severalOrgs) : html`<p class="muted">Your role gives no permission this application asks for.</p>`}`;
}

function scopeList(resource: ProtectedResource, shown: string[], severalOrgs: boolean): Html {
  return html`<ul class="scopes">
${shown.map((scope) => scopeCheckbox(resource, scope, scope))}
</ul>
${severalOrgs ? html`<p class="muted">Permissions your role in the organization you choose does not give are left out.</p>` : ''}`;
}

export function formExpiredPage(base: string): string {
  return page({ title: 'Form expired', base, body: html`<h1>This form has expired</h1><p>Go back, reload the page and try again.</p>` });
}

/** What an approval gave: the application, its permissions in words, the organization. */
export interface GrantedView {
  resource: ProtectedResource | undefined;
  scopes: string[];
  oidcScopes: string[];
  orgName: string;
}

/** After approving, the person sees what they granted and where to take it back (RFC 8628 §3.3 leaves this page to us). */
function grantedSummary(base: string, clientName: string, granted: GrantedView): Html {
  const { resource, scopes } = granted;
  return html`<p data-testid="granted-org">${clientName} acts for <strong>${granted.orgName}</strong>${resource ? html` in <strong data-testid="granted-application">${resource.name}</strong>` : ''}.</p>
${resource && scopes.length
  ? html`<h2>It may</h2><ul class="scopes" data-testid="granted-scopes">${scopes.map((s) => html`<li data-scope="${s}">${scopeText(resource, s)}</li>`)}</ul>`
  : html`<p class="muted" data-testid="granted-scopes">No permission in an application was granted.</p>`}
${accountScopes(granted.oidcScopes)}
<p data-testid="undo">Changed your mind? Disconnect it on <a href="${base}/account/apps">Connected apps</a>: its access ends at once.</p>`;
}

export function resultPage(base: string, result: 'approved' | 'denied', clientName: string, granted?: GrantedView): string {
  const body =
    result === 'approved'
      ? html`<h1>Device connected</h1><p>${clientName} can now act for you. You can return to your device.</p>${granted ? grantedSummary(base, clientName, granted) : ''}`
      : html`<h1>Request denied</h1><p>${clientName} was not connected. You can return to your device.</p>`;
  return page({ title: result === 'approved' ? 'Device connected' : 'Request denied', base, id: `device-${result}`, body });
}
