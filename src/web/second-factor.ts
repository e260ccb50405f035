/**
 * The one seam between "the password was right" and "a session exists", for every page that signs
 * people in with a password (the authorization interaction, the device page, the console's /login,
 * invitations). Someone without a second factor gets the session at once, as before. Someone with
 * TOTP — or a member of an organization that requires MFA but without it yet — gets a pending
 * sign-in instead: single-use, five minutes, its 256-bit key in an HttpOnly cookie (never in a URL)
 * and only its keyed hash in the store. The second-factor pages (console/second-factor-page.ts)
 * take it, and only a right code creates the session (`amr` pwd + otp + mfa, RFC 8176 §2), then
 * the browser continues exactly where the password step would have gone.
 */
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { keyedHash, randomToken } from '../core/crypto.ts';
import { hasPasskey } from '../identity/passkeys.ts';
import { hasTotp, mfaRequired } from '../identity/totp.ts';
import type { SessionRecord } from '../store/sessions.ts';
import type { User } from '../store/users.ts';
import { clientIp, setSessionCookie, type WebContext, type WebDeps } from './pages.ts';

export const PENDING_COOKIE = '__Host-pc_signin';
const PENDING_KIND = 'signin-pending';
const RESUME_KIND = 'signin-resumed';
const PENDING_TTL = 300;

/**
 * `amr` of a sign-in completed by a second factor (RFC 8176 §2): the methods proven first (`pwd`,
 * or `ext` for an SSO session asked for Portcullis's own factor at a step-up), the second factor's
 * (`otp` for TOTP and recovery codes, `hwk` for a passkey), and `mfa` for more than one factor.
 */
export function secondFactorAmr(first: readonly string[], method: 'otp' | 'hwk'): string[] {
  return [...new Set([...first.filter((m) => m !== 'mfa'), method, 'mfa'])];
}

export interface PendingSignIn {
  userId: string;
  /** The methods proven so far. */
  amr: string[];
  /** Where the password step would have sent the browser: a path on this site. */
  next: string;
  /** A marker the page continued to asks for (the interaction's `resume` route), if any. */
  resume?: string;
  /** No second factor yet, but an organization requires one: enrol first. */
  enrol: boolean;
  /** Signed in through this SSO connection (authz/interaction/step-up-sign-in.ts): kept on the session. */
  ssoConnection?: string;
  /**
   * A CSP source the code form may lead to: after an authorization's sign-in the redirect chain
   * can end at the client (browsers apply form-action to it; pages.ts contentSecurityPolicy).
   */
  formTarget?: string;
  expiresAt: number;
}

export interface Continuation {
  next: string;
  resume?: string;
  formTarget?: string;
  /**
   * Ask for the second factor even when no organization requires one: a step-up with `mfa`, or a
   * client asking for urn:portcullis:acr:mfa (authz/step-up.ts). Someone without one enrols.
   */
  secondFactor?: boolean;
  /** The SSO connection the sign-in came through (the session after the second factor keeps it). */
  ssoConnection?: string;
  /**
   * The methods already proven, when the second factor is asked of someone signed in (a step-up):
   * kept in the new session's `amr`. Default: the password just typed.
   */
  proven?: readonly string[];
}

/** A path on this site only (never `//host`, a scheme or a backslash: no open redirect). */
function localPath(path: string): boolean {
  return /^\/(?![\/\\])[^\\\s]*$/.test(path) && path.length < 1000;
}

/** Start the browser session for `user` (the cookie is set) and return its record. */
export async function startSession(deps: WebDeps, c: WebContext, user: User, amr: string[], ssoConnection?: string): Promise<SessionRecord> {
  const { value, record } = await deps.sessions.create(user, { amr, ip: clientIp(deps, c), userAgent: c.req.header('user-agent') ?? null, ssoConnection });
  setSessionCookie(c, value, deps.sessions.ttl);
  return record;
}

/**
 * The password was right: the session (no second factor needed), or the redirect to the page that
 * asks for one. `then.next` is where to go after the second factor; `then.resume` a marker for it.
 */
