/**
 * What the TOTP pages show, at /account/mfa and at a sign-in that must enrol first
 * (second-factor-page.ts): the QR code (an inline SVG made by `qrcode` from the otpauth URI, no
 * script, so the CSP stays closed), the secret as text for typing in by hand, the code field, and
 * the recovery codes — rendered once, in the answer to the form that made them, never stored.
 */
import QRCode from 'qrcode';
import { Html, html } from '../web/html.ts';
import { csrfToken, type WebContext, type WebDeps } from '../web/pages.ts';

export interface EnrolmentForm {
  secret: string;
  uri: string;
  action: string;
  purpose: string;
  error?: { code: string; text: string };
}

/** Group the secret in fours so it can be typed from the screen. */
const spaced = (secret: string) => secret.replace(/(.{4})/g, '$1 ').trim();

export async function enrolmentBody(deps: WebDeps, c: WebContext, form: EnrolmentForm): Promise<Html> {
  // The SVG comes from the library, built from our own URI: markup we trust like our templates.
  const svg = new Html(await QRCode.toString(form.uri, { type: 'svg', margin: 2, width: 200 }));
  return html`<ol>
<li>Open an authenticator app (Google Authenticator, 1Password, Authy, …) and scan this code:
<div class="qr" data-testid="totp-qr">${svg}</div></li>
<li>Or enter this key by hand (time-based, 6 digits): <code data-testid="totp-secret" data-secret="${form.secret}">${spaced(form.secret)}</code></li>
<li>Type the 6-digit code the app shows, to confirm it works.</li>
</ol>
${codeForm(deps, c, { action: form.action, purpose: form.purpose, submit: 'Turn on', error: form.error, label: 'Code from the app' })}`;
}

export interface CodeForm {
  action: string;
  purpose: string;
  submit: string;
  label: string;
  name?: string;
  autocomplete?: string;
  error?: { code: string; text: string };
}

/** One field for a code (TOTP, recovery code or — on the account page — the password), with its error. */
export function codeForm(deps: WebDeps, c: WebContext, form: CodeForm): Html {
  const name = form.name ?? 'code';
  return html`${form.error ? html`<p class="error" role="alert" data-testid="problem" data-code="${form.error.code}">${form.error.text}</p>` : ''}
<form method="post" action="${form.action}">
<input type="hidden" name="csrf" value="${csrfToken(deps, c, form.purpose)}">
<label for="${name}">${form.label}</label>
<input id="${name}" name="${name}" type="${name === 'password' ? 'password' : 'text'}" autocomplete="${form.autocomplete ?? 'one-time-code'}" required autofocus>
<div class="actions"><button class="primary" type="submit">${form.submit}</button></div>
</form>`;
}

/** The recovery codes, shown this once. */
export function recoveryCodesBody(codes: string[], continueTo: { href: string; label: string }): Html {
  return html`<h2>Your recovery codes</h2>
<p>Each code signs you in once if you lose your authenticator. Keep them somewhere safe: they are shown only now.</p>
<ul class="recovery-codes" data-testid="recovery-codes">${codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>
<p><a class="button primary" href="${continueTo.href}" data-testid="continue">${continueTo.label}</a></p>`;
}
