/**
 * Signing in with a passkey (identity/passkeys.ts), the JSON endpoints the passkey buttons call
 * (web/passkey-button.ts; each ceremony is "options", then the authenticator, then the answer):
 *
 * - `/passkeys/sign-in…`: without a password. A discoverable credential with user verification
 *   gives a session with `amr` hwk + user + mfa (identity/passkeys.ts AMR_PASSKEY), then the
 *   browser goes exactly where the password step would have gone (the continuation is bound into
 *   the button's CSRF token; an interaction's `resume` marker is honoured once, as after a second
 *   factor). A disabled account is refused; so is a member of an organization whose connection
 *   has `requireSso` (its IdP decides who signs in; break-glass owners excepted, as for passwords).
 * - `/sign-in/second-factor/passkey…`: after the password, instead of a TOTP code; the
 *   credential must be the person's own. Failures count like wrong codes (the account limiter).
 * - `/sign-in/enrol/passkey…`: an organization requires MFA and the person has none: adding a
 *   passkey here is the enrolment, and completes the sign-in.
 */
import type { Hono } from 'hono';
import {
  AMR_PASSKEY,
  authenticationOptions,
  registerPasskey,
  registrationOptions,
  verifyPasskey,
  type PasskeyRefusal,
} from '../identity/passkeys.ts';
import { passwordRefusedBy } from '../identity/sso-accounts.ts';
import type { User } from '../store/users.ts';
import { ENROL_PASSKEY_PURPOSE, passkeySignInValid, SECOND_FACTOR_PASSKEY_PURPOSE, type PasskeyContinuation } from '../web/passkey-button.ts';
import { clientIp, csrfValid, type WebContext, type WebDeps, type WebEnv } from '../web/pages.ts';
import { completePending, keepPending, markResumed, startSession, takePending, type PendingSignIn } from '../web/second-factor.ts';
import { connections, ssoStartPath } from '../web/sso-routes.ts';
import { browserBinding, jsonForm, jsonLimit, refusal, text, type JsonForm } from './passkey-json.ts';
import { otpLimitKey } from './second-factor-page.ts';

export function passkeySignInRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  for (const path of ['/passkeys/*', '/sign-in/second-factor/passkey/*', '/sign-in/second-factor/passkey', '/sign-in/enrol/passkey/*', '/sign-in/enrol/passkey']) app.use(path, jsonLimit());
  app.post('/passkeys/sign-in/options', (c) => signInOptions(deps, c));
  app.post('/passkeys/sign-in', (c) => signInWithPasskey(deps, c));
  app.post('/sign-in/second-factor/passkey/options', (c) => secondFactorOptions(deps, c));
  app.post('/sign-in/second-factor/passkey', (c) => secondFactorWithPasskey(deps, c));
  app.post('/sign-in/enrol/passkey/options', (c) => enrolOptions(deps, c));
  app.post('/sign-in/enrol/passkey', (c) => enrolWithPasskey(deps, c));
}

/** A path on this site only (never `//host`, a scheme or a backslash: no open redirect). */
const localPath = (path: string) => /^\/(?![\/\\])[^\\\s]*$/.test(path) && path.length < 1000;

/** The posted form and its continuation, when the token is the one a sign-in page made for it. */
async function signInForm(deps: WebDeps, c: WebContext): Promise<{ form: JsonForm; then: PasskeyContinuation } | undefined> {
  const form = await jsonForm(c);
  if (!form) return undefined;
  const then = { next: text(form, 'next'), ...(text(form, 'resume') ? { resume: text(form, 'resume') } : {}) };
  return localPath(then.next) && passkeySignInValid(deps, c, form, then) ? { form, then } : undefined;
}

const expiredForm = (c: WebContext) => refusal(c, 'csrf_failed', 'This page expired. Reload it and try again.');

async function signInOptions(deps: WebDeps, c: WebContext): Promise<Response> {
  if (!(await signInForm(deps, c))) return expiredForm(c);
  return c.json({ options: await authenticationOptions(deps, browserBinding(deps, c)) });
}

async function signInWithPasskey(deps: WebDeps, c: WebContext): Promise<Response> {
  const posted = await signInForm(deps, c);
  if (!posted) return expiredForm(c);
  const ip = clientIp(deps, c);
  const wait = await deps.limits.ip.retryAfter(ip);
  if (wait > 0) return refusal(c, 'too_many_attempts', `Too many failed attempts. Try again in ${wait} seconds.`, { retryAfter: wait });
  const check = await verifyPasskey(deps, browserBinding(deps, c), posted.form.response);
  if (check.kind === 'refused') {
    await deps.limits.ip.fail(ip);
    return refusePasskey(deps, c, check.reason, check.userId);
  }
  const user = check.user;
  if (user.disabledAt !== null) return refusePasskey(deps, c, 'disabled', user.id);
  const ssoOnly = await passwordRefusedBy(deps.store, connections(deps).all(), user);
  if (ssoOnly) {
    deps.audit.record({ kind: 'signin.failed', actor: 'anonymous', subject: user.id, reason: 'sso_required', details: { ip, connection: ssoOnly.id, method: 'passkey' } });
    return refusal(c, 'sso_required', `Your organization signs in through ${ssoOnly.name}.`, { location: ssoStartPath(deps, ssoOnly, posted.then.next) });
  }
  const record = await startSession(deps, c, user, AMR_PASSKEY);
  if (posted.then.resume) await markResumed(deps, posted.then.resume, record);
  deps.audit.record({ kind: 'signin.succeeded', actor: user.id, subject: user.id, reason: 'passkey', details: { amr: AMR_PASSKEY, ip, passkey: check.credential.name } });
  return c.json({ redirect: posted.then.next });
}