export async function passwordSignedIn(deps: WebDeps, c: WebContext, user: User, then: Continuation): Promise<SessionRecord | Response> {
  // Either second factor will do: TOTP or a passkey (console/passkey-sign-in.ts).
  const enrolled = (await hasTotp(deps, user.id)) || (await hasPasskey(deps, user.id));
  const enrol = !enrolled && (then.secondFactor === true || (await mfaRequired(deps, user.id)));
  if (!enrolled && !enrol) {
    deps.audit.record({ kind: 'signin.succeeded', actor: user.id, subject: user.id, reason: 'password', details: { amr: ['pwd'], ip: clientIp(deps, c) } });
    return startSession(deps, c, user, ['pwd']);
  }
  const token = randomToken();
  const pending: PendingSignIn = {
    userId: user.id,
    amr: [...(then.proven ?? ['pwd'])],
    next: localPath(then.next) ? then.next : `${deps.base}/`,
    ...(then.resume ? { resume: then.resume } : {}),
    ...(then.formTarget ? { formTarget: then.formTarget } : {}),
    ...(then.ssoConnection ? { ssoConnection: then.ssoConnection } : {}),
    enrol,
    expiresAt: deps.now() + PENDING_TTL,
  };
  await keepPending(deps, c, pending, token);
  return c.redirect(`${deps.base}/sign-in/${enrol ? 'enrol' : 'second-factor'}`, 303);
}

/** Keep (or put back) a pending sign-in under this browser's key. */
export async function keepPending(deps: WebDeps, c: WebContext, pending: PendingSignIn, token = getCookie(c, PENDING_COOKIE)): Promise<void> {
  if (!token) return;
  await deps.store.oneTime.put(PENDING_KIND, keyedHash(deps.pepper, `signin:${token}`), JSON.stringify(pending), pending.expiresAt);
  setCookie(c, PENDING_COOKIE, token, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge: PENDING_TTL });
}

/**
 * Take this browser's pending sign-in (single use: whoever reads it must `keepPending` it again
 * to let the person retry); undefined when there is none or it expired.
 */
export async function takePending(deps: WebDeps, c: WebContext): Promise<PendingSignIn | undefined> {
  const token = getCookie(c, PENDING_COOKIE);
  if (!token) return undefined;
  const value = await deps.store.oneTime.consume(PENDING_KIND, keyedHash(deps.pepper, `signin:${token}`), deps.now());
  return value === undefined ? undefined : (JSON.parse(value) as PendingSignIn);
}

/**
 * The second factor was proven: the session, the pending sign-in's marker, and the cookie gone.
 * `method`: the second factor's (a passkey is `hwk` rather than `otp`: identity/passkeys.ts).
 */
export async function completePending(deps: WebDeps, c: WebContext, user: User, pending: PendingSignIn, method: 'otp' | 'hwk' = 'otp'): Promise<SessionRecord> {
  const record = await startSession(deps, c, user, secondFactorAmr(pending.amr, method), pending.ssoConnection);
  deleteCookie(c, PENDING_COOKIE, { path: '/', secure: true });
  if (pending.resume) await markResumed(deps, pending.resume, record);
  return record;
}

/** Let `takeResumed` answer once for `marker` in this new session (a sign-in that left the page it was for). */
export async function markResumed(deps: WebDeps, marker: string, session: SessionRecord): Promise<void> {
  await deps.store.oneTime.put(RESUME_KIND, resumeKey(deps, marker, session.id), session.userId, deps.now() + PENDING_TTL);
}

/** Did a second factor just complete a sign-in for `marker` in this session? (once) */
export async function takeResumed(deps: WebDeps, marker: string, session: SessionRecord): Promise<boolean> {
  const userId = await deps.store.oneTime.consume(RESUME_KIND, resumeKey(deps, marker, session.id), deps.now());
  return userId === session.userId;
}

function resumeKey(deps: WebDeps, marker: string, sessionId: string): string {
  return keyedHash(deps.pepper, `resume:${marker}:${sessionId}`);
}
