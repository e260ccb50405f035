/**
 * Password reset by one-time link. The link carries 256 random bits plus its own expiry; the
 * store keeps only a keyed hash of the whole token (store.oneTime, kind `password-reset`), so a
 * stolen database yields no usable link, and editing the expiry in a link makes it unknown.
 *
 * Because the expiry is in the token, the reset page can say "this link expired" on GET without
 * consuming anything (mail scanners that prefetch links must not burn them); whether it was
 * already used is only known when it is consumed — by ONE conditional statement at submission,
 * so two submissions of the same link have exactly one winner.
 *
 * A reset sets the new password (Argon2id), then ends every browser and engine session of the
 * user: whoever knew the old password is signed out. It does not disconnect apps (grants stay;
 * the person can disconnect them on /account/apps).
 */
import type { Store } from '../store/store.ts';
import { keyedHash, randomToken, type SecretKey } from '../core/crypto.ts';
import type { Mailer } from './mailer.ts';
import { isEmailAddress } from './new-users.ts';
import { hashNewPassword } from './passwords.ts';

export const PASSWORD_RESET_KIND = 'password-reset';
/** One hour, as issue 5 asks. */
export const PASSWORD_RESET_TTL = 3600;

export interface PasswordResetDeps {
  store: Store;
  pepper: SecretKey;
  now: () => number;
  /** The server's public URL (issuer), where /reset-password lives. */
  publicUrl: string;
}

/** The reset services' deps from the pages' (the public URL is the configured one). */
export function passwordResetDeps(web: Omit<PasswordResetDeps, 'publicUrl'> & { config: { publicUrl: string } }): PasswordResetDeps {
  return { store: web.store, pepper: web.pepper, now: web.now, publicUrl: web.config.publicUrl };
}

export interface IssuedReset {
  link: string;
  expiresAt: number;
}

const TOKEN_SHAPE = /^([\w-]{43})\.([0-9a-z]{1,10})$/;

function storeKey(pepper: SecretKey, token: string): string {
  return keyedHash(pepper, `password-reset:${token}`);
}

/**
 * A one-time reset link for a user, valid for an hour. undefined when the user does not exist,
 * is disabled or deleted (no link may revive an account an administrator switched off).
 */
export async function issuePasswordReset(deps: PasswordResetDeps, userId: string): Promise<IssuedReset | undefined> {
  const user = await deps.store.users.findById(userId);
  if (!user || user.disabledAt !== null || user.deletedAt !== null) return undefined;
  const expiresAt = deps.now() + PASSWORD_RESET_TTL;
  const token = `${randomToken()}.${expiresAt.toString(36)}`;
  await deps.store.oneTime.put(PASSWORD_RESET_KIND, storeKey(deps.pepper, token), user.id, expiresAt);
  return { link: `${deps.publicUrl}/reset-password?token=${encodeURIComponent(token)}`, expiresAt };
}

/**
 * E-mail a reset link to the account `email` names, when there is one that may have a link;
 * nothing otherwise. The id of the user it went to, for the log — the person asking is answered
 * the same either way (console/account/forgot-password.ts).
 */
export async function mailPasswordReset(deps: PasswordResetDeps, mailer: Mailer, email: string): Promise<string | undefined> {
  if (!isEmailAddress(email)) return undefined;
  const user = await deps.store.users.findByEmail(email);
  if (!user) return undefined;
  const issued = await issuePasswordReset(deps, user.id);
  if (!issued) return undefined;
  await mailer.send({
    to: user.email,
    subject: 'Reset your Portcullis password',
    text: `Someone (hopefully you) asked to reset the password of ${user.email} on ${deps.publicUrl}.\n\nChoose a new password here (the link works once, for an hour):\n${issued.link}\n\nIf you did not ask for this, ignore this message: your password stays as it is.\n`,
  });
  return user.id;
}

export type ResetLinkState = 'usable' | 'expired' | 'malformed';

/** What the link itself says, without touching the store (see the note at the top). */
export function resetLinkState(token: string, now: number): ResetLinkState {
  const match = TOKEN_SHAPE.exec(token);
  if (!match) return 'malformed';
  return parseInt(match[2]!, 36) > now ? 'usable' : 'expired';
}

export type ResetOutcome = { kind: 'done'; userId: string } | { kind: 'gone' };

/**
 * Consume the link and set the new password (its confirmation checked by the caller). The password
 * policy (identity/passwords.ts) refuses a new password with 400 `invalid_request` before the link
 * is consumed: a typo does not burn it. `gone`: unknown, expired, already used, or the account was
 * disabled meanwhile.
 */
export async function completePasswordReset(deps: PasswordResetDeps, token: string, newPassword: string): Promise<ResetOutcome> {
  if (resetLinkState(token, deps.now()) !== 'usable') return { kind: 'gone' };
  // Hash before consuming: a slow hash after the consume would widen nothing, but a failure in it
  // would burn the link for nothing.
  const passwordHash = await hashNewPassword(newPassword);
  const userId = await deps.store.oneTime.consume(PASSWORD_RESET_KIND, storeKey(deps.pepper, token), deps.now());
  if (!userId) return { kind: 'gone' };
  const user = await deps.store.users.findById(userId);
  if (!user || user.disabledAt !== null || user.deletedAt !== null) return { kind: 'gone' };
  await deps.store.users.setPassword(user.id, passwordHash);
  await endAllSessions(deps.store, user.id);
  return { kind: 'done', userId: user.id };
}

/** Every browser session of ours and every engine (single-sign-on) session of the user. */
export async function endAllSessions(store: Store, userId: string): Promise<{ browser: number; engine: number }> {
  const [browser, engine] = await Promise.all([store.sessions.deleteForUser(userId), store.oidc.destroyByAccount('Session', userId)]);
  return { browser, engine };
}

/**
 * May an org owner or admin (`actor`, their role in `orgId`) make a reset link for `targetId`?
 * A reset link takes over an account, so an org's administrators get it only for accounts that
 * are wholly theirs to manage: a member of this org, not a server administrator, not an owner
 * unless the actor is an owner, and in no other org where the actor is not an owner or admin
 * (an admin of one org must not take over an account that matters in another).
 */
export async function mayIssueResetFor(store: Store, orgId: string, actor: { userId: string; role: string }, targetId: string): Promise<boolean> {
  if (actor.role !== 'owner' && actor.role !== 'admin') return false;
  const target = await store.users.findById(targetId);
  const membership = await store.orgs.member(orgId, targetId);
  if (!target || !membership || target.deletedAt !== null) return false;
  if (targetId === actor.userId) return true;
  if (target.isAdmin) return false;
  if (membership.role === 'owner' && actor.role !== 'owner') return false;
  const actorOrgs = new Map((await store.orgs.forUser(actor.userId)).map((o) => [o.id, o.role]));
  for (const org of await store.orgs.forUser(targetId)) {
    const role = actorOrgs.get(org.id);
    if (role !== 'owner' && role !== 'admin') return false;
    if (org.role === 'owner' && role !== 'owner') return false;
  }
  return true;
}
