/**
 * The second step of a password sign-in (web/second-factor.ts holds the pending sign-in):
 * `/sign-in/second-factor` asks for a code from the authenticator app or a recovery code, and/or
 * offers the person's passkeys (passkey-sign-in.ts) — whichever second factors they have;
 * `/sign-in/enrol` is for a member of an organization that requires MFA who has none yet — they
 * set up TOTP (or add a passkey) here, and only the confirming code (or passkey) creates the session. Wrong codes count against
 * the sign-in limiter (per account, limits/attempts.ts), like wrong passwords.
 */
import type { Hono } from 'hono';
import type { User } from '../store/users.ts';
import { beginTotpEnrolment, checkSecondFactor, confirmTotpEnrolment, hasTotp, otpauthUri, pendingTotpSecret } from '../identity/totp.ts';
import { hasPasskey } from '../identity/passkeys.ts';
import { ENROL_PASSKEY_PURPOSE, passkeyRegisterButton, passkeySecondFactorButton } from '../web/passkey-button.ts';
import { html, page, type Html } from '../web/html.ts';
import { clientIp, contentSecurityPolicy, csrfValid, field, type WebContext, type WebDeps, type WebEnv } from '../web/pages.ts';
import { completePending, keepPending, takePending, type PendingSignIn } from '../web/second-factor.ts';
import { codeForm, enrolmentBody, recoveryCodesBody } from './mfa-views.ts';

const CODE_PURPOSE = 'signin-second-factor';
const ENROL_PURPOSE = 'signin-enrol';

type Problem = { code: string; text: string };

/** The limiter key for second-factor codes (the account limiter, apart from password failures). */
export const otpLimitKey = (userId: string) => `otp:${userId}`;

export function secondFactorRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  app.get('/sign-in/second-factor', async (c) => {
    const found = await pendingFor(deps, c, false);
    return found instanceof Response ? found : codePage(deps, c, undefined, 200, found.user.id);
  });
  app.post('/sign-in/second-factor', (c) => postCode(deps, c));
  app.get('/sign-in/enrol', async (c) => {
    const found = await pendingFor(deps, c, true);
    if (found instanceof Response) return found;
    const secret = (await pendingTotpSecret(deps, found.user.id)) ?? (await beginTotpEnrolment(deps, found.user));
    if (secret === undefined) return switchToCode(deps, c, found.pending);
    return enrolPage(deps, c, found.user, secret);
  });
  app.post('/sign-in/enrol', (c) => postEnrol(deps, c));
}

async function postCode(deps: WebDeps, c: WebContext): Promise<Response> {
  const form = await c.req.parseBody();
  if (!csrfValid(deps, c, form.csrf, CODE_PURPOSE)) return codePage(deps, c, { code: 'csrf_failed', text: 'The form expired; please try again.' }, 403);
  const found = await pendingFor(deps, c, false);
  if (found instanceof Response) return found;
  const { pending, user } = found;
  const wait = await locked(deps, c, user.id);
  if (wait > 0) return codePage(deps, c, { code: 'too_many_attempts', text: `Too many wrong codes. Try again in ${wait} seconds.` }, 429, user.id);
  const result = await checkSecondFactor(deps, user.id, field(form, 'code'));
  if (result === 'wrong' || result === 'reused') {
    await wrongCode(deps, c, user, result === 'wrong' ? 'wrong_otp' : 'reused_otp');
    const problem = result === 'wrong'
      ? { code: 'wrong_otp', text: 'That code is not right. Check the time on your device and try again.' }
      : { code: 'otp_reused', text: 'That code was used already. Wait for the next one.' };
    return codePage(deps, c, problem, 401, user.id);
  }
  await signedInNow(deps, c, user, pending, result === 'totp' ? 'totp' : 'recovery_code');
  return c.redirect(pending.next, 303);
}

async function postEnrol(deps: WebDeps, c: WebContext): Promise<Response> {
  const form = await c.req.parseBody();
  const found = await pendingFor(deps, c, true);
  if (found instanceof Response) return found;
  const { pending, user } = found;
  const secret = await pendingTotpSecret(deps, user.id);
  if (secret === undefined) return switchToCode(deps, c, pending);
  if (!csrfValid(deps, c, form.csrf, ENROL_PURPOSE)) return enrolPage(deps, c, user, secret, { code: 'csrf_failed', text: 'The form expired; please try again.' }, 400);
  const wait = await locked(deps, c, user.id);
  if (wait > 0) return enrolPage(deps, c, user, secret, { code: 'too_many_attempts', text: `Too many wrong codes. Try again in ${wait} seconds.` }, 429);
  const codes = await confirmTotpEnrolment(deps, user.id, field(form, 'code'));
  if (codes === 'wrong') {
    await wrongCode(deps, c, user, 'wrong_otp');
    return enrolPage(deps, c, user, secret, { code: 'wrong_otp', text: 'That code is not right. Check the time on your device and try again.' }, 400);
  }
  await deps.audit.write({ kind: 'mfa.enrolled', actor: user.id, subject: user.id, reason: 'totp' });
  await signedInNow(deps, c, user, pending, 'totp');
  return frame(deps, c, 'Two-step sign-in is on', recoveryCodesBody(codes, { href: pending.next, label: 'Continue' }));
}