const PROBLEMS: Partial<Record<PasskeyRefusal | 'disabled', string>> = {
  counter_regression: 'This passkey was refused: its use counter went backwards, as a copied authenticator’s would. Remove it from your account and add it again.',
  user_verification_missing: 'Your device did not confirm it is you (with a PIN, fingerprint or face). Try again and confirm on the device.',
  challenge_unknown: 'This passkey prompt expired or was used already. Try again.',
  disabled: 'Your account is disabled.',
};

/** Refused: audited (reason `passkey_<why>`), and the person told in plain words. */
function refusePasskey(deps: WebDeps, c: WebContext, reason: PasskeyRefusal | 'disabled', userId?: string): Response {
  deps.audit.record({ kind: 'signin.failed', actor: 'anonymous', subject: userId ?? null, reason: reason === 'disabled' ? 'disabled' : `passkey_${reason}`, details: { ip: clientIp(deps, c), method: 'passkey' } });
  return refusal(c, 'passkey_refused', PROBLEMS[reason] ?? 'That passkey cannot sign you in here.', { reason: reason === 'disabled' ? 'disabled' : 'passkey' });
}

/** This browser's pending password sign-in and its person (kept for another try), if any. */
async function pendingPerson(deps: WebDeps, c: WebContext, enrol: boolean): Promise<{ pending: PendingSignIn; user: User } | undefined> {
  const pending = await takePending(deps, c);
  const user = pending ? await deps.store.users.findById(pending.userId) : undefined;
  if (!pending || !user || user.disabledAt !== null) return undefined;
  await keepPending(deps, c, pending);
  return pending.enrol === enrol ? { pending, user } : undefined;
}

/** The posted form of a second-step page (its CSRF token) and the pending sign-in, or the refusal. */
async function secondStep(deps: WebDeps, c: WebContext, purpose: string, enrol: boolean): Promise<{ form: JsonForm; pending: PendingSignIn; user: User } | Response> {
  const form = await jsonForm(c);
  if (!form || !csrfValid(deps, c, form.csrf, purpose)) return expiredForm(c);
  const found = await pendingPerson(deps, c, enrol);
  if (!found) return refusal(c, 'signin_expired', 'This sign-in expired or was finished already. Sign in again.', { location: `${deps.base}/login` });
  return { form, ...found };
}

async function secondFactorOptions(deps: WebDeps, c: WebContext): Promise<Response> {
  const step = await secondStep(deps, c, SECOND_FACTOR_PASSKEY_PURPOSE, false);
  if (step instanceof Response) return step;
  return c.json({ options: await authenticationOptions(deps, browserBinding(deps, c), step.user) });
}

async function secondFactorWithPasskey(deps: WebDeps, c: WebContext): Promise<Response> {
  const step = await secondStep(deps, c, SECOND_FACTOR_PASSKEY_PURPOSE, false);
  if (step instanceof Response) return step;
  const { user, pending } = step;
  const wait = await deps.limits.account.retryAfter(otpLimitKey(user.id));
  if (wait > 0) return refusal(c, 'too_many_attempts', `Too many failed attempts. Try again in ${wait} seconds.`, { retryAfter: wait });
  const check = await verifyPasskey(deps, browserBinding(deps, c), step.form.response, user.id);
  if (check.kind === 'refused') {
    await deps.limits.account.fail(otpLimitKey(user.id));
    return refusePasskey(deps, c, check.reason, user.id);
  }
  await deps.limits.account.succeed(otpLimitKey(user.id));
  return finishSignIn(deps, c, user, pending, 'passkey');
}

/** The second step is done: the pending sign-in used up, the session (pwd + hwk + mfa), where to go. */
async function finishSignIn(deps: WebDeps, c: WebContext, user: User, pending: PendingSignIn, reason: string): Promise<Response> {
  if (!(await takePending(deps, c))) return refusal(c, 'signin_expired', 'This sign-in was finished already.', { location: `${deps.base}/login` });
  const session = await completePending(deps, c, user, pending, 'hwk');
  deps.audit.record({ kind: 'signin.succeeded', actor: user.id, subject: user.id, reason, details: { amr: session.amr, ip: clientIp(deps, c) } });
  return c.json({ redirect: pending.next });
}

async function enrolOptions(deps: WebDeps, c: WebContext): Promise<Response> {
  const step = await secondStep(deps, c, ENROL_PASSKEY_PURPOSE, true);
  if (step instanceof Response) return step;
  return c.json({ options: await registrationOptions(deps, step.user, browserBinding(deps, c)) });
}

async function enrolWithPasskey(deps: WebDeps, c: WebContext): Promise<Response> {
  const step = await secondStep(deps, c, ENROL_PASSKEY_PURPOSE, true);
  if (step instanceof Response) return step;
  const { user, pending } = step;
  const added = await registerPasskey(deps, user, browserBinding(deps, c), step.form.response, text(step.form, 'name'));
  if (added.kind === 'refused') return refusePasskey(deps, c, added.reason, user.id);
  await deps.audit.write({ kind: 'mfa.enrolled', actor: user.id, subject: user.id, reason: 'passkey', details: { passkey: added.credential.name } });
  return finishSignIn(deps, c, user, pending, 'passkey');
}
