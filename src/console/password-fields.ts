/**
 * The two fields every form that sets a password shares (first-run setup, accepting an invitation
 * with a new account, changing yours, resetting it by link), and their confirmation — a form's
 * concern. The policy itself is identity/passwords.ts's, enforced by the services; the browser
 * gets its minimum length as a hint only.
 */
import { MIN_PASSWORD_LENGTH } from '../identity/passwords.ts';
import { html, type Html } from '../web/html.ts';
import { field } from '../web/pages.ts';
import { formRefusal } from './refusals.ts';

/** `new`: "New password" (changing or resetting one); otherwise "Password" (a new account). */
export function newPasswordFields(kind: 'new' | 'first'): Html {
  const [password, confirm] = kind === 'new' ? ['New password', 'Repeat the new password'] : ['Password', 'Repeat the password'];
  return html`<label for="password">${password}</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" required>
<label for="confirm">${confirm}</label><input id="confirm" name="confirm" type="password" autocomplete="new-password" required>`;
}

export type PasswordSet<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Set the posted password with `set` (a service that applies the policy): first the confirmation,
 * then the service; either one's refusal comes back as the text to show above the form.
 */
export async function setNewPassword<T>(form: Record<string, unknown>, set: (password: string) => Promise<T>): Promise<PasswordSet<T>> {
  if (field(form, 'password') !== field(form, 'confirm')) return { ok: false, problem: 'The two passwords differ.' };
  try {
    return { ok: true, value: await set(field(form, 'password')) };
  } catch (err) {
    return { ok: false, problem: formRefusal(err).text };
  }
}
