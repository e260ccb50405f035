/**
 * `/account/mfa`: two-step sign-in with an authenticator app (identity/totp.ts). Setting it up
 * shows a QR code and the key; a code from the app turns it on and shows ten recovery codes once.
 * Turning it off, or replacing the recovery codes, needs a current code (or a recovery code) or
 * the password — a stolen session alone cannot remove the second factor or mint codes for later —
 * and wrong attempts count against the sign-in limiter.
 */
import type { Hono } from 'hono';
import { verifyPassword } from '../../core/crypto.ts';
import { beginTotpEnrolment, checkSecondFactor, confirmTotpEnrolment, disableTotp, hasTotp, newRecoveryCodes, otpauthUri, pendingTotpSecret } from '../../identity/totp.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import { codeForm, enrolmentBody, recoveryCodesBody } from '../mfa-views.ts';
import { otpLimitKey } from '../second-factor-page.ts';
import { audit } from './audit.ts';
import { passkeySection } from './passkeys.ts';
import { csrfField, notice, requireSignedIn, signedInForm, signedInPage } from './layout.ts';

type Problem = { code: string; text: string };

export function mfaRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const base = deps.base;
  const setupPage = async (c: WebContext, me: SignedIn, secret: string, error?: Problem) =>
    show(deps, c, me, await enrolmentBody(deps, c, { secret, uri: otpauthUri(secret, me.user.email, 'Portcullis'), action: `${base}/account/mfa/confirm`, purpose: 'account:mfa-confirm', error }), error ? 400 : 200);

  app.get('/account/mfa', async (c) => {
    const me = await requireSignedIn(deps, c);
    return me instanceof Response ? me : overview(deps, c, me);
  });

  app.post('/account/mfa/setup', async (c) => {
    const posted = await signedInForm(deps, c, 'account:mfa-setup');
    if (posted instanceof Response) return posted;
    const secret = await beginTotpEnrolment(deps, posted.me.user);
    if (secret === undefined) return c.redirect(`${base}/account/mfa`, 303);
    return setupPage(c, posted.me, secret);
  });

  app.post('/account/mfa/confirm', async (c) => {
    const posted = await signedInForm(deps, c, 'account:mfa-confirm');
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    const secret = await pendingTotpSecret(deps, me.user.id);
    if (secret === undefined) return c.redirect(`${base}/account/mfa`, 303);
    const codes = await confirmTotpEnrolment(deps, me.user.id, field(form, 'code'));
    if (codes === 'wrong') return setupPage(c, me, secret, { code: 'wrong_otp', text: 'That code is not right. Check the time on your device and try again.' });
    await audit(deps, { kind: 'mfa.enrolled', actor: me.user.id, subject: me.user.id, reason: 'totp' });
    return show(deps, c, me, html`<p class="notice" role="status" data-testid="notice" data-code="enrolled">Two-step sign-in is on.</p>${recoveryCodesBody(codes, { href: `${base}/account/mfa`, label: 'Done' })}`);
  });

  app.post('/account/mfa/disable', async (c) => {
    const posted = await signedInForm(deps, c, 'account:mfa-disable');
    if (posted instanceof Response) return posted;
    const refused = await proven(deps, c, posted.me, field(posted.form, 'proof'));
    if (refused) return refused;
    await disableTotp(deps, posted.me.user.id);
    await audit(deps, { kind: 'mfa.disabled', actor: posted.me.user.id, subject: posted.me.user.id, reason: 'totp' });
    return c.redirect(`${base}/account/mfa?done=disabled`, 303);
  });

  app.post('/account/mfa/recovery-codes', async (c) => {
    const posted = await signedInForm(deps, c, 'account:mfa-codes');
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    if (!(await hasTotp(deps, me.user.id))) return c.redirect(`${base}/account/mfa`, 303);
    const refused = await proven(deps, c, me, field(form, 'proof'));
    if (refused) return refused;
    const codes = await newRecoveryCodes(deps, me.user.id);
    await audit(deps, { kind: 'mfa.recovery_codes.regenerated', actor: me.user.id, subject: me.user.id });
    return show(deps, c, me, recoveryCodesBody(codes, { href: `${base}/account/mfa`, label: 'Done' }));
  });
}

async function show(deps: WebDeps, c: WebContext, me: SignedIn, body: Html, status: 200 | 400 | 401 | 429 = 200): Promise<Response> {
  return c.html(await signedInPage(deps, c, me, { title: 'Two-step sign-in', active: 'mfa', body: html`<h1>Two-step sign-in</h1>${body}` }), status);
}

/** The page as it stands: off (and how to set it up) or on (recovery codes left, new codes, turning off). */
async function overview(deps: WebDeps, c: WebContext, me: SignedIn, error?: Problem, status: 200 | 401 | 429 = 200): Promise<Response> {
  const base = deps.base;
  if (!(await hasTotp(deps, me.user.id))) {
    return show(deps, c, me, html`${notice(c, { disabled: 'Two-step sign-in is off.' })}
<p data-testid="mfa-status" data-code="off">Off. With it on, signing in asks for a code from an authenticator app after your password.</p>
<form method="post" action="${base}/account/mfa/setup">${csrfField(deps, c, 'account:mfa-setup')}<div class="actions"><button class="primary" type="submit" data-testid="mfa-setup">Set up</button></div></form>
${await passkeySection(deps, c, me)}`, status);
  }
  const left = await deps.store.mfa.unusedRecoveryCodes(me.user.id);
  const proof = (action: string, purpose: string, submit: string) =>
    codeForm(deps, c, { action: `${base}/account/mfa/${action}`, purpose, submit, label: 'A code from your app, a recovery code, or your password', name: 'proof', autocomplete: 'off' });
  return show(deps, c, me, html`<p data-testid="mfa-status" data-code="on">On: signing in asks for a code from your authenticator app.</p>
<p>Unused recovery codes: <strong data-testid="recovery-left">${left}</strong></p>
${error ? html`<p class="error" role="alert" data-testid="problem" data-code="${error.code}">${error.text}</p>` : ''}
<h2>New recovery codes</h2>
${proof('recovery-codes', 'account:mfa-codes', 'Make new recovery codes')}
<h2>Turn off</h2>
${proof('disable', 'account:mfa-disable', 'Turn off two-step sign-in')}
${await passkeySection(deps, c, me)}`, status);
}

/** A current code, a recovery code or the password, within the limiter: undefined when proven, else the page. */
async function proven(deps: WebDeps, c: WebContext, me: SignedIn, typed: string): Promise<Response | undefined> {
  const key = otpLimitKey(me.user.id);
  const wait = await deps.limits.account.retryAfter(key);
  if (wait > 0) {
    c.header('retry-after', String(wait));
    return overview(deps, c, me, { code: 'too_many_attempts', text: `Too many wrong attempts. Try again in ${wait} seconds.` }, 429);
  }
  const byCode = /^[\d\s]+$|^[a-z2-7]{5}-?[a-z2-7]{5}$/i.test(typed.trim()) ? await checkSecondFactor(deps, me.user.id, typed) : 'wrong';
  if (byCode === 'totp' || byCode === 'recovery' || (await verifyPassword(typed, me.user.passwordHash ?? ''))) {
    await deps.limits.account.succeed(key);
    return undefined;
  }
  await deps.limits.account.fail(key);
  return overview(deps, c, me, { code: 'wrong_proof', text: 'That is not a current code or your password.' }, 401);
}

