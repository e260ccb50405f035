/**
 * The one sign-in form of every page that asks for a password to sign in: the console's /login,
 * the authorization interaction (and its step-up), the device flow, and an invitation for someone
 * who already has an account. Each page says what signing in is for and where the form goes;
 * the fields, the focus and the error above them are the same everywhere, so a password manager
 * (autocomplete username / current-password) and a screen reader meet one form.
 */
import { html, type Html } from './html.ts';

export interface SignInForm {
  /** Where the form posts. */
  action: string;
  /** The CSRF token and whatever else the page carries through (hidden inputs). */
  hidden: Html;
  /** Known already (a step-up, an invitation): filled in, and the cursor waits in the password field. */
  email?: string;
  /** The address cannot be changed here (an invitation is for one address). */
  emailFixed?: boolean;
  error?: string;
  submit?: string;
  /** More buttons beside the submit button (e.g. Cancel, posting another form). */
  more?: Html;
  id?: string;
  /**
   * Single sign-on (web/sso-routes.ts): "Continue with …" buttons, and the password may be left
   * empty — the e-mail alone then goes to the IdP that owns its domain (home-realm discovery).
   */
  sso?: { buttons: Html | ''; emailFirst: boolean };
  /** "Sign in with a passkey" (web/passkey-button.ts), continuing where the password would have. */
  passkey?: Html;
  /**
   * Where "Forgot password?" goes (console/account/forgot-password.ts, with `?back=` the page to
   * return to): every page that asks for a password offers it, not only the console's /login.
   */
  forgot?: string;
}

export function signInForm(form: SignInForm): Html {
  const email = form.email ?? '';
  return html`${form.error ? html`<p class="error" role="alert">${form.error}</p>` : ''}
<form${form.id ? html` id="${form.id}"` : ''} method="post" action="${form.action}">
${form.hidden}
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required${form.emailFixed ? html` readonly` : ''}${email ? '' : html` autofocus`} value="${email}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"${form.sso?.emailFirst ? '' : html` required`}${email ? html` autofocus` : ''}>${form.sso?.emailFirst ? html`
<p class="muted">Company single sign-on: leave the password empty.</p>` : ''}
<div class="actions"><button class="primary" type="submit">${form.submit ?? 'Sign in'}</button>${form.more ?? ''}</div>
</form>${form.forgot ? html`
<p class="muted"><a href="${form.forgot}" data-testid="forgot-password">Forgot password?</a></p>` : ''}${form.sso?.buttons ?? ''}${form.passkey ?? ''}`;
}