function frame(deps: WebDeps, c: WebContext, title: string, body: Html, status: 200 | 400 | 401 | 403 | 429 = 200): Response {
  return c.html(page({ title, base: deps.base, body: html`<h1>${title}</h1>${body}` }), status);
}

/** The code form for TOTP, the passkey button for passkeys: whichever `userId` has (the form when unknown). */
async function codePage(deps: WebDeps, c: WebContext, error?: Problem, status: 200 | 401 | 403 | 429 = 200, userId?: string): Promise<Response> {
  const totp = userId === undefined || (await hasTotp(deps, userId));
  const passkey = userId !== undefined && (await hasPasskey(deps, userId));
  return frame(deps, c, 'Two-step sign-in', html`${totp ? html`<p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
${codeForm(deps, c, { action: `${deps.base}/sign-in/second-factor`, purpose: CODE_PURPOSE, submit: 'Continue', label: 'Code', error })}` : ''}
${passkey ? html`<p>${totp ? 'Or use' : 'Use'} one of your passkeys.</p>${passkeySecondFactorButton(deps, c)}` : ''}`, status);
}

async function enrolPage(deps: WebDeps, c: WebContext, user: User, secret: string, error?: Problem, status: 200 | 400 | 429 = 200): Promise<Response> {
  const form = { secret, uri: otpauthUri(secret, user.email, 'Portcullis'), action: `${deps.base}/sign-in/enrol`, purpose: ENROL_PURPOSE, error };
  return frame(deps, c, 'Set up two-step sign-in', html`<p>A second step at sign-in is required to continue (your organization asks for it, or a sensitive action does). Set it up now.</p>
${await enrolmentBody(deps, c, form)}
<h2>Or add a passkey</h2>
<p>Your device's screen lock or a security key, instead of an app.</p>
${passkeyRegisterButton(deps, c, { options: `${deps.base}/sign-in/enrol/passkey/options`, action: `${deps.base}/sign-in/enrol/passkey`, purpose: ENROL_PASSKEY_PURPOSE })}`, status);
}

/** This browser's pending sign-in and its person (kept for the next try) — or the page already due. */
async function pendingFor(deps: WebDeps, c: WebContext, enrol: boolean): Promise<{ pending: PendingSignIn; user: User } | Response> {
  const pending = await takePending(deps, c);
  const user = pending ? await deps.store.users.findById(pending.userId) : undefined;
  if (!pending || !user || user.disabledAt !== null) return gone(deps, c);
  await keepPending(deps, c, pending);
  if (pending.formTarget) c.header('content-security-policy', contentSecurityPolicy([pending.formTarget]));
  if (pending.enrol !== enrol) return c.redirect(`${deps.base}/sign-in/${pending.enrol ? 'enrol' : 'second-factor'}`, 303);
  return { pending, user };
}

/** Too many wrong codes for this person: the seconds to wait (0: go on). */
async function locked(deps: WebDeps, c: WebContext, userId: string): Promise<number> {
  const wait = await deps.limits.account.retryAfter(otpLimitKey(userId));
  if (wait > 0) c.header('retry-after', String(wait));
  return wait;
}

async function wrongCode(deps: WebDeps, c: WebContext, user: User, reason: 'wrong_otp' | 'reused_otp'): Promise<void> {
  await deps.limits.account.fail(otpLimitKey(user.id));
  await deps.audit.write({ kind: 'signin.failed', actor: 'anonymous', subject: user.id, reason, details: { ip: clientIp(deps, c) } });
}

/** The second factor is proven: the pending sign-in used up, the session started, the record written. */
async function signedInNow(deps: WebDeps, c: WebContext, user: User, pending: PendingSignIn, method: string): Promise<void> {
  await deps.limits.account.succeed(otpLimitKey(user.id));
  await takePending(deps, c);
  const session = await completePending(deps, c, user, pending);
  await deps.audit.write({ kind: 'signin.succeeded', actor: user.id, subject: user.id, reason: method, details: { amr: session.amr, ip: clientIp(deps, c) } });
}

/** Enrolled meanwhile (another tab): ask for a code instead. */
async function switchToCode(deps: WebDeps, c: WebContext, pending: PendingSignIn): Promise<Response> {
  await keepPending(deps, c, { ...pending, enrol: false });
  return c.redirect(`${deps.base}/sign-in/second-factor`, 303);
}

function gone(deps: WebDeps, c: WebContext): Response {
  return c.html(
    page({
      title: 'Sign in again',
      base: deps.base,
      body: html`<h1 data-testid="error" data-code="signin_expired">Sign in again</h1><p>This sign-in expired or was finished already.</p><p><a href="${deps.base}/login">Sign in</a></p>`,
    }),
    410,
  );
}
