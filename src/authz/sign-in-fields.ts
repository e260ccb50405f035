/**
 * The e-mail and password fields of our sign-in forms (the interaction's, the device flow's). The
 * focus goes to the first empty one: a step-up knows who is signing in, so the e-mail is filled in
 * and the cursor waits in the password field.
 */
import { html, type Html } from '../web/html.ts';

export function credentialFields(email: string): Html {
  return html`<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required ${email ? '' : html`autofocus `}value="${email}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${email ? html` autofocus` : ''}>`;
}
