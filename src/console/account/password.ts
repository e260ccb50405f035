/**
 * Passwords: changing yours (`/account/password`, the current one required), and resetting a
 * forgotten one by one-time link (`/reset-password?token=…`, identity/password-reset.ts).
 *
 * "Forgot password?" (`/forgot-password`) e-mails a link when SMTP is configured; otherwise it
 * tells the person to ask an administrator of their organization (who can make a link on the
 * members page). It answers the same page whether or not the address has an account, and does
 * the lookup-and-send after answering, so neither the words nor the timing tell them apart (no
 * account enumeration). Requests are limited per address and per client IP.
 */
import type { Hono } from 'hono';
import { changePassword } from '../../identity/account.ts';
import type { Mailer } from '../../identity/mailer.ts';
import { completePasswordReset, issuePasswordReset, resetLinkState } from '../../identity/password-reset.ts';
import { AttemptLimiter } from '../../limits/attempts.ts';
import { audit } from './audit.ts';
import { html, page } from '../../web/html.ts';
import { MIN_PASSWORD_LENGTH, passwordProblem } from '../pages.ts';
import { clearSessionCookie, clientIp, csrfValid, field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { csrfField, errorPage, formExpired, problem, requireSignedIn, signedInForm, signedInPage } from './layout.ts';
import type { SignedIn } from '../../web/session.ts';

export function passwordRoutes(app: Hono<WebEnv>, deps: WebDeps & { mailer?: Mailer }): void {
  const base = deps.base;
  const resetDeps = { store: deps.store, pepper: deps.pepper, now: deps.now, publicUrl: deps.config.publicUrl };

  const newPasswordFields = html`<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" required>
<label for="confirm">Repeat the new password</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>`;

  // ---- change (signed in) ----
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
${newPasswordFields}
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
    const wait = deps.limits.account.retryAfter(key);
    if (wait > 0) {
      c.header('retry-after', String(wait));
      return c.html(await changeForm(c, me, 'too_many_attempts', `Too many wrong passwords. Try again in ${wait} seconds.`), 429);
    }
    const weak = passwordProblem(field(form, 'password'), field(form, 'confirm'));
    if (weak) return c.html(await changeForm(c, me, 'password_rejected', weak), 400);
    const outcome = await changePassword(deps, me.user, field(form, 'current'), field(form, 'password'), me.session.id);
    if (outcome === 'wrong_current') {
      deps.limits.account.fail(key);
      return c.html(await changeForm(c, me, 'wrong_password', 'Your current password is not right.'), 400);
    }
    deps.limits.account.succeed(key);
    await audit(deps, { kind: 'account.password.changed', actor: me.user.id, subject: me.user.id });
    deps.log.info({ event: 'password.changed', user: me.user.id }, 'password changed');
    return c.redirect(`${base}/account?done=password_changed`, 303);
  });

  // ---- reset by one-time link ----
  const linkGone = (c: WebContext, code: 'link_expired' | 'link_invalid' | 'link_used') =>
    errorPage(
      deps,
      c,
      410,
      code,
      'This reset link is no longer valid',
      code === 'link_expired'
        ? 'It expired: reset links work for one hour. Ask for a new one.'
        : 'It was used already, or it is not a reset link. Ask for a new one.',
    );

  const resetForm = (c: WebContext, token: string, code?: string, text?: string) =>
    page({
      title: 'Choose a new password',
      base,
      body: html`<h1>Choose a new password</h1>
<p class="muted">This link works once. Everywhere you are signed in is signed out afterwards.</p>
${problem(code, text)}
<form method="post" action="${base}/reset-password">
${csrfField(deps, c, 'reset-password')}
<input type="hidden" name="token" value="${token}">
${newPasswordFields}
<div class="actions"><button class="primary" type="submit">Set password</button></div>
</form>`,
    });

  app.get('/reset-password', (c) => {
    const token = c.req.query('token') ?? '';
    const state = resetLinkState(token, deps.now());
    if (state === 'malformed') return linkGone(c, 'link_invalid');
    if (state === 'expired') return linkGone(c, 'link_expired');
    return c.html(resetForm(c, token));
  });

  app.post('/reset-password', async (c) => {
    const form = await c.req.parseBody();
    const token = field(form, 'token');
    if (!csrfValid(deps, c, form.csrf, 'reset-password')) return formExpired(deps, c);
    const state = resetLinkState(token, deps.now());
    if (state !== 'usable') return linkGone(c, state === 'expired' ? 'link_expired' : 'link_invalid');
    // Checked before the link is consumed: a typo does not burn it.
    const weak = passwordProblem(field(form, 'password'), field(form, 'confirm'));
    if (weak) return c.html(resetForm(c, token, 'password_rejected', weak), 400);
    const outcome = await completePasswordReset(resetDeps, token, field(form, 'password'));
    if (outcome.kind === 'gone') return linkGone(c, 'link_used');
    clearSessionCookie(c);
    await audit(deps, { kind: 'account.password.reset', actor: outcome.userId, subject: outcome.userId });
    deps.log.info({ event: 'password.reset', user: outcome.userId }, 'password reset by link');
    return c.html(
      page({
        title: 'Password changed',
        base,
        body: html`<h1 data-testid="reset-done">Your password was changed</h1>
<p>You were signed out everywhere. Sign in with your new password.</p>
<p><a class="button" href="${base}/login">Sign in</a></p>`,
      }),
    );
  });

  // ---- forgot password: a link by e-mail ----
  // Every request counts (not only failures): three per address and twenty per IP, then a pause
  // (the limiter locks once a key has more than `free` attempts inside the window).
  const perAddress = new AttemptLimiter({ free: 2, window: 3600, base: 300, maxLock: 3600 }, deps.now);
  const perIp = new AttemptLimiter({ free: 19, window: 3600, base: 60, maxLock: 3600 }, deps.now);
  const mailer = deps.mailer;

  const forgotPage = (c: WebContext, body: ReturnType<typeof html>) => page({ title: 'Forgot your password?', base, body });

  app.get('/forgot-password', (c) => {
    if (!mailer) {
      return c.html(
        forgotPage(
          c,
          html`<h1>Forgot your password?</h1>
<p data-testid="ask-admin">Ask an administrator of your organization for a reset link: they can make one for you from the members page.</p>
<p><a href="${base}/login">Back to sign-in</a></p>`,
        ),
      );
    }
    return c.html(
      forgotPage(
        c,
        html`<h1>Forgot your password?</h1>
<p>Enter the e-mail address you sign in with. If it has an account, we send it a link to choose a new password (it works once, for an hour).</p>
<form method="post" action="${base}/forgot-password">
${csrfField(deps, c, 'forgot-password')}
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required autofocus>
<div class="actions"><button class="primary" type="submit">Send the link</button></div>
</form>`,
      ),
    );
  });

  app.post('/forgot-password', async (c) => {
    if (!mailer) return c.redirect(`${base}/forgot-password`, 303);
    const form = await c.req.parseBody();
    if (!csrfValid(deps, c, form.csrf, 'forgot-password')) return formExpired(deps, c);
    const email = field(form, 'email').trim().toLowerCase().slice(0, 320);
    const ip = clientIp(deps, c);
    const wait = Math.max(perAddress.retryAfter(email), perIp.retryAfter(ip));
    if (wait > 0) {
      c.header('retry-after', String(wait));
      return c.html(
        forgotPage(c, html`<h1 data-testid="error" data-code="too_many_attempts">Too many requests</h1><p>Try again in ${Math.ceil(wait / 60)} minutes.</p>`),
        429,
      );
    }
    perAddress.fail(email);
    perIp.fail(ip);
    // After the answer: an address with an account takes no longer to answer than one without.
    setImmediate(() => void sendResetLink(email).catch((err) => deps.log.warn({ err }, 'password reset e-mail failed')));
    return c.html(
      forgotPage(
        c,
        html`<h1 data-testid="reset-requested">Check your e-mail</h1>
<p>If an account uses that address, a link to choose a new password is on its way. It works once, for an hour.</p>
<p><a href="${base}/login">Back to sign-in</a></p>`,
      ),
    );
  });

  async function sendResetLink(email: string): Promise<void> {
    if (!mailer || !/^[^\s@]+@[^\s@]+$/.test(email)) return;
    const user = await deps.store.users.findByEmail(email);
    if (!user) return;
    const issued = await issuePasswordReset(resetDeps, user.id);
    if (!issued) return;
    await mailer.send({
      to: user.email,
      subject: 'Reset your Portcullis password',
      text: `Someone (hopefully you) asked to reset the password of ${user.email} on ${deps.config.publicUrl}.\n\nChoose a new password here (the link works once, for an hour):\n${issued.link}\n\nIf you did not ask for this, ignore this message: your password stays as it is.\n`,
    });
    deps.log.info({ event: 'password.reset_sent', user: user.id }, 'password reset link e-mailed');
  }
}
