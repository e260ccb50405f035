/**
 * `/account/password`: changing your password, the current one required (identity/account.ts
 * changePassword: the password policy, then the current password; your other browsers are signed
 * out).
 */
import type { Hono } from 'hono';
import { changePassword } from '../../identity/account.ts';
import { audit } from './audit.ts';
import { html } from '../../web/html.ts';
import { field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import { newPasswordFields, setNewPassword } from '../password-fields.ts';
import { csrfField, problem, requireSignedIn, signedInForm, signedInPage } from './layout.ts';

export function passwordChangeRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const base = deps.base;

  const changeForm = (c: WebContext, me: SignedIn, code?: string, text?: string) =>
    signedInPage(deps, c, me, {
      title: 'Change your password',
      active: 'password',
      body: html`<h1>Change your password</h1>
<p class="muted">Your other browsers are signed out when you change it. Connected apps stay connected.</p>
${problem(code, text)}
<form method="post" action="${base}/account/password">
${csrfField(deps, c, 'account:password')}
<label for="current">Current password</label>
<input id="current" name="current" type="password" autocomplete="current-password" required>
${newPasswordFields('new')}
<div class="actions"><button class="primary" type="submit">Change password</button></div>
</form>`,
    });

  app.get('/account/password', async (c) => {
    const me = await requireSignedIn(deps, c);
    if (me instanceof Response) return me;
    return c.html(await changeForm(c, me));
  });

  app.post('/account/password', async (c) => {
    const posted = await signedInForm(deps, c, 'account:password');
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    // The current password is guessable by whoever holds a stolen session: the same throttle as sign-in.
    const key = me.user.email.toLowerCase();
    const wait = await deps.limits.account.retryAfter(key);
    if (wait > 0) {
      c.header('retry-after', String(wait));
      return c.html(await changeForm(c, me, 'too_many_attempts', `Too many wrong passwords. Try again in ${wait} seconds.`), 429);
    }
    const set = await setNewPassword(form, (password) => changePassword(deps, me.user, field(form, 'current'), password, me.session.id));
    if (!set.ok) return c.html(await changeForm(c, me, 'password_rejected', set.problem), 400);
    if (set.value === 'wrong_current') {
      await deps.limits.account.fail(key);
      return c.html(await changeForm(c, me, 'wrong_password', 'Your current password is not right.'), 400);
    }
    await deps.limits.account.succeed(key);
    await audit(deps, { kind: 'account.password.changed', actor: me.user.id, subject: me.user.id });
    deps.log.info({ event: 'password.changed', user: me.user.id }, 'password changed');
    return c.redirect(`${base}/account?done=password_changed`, 303);
  });
}
