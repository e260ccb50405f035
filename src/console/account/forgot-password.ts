/**
 * "Forgot password?" (`/forgot-password`) e-mails a one-time reset link (account/password-reset.ts)
 * when SMTP is configured; otherwise it tells the person to ask an administrator of their
 * organization (who can make a link on the members page). It answers the same page whether or
 * not the address has an account, and does the lookup-and-send after answering, so neither the
 * words nor the timing tell them apart (no account enumeration). Requests are limited per address
 * and per client IP. `?back=` (a path on this site: the authorization or device sign-in the
 * person came from) is where "Back to sign-in" goes, so after choosing a new password in the
 * e-mailed link's tab they can return to the sign-in they left and finish it.
 */
import type { Hono } from 'hono';
import type { Mailer } from '../../identity/mailer.ts';
import { mailPasswordReset, passwordResetDeps } from '../../identity/password-reset.ts';
import { AttemptLimiter, type AttemptPolicy } from '../../limits/attempts.ts';
import { html, page } from '../../web/html.ts';
import { clientIp, csrfValid, field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { csrfField, formExpired } from './layout.ts';

/**
 * Every request counts (not only failures): three per address and twenty per IP, then a pause
 * (the limiter locks once a key has more than `free` attempts inside the window).
 */
export const FORGOT_PASSWORD_POLICIES = {
  address: { free: 2, window: 3600, base: 300, maxLock: 3600 },
  ip: { free: 19, window: 3600, base: 60, maxLock: 3600 },
} satisfies Record<string, AttemptPolicy>;

/** Where "Back to sign-in" goes: only a path on this site (never `//host` or a scheme: no open redirect). */
export function backTo(base: string, value: string | undefined): string {
  return value && value.length < 500 && value.startsWith(`${base}/`) && /^\/(?![\/\\])[^\\\s]*$/.test(value) ? value : `${base}/login`;
}

export function forgotPasswordRoutes(app: Hono<WebEnv>, deps: WebDeps & { mailer?: Mailer }): void {
  const base = deps.base;
  const resetDeps = passwordResetDeps(deps);

  const perAddress = deps.limits.forgotAddress ?? new AttemptLimiter(FORGOT_PASSWORD_POLICIES.address, deps.now);
  const perIp = deps.limits.forgotIp ?? new AttemptLimiter(FORGOT_PASSWORD_POLICIES.ip, deps.now);
  const mailer = deps.mailer;
  const logSent = (userId: string | undefined) => {
    if (userId) deps.log.info({ event: 'password.reset_sent', user: userId }, 'password reset link e-mailed');
  };

  const forgotPage = (c: WebContext, body: ReturnType<typeof html>) => page({ title: 'Forgot your password?', base, body });

  app.get('/forgot-password', (c) => {
    const back = backTo(base, c.req.query('back'));
    if (!mailer) {
      return c.html(
        forgotPage(
          c,
          html`<h1>Forgot your password?</h1>
<p data-testid="ask-admin">Ask an administrator of your organization for a reset link: they can make one for you from the members page.</p>
<p><a href="${back}" data-testid="back-to-sign-in">Back to sign-in</a></p>`,
        ),
      );
    }
    return c.html(
      forgotPage(
        c,
        html`<h1>Forgot your password?</h1>
<p>Enter the e-mail address you sign in with. If it has an account, we send it a link to choose a new password (it works once, for an hour).</p>
<form method="post" action="${base}/forgot-password">
${csrfField(deps, c, 'forgot-password')}<input type="hidden" name="back" value="${back}">
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required autofocus>
<div class="actions"><button class="primary" type="submit">Send the link</button></div>
</form>
<p><a href="${back}" data-testid="back-to-sign-in">Back to sign-in</a></p>`,
      ),
    );
  });

  app.post('/forgot-password', async (c) => {
    if (!mailer) return c.redirect(`${base}/forgot-password`, 303);
    const form = await c.req.parseBody();
    if (!csrfValid(deps, c, form.csrf, 'forgot-password')) return formExpired(deps, c);
    const email = field(form, 'email').trim().toLowerCase().slice(0, 320);
    const ip = clientIp(deps, c);
    const wait = Math.max(...(await Promise.all([perAddress.retryAfter(email), perIp.retryAfter(ip)])));
    if (wait > 0) {
      c.header('retry-after', String(wait));
      return c.html(
        forgotPage(c, html`<h1 data-testid="error" data-code="too_many_attempts">Too many requests</h1><p>Try again in ${Math.ceil(wait / 60)} minutes.</p>`),
        429,
      );
    }
    await Promise.all([perAddress.fail(email), perIp.fail(ip)]);
    // After the answer: an address with an account takes no longer to answer than one without.
    setImmediate(() => void mailPasswordReset(resetDeps, mailer, email).then(logSent, (err) => deps.log.warn({ err }, 'password reset e-mail failed')));
    return c.html(
      forgotPage(
        c,
        html`<h1 data-testid="reset-requested">Check your e-mail</h1>
<p>If an account uses that address, a link to choose a new password is on its way. It works once, for an hour.</p>
<p>Open it, choose your new password, then come back here to sign in with it.</p>
<p><a href="${backTo(base, field(form, 'back'))}" data-testid="back-to-sign-in">Back to sign-in</a></p>`,
      ),
    );
  });
}
