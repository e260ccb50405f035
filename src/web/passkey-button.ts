/**
 * The passkey boxes our pages show (console/assets/passkeys.js drives them): "Sign in with a
 * passkey" under every sign-in form (web/sign-in-form.ts), "Use a passkey" at the second factor,
 * and "Add a passkey" on the account page. A box is hidden until the script finds WebAuthn in the
 * browser, so without script the page is the password form it always was.
 *
 * Where a password-less sign-in continues is decided by the page that shows the button, not by the
 * browser: the continuation (`next`, and the interaction's `resume` marker) is bound into the
 * button's CSRF token, so a posted continuation the page did not offer is refused like a forged form.
 */
import { html, type Html } from './html.ts';
import { csrfToken, csrfValid, type WebContext, type WebDeps } from './pages.ts';

/** Where a sign-in goes next: a path here, and the marker the page it goes to asks for (web/second-factor.ts). */
export interface PasskeyContinuation {
  next: string;
  resume?: string;
}

const signInPurpose = (then: PasskeyContinuation) => `passkey-signin:${then.next}\n${then.resume ?? ''}`;

/** Is `form.csrf` the token a sign-in page made for exactly this continuation? */
export function passkeySignInValid(deps: WebDeps, c: WebContext, form: { csrf?: unknown }, then: PasskeyContinuation): boolean {
  return csrfValid(deps, c, form.csrf, signInPurpose(then));
}

/** The two scripts: the WebAuthn helper bundle and ours, both from this origin (deferred: after the page). */
export function passkeyScripts(base: string): Html {
  return html`<script defer src="${base}/assets/webauthn.js"></script><script defer src="${base}/assets/passkeys.js"></script>`;
}

interface BoxOptions {
  kind: 'authenticate' | 'register';
  options: string;
  action: string;
  csrf: string;
  label: string;
  testId: string;
  then?: PasskeyContinuation;
  /** Inside the box, before the button (the new passkey's name). */
  fields?: Html;
  /** A line above the button, saying what it is for. */
  lead?: string;
}

function box(base: string, box: BoxOptions): Html {
  return html`<div class="passkey" data-passkey="${box.kind}" data-options="${box.options}" data-action="${box.action}" data-csrf="${box.csrf}"${box.then ? html` data-next="${box.then.next}" data-resume="${box.then.resume ?? ''}"` : ''} hidden>
${box.lead ? html`<p class="muted">${box.lead}</p>` : ''}${box.fields ?? ''}<div class="actions"><button type="button" data-testid="${box.testId}">${box.label}</button></div>
</div>${passkeyScripts(base)}`;
}

/** Sign in with a passkey (discoverable credential, no e-mail typed), continuing to `then`. */
export function passkeySignInButton(deps: WebDeps, c: WebContext, then: PasskeyContinuation): Html {
  const base = deps.base;
  return box(base, {
    kind: 'authenticate',
    options: `${base}/passkeys/sign-in/options`,
    action: `${base}/passkeys/sign-in`,
    csrf: csrfToken(deps, c, signInPurpose(then)),
    // The button's name leaves out "Sign in": the password form's button is the one called that
    // (assistive technology and tests find it by name; two "Sign in…" buttons would be ambiguous).
    lead: 'Or sign in with a passkey: nothing to type.',
    label: 'Use a passkey',
    testId: 'passkey-sign-in',
    then,
  });
}

/** CSRF purposes of the passkey boxes on the second-factor and enrolment pages (console/passkey-sign-in.ts). */
export const SECOND_FACTOR_PASSKEY_PURPOSE = 'signin-second-factor-passkey';
export const ENROL_PASSKEY_PURPOSE = 'signin-enrol-passkey';

/** "Use a passkey" at the second step of a password sign-in. */
export function passkeySecondFactorButton(deps: WebDeps, c: WebContext): Html {
  const base = deps.base;
  return box(base, {
    kind: 'authenticate',
    options: `${base}/sign-in/second-factor/passkey/options`,
    action: `${base}/sign-in/second-factor/passkey`,
    csrf: csrfToken(deps, c, SECOND_FACTOR_PASSKEY_PURPOSE),
    label: 'Use a passkey',
    testId: 'passkey-second-factor',
  });
}

/** "Add a passkey", with a name field: at /account/mfa, and at a sign-in that must enrol first. */
export function passkeyRegisterButton(deps: WebDeps, c: WebContext, at: { options: string; action: string; purpose: string }): Html {
  return box(deps.base, {
    kind: 'register',
    options: at.options,
    action: at.action,
    csrf: csrfToken(deps, c, at.purpose),
    label: 'Add a passkey',
    testId: 'passkey-add',
    fields: html`<label for="passkey-name">Name of the new passkey</label>
<input id="passkey-name" name="name" type="text" maxlength="60" placeholder="Work laptop" autocomplete="off">`,
  });
}
