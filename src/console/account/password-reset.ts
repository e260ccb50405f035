/**
 * `/reset-password?token=…`: choosing a new password by one-time link (identity/password-reset.ts).
 * GET says whether the link can still be used without consuming it (mail scanners prefetch
 * links); POST sets the password — a refused one does not burn the link — and signs the person
 * out everywhere.
 */
import type { Hono } from 'hono';
import { completePasswordReset, passwordResetDeps, resetLinkState } from '../../identity/password-reset.ts';
import { audit } from './audit.ts';
import { html, page } from '../../web/html.ts';
import { clearSessionCookie, csrfValid, field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { newPasswordFields, setNewPassword } from '../password-fields.ts';
import { csrfField, errorPage, formExpired, problem } from './layout.ts';

type LinkGone = 'link_expired' | 'link_invalid' | 'link_used';

export function passwordResetRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const base = deps.base;
  const resetDeps = passwordResetDeps(deps);

  const linkGone = (c: WebContext, code: LinkGone) =>
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
${newPasswordFields('new')}
<div class="actions"><button class="primary" type="submit">Set password</button></div>
</form>`,
    });

  const resetDone = () =>
    page({
      title: 'Password changed',
      base,
      body: html`<h1 data-testid="reset-done">Your password was changed</h1>
<p>You were signed out everywhere. Sign in with your new password.</p>
<p><a class="button" href="${base}/login">Sign in</a></p>`,
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
    // The confirmation and the policy are checked before the link is consumed: a typo does not burn it.
    const set = await setNewPassword(form, (password) => completePasswordReset(resetDeps, token, password));
    if (!set.ok) return c.html(resetForm(c, token, 'password_rejected', set.problem), 400);
    const outcome = set.value;
    if (outcome.kind === 'gone') return linkGone(c, 'link_used');
    clearSessionCookie(c);
    await audit(deps, { kind: 'account.password.reset', actor: outcome.userId, subject: outcome.userId });
    deps.log.info({ event: 'password.reset', user: outcome.userId }, 'password reset by link');
    return c.html(resetDone());
  });
}
