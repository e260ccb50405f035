/**
 * The parts of the pages that ask a person to approve a client — the consent page and the device
 * confirmation page — written once: the client card (name, logo, who it is signed in as), the
 * warning for a client Portcullis cannot vouch for, how long an approval lasts, and the permissions
 * in plain English with the tools each enables.
 */
import type { Config } from '../core/config.ts';
import type { ProtectedResource } from '../core/protected-resource.ts';
import { html, type Html } from './html.ts';

/** The client asking for access, as a person is shown it before approving. */
export interface ClientView {
  id: string;
  name: string;
  logo: string | undefined;
  /** Registered by an administrator; not by itself (dynamic registration) or by a metadata document. */
  verified: boolean;
  registeredBy: string;
  /** It will get a refresh token, so it keeps access without asking again. */
  staysConnected: boolean;
}

/** The heading card: logo, the question, and who is signed in. */
export function clientCard(client: Pick<ClientView, 'name' | 'logo'>, heading: string, userEmail: string): Html {
  return html`<div class="client">
${client.logo ? html`<img src="${client.logo}" alt="">` : ''}
<div><h1>${heading}</h1>
<p class="muted">Signed in as ${userEmail}</p></div>
</div>`;
}

/** The warning above an approval for a client Portcullis cannot vouch for; nothing for a verified one. */
export function unverifiedWarning(client: Pick<ClientView, 'verified' | 'registeredBy'>): Html | '' {
  return client.verified
    ? ''
    : html`<p class="warning" role="note"><strong>Unverified application.</strong> It registered ${client.registeredBy}; Portcullis cannot vouch for who runs it. Only continue if you started this from an application you trust.</p>`;
}

/** How long an approved client that gets refresh tokens stays connected, in whole days. */
export function staysConnectedDays(config: Config): number {
  return Math.round(config.tokens.refreshTokenTtl / 86400);
}

/** Said before the decision when the client will keep access (it gets refresh tokens). */
export function staysConnectedNote(client: Pick<ClientView, 'name' | 'staysConnected'>, days: number): Html | '' {
  return client.staysConnected ? html`<p class="muted">If you approve, ${client.name} stays connected for up to ${days} days or until you disconnect it.</p>` : '';
}

/** The OpenID scopes, as a person reads them. */
export const OIDC_SCOPE_TEXT: Readonly<Record<string, string>> = {
  openid: 'Know who you are (your account id)',
  email: 'See your e-mail address',
  profile: 'See your name',
  offline_access: 'Stay connected while you are away (keep access without asking you again)',
};

/** "Your account": what the OpenID scopes asked for reveal; nothing when none has a text. */
export function accountScopes(oidcScopes: readonly string[]): Html | '' {
  const shown = oidcScopes.filter((s) => OIDC_SCOPE_TEXT[s]);
  return shown.length ? html`<h2>Your account</h2><ul class="scopes">${shown.map((s) => html`<li>${OIDC_SCOPE_TEXT[s]!}</li>`)}</ul>` : '';
}

/** The tools of a resource that need exactly this scope. */
export function toolsNeeding(resource: Pick<ProtectedResource, 'toolScopes'>, scope: string): string[] {
  return Object.entries(resource.toolScopes)
    .filter(([, needed]) => needed === scope)
    .map(([tool]) => tool);
}

/** "90 seconds", "5 minutes", "2 hours". */
export function plainDuration(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (seconds % 3600 === 0) return unit(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return unit(seconds / 60, 'minute');
  return unit(seconds, 'second');
}

/** What a scope of a resource lets a client do; the step-up scope also says how long it lasts. */
export function scopeText(resource: ProtectedResource, scope: string): string {
  const description = resource.scopes.find((s) => s.name === scope)?.description;
  if (scope !== resource.stepUpScope) return description ?? scope;
  const how = resource.stepUpMfa ? 'sign in with your second factor' : 'sign in';
  const lasting = resource.stepUpMaxAge === undefined ? '' : ` — for ${plainDuration(resource.stepUpMaxAge)} after you ${how}, then you are asked to sign in again`;
  return `${description ?? `Confirm it is you before sensitive actions in ${resource.name}`}${lasting}`;
}

/** The scope's name and the tools it enables, under its text. */
export function scopeDetail(resource: ProtectedResource | undefined, scope: string): Html {
  const tools = resource ? toolsNeeding(resource, scope) : [];
  return html`<span class="tools"><code>${scope}</code>${tools.length ? html` · tools: ${tools.join(', ')}` : ''}</span>`;
}

/** A permission the person may grant: ticked, posted as `grant` = `value`. */
export function scopeCheckbox(resource: ProtectedResource | undefined, scope: string, value: string): Html {
  return html`<li><label><input type="checkbox" name="grant" value="${value}" checked> ${resource ? scopeText(resource, scope) : scope}</label>
${scopeDetail(resource, scope)}</li>`;
}
