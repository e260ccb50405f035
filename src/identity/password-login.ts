/**
 * Checking a password, the same way everywhere a person signs in: throttled per account and per
 * IP with escalating lock-outs, one generic failure (no user enumeration), and equal work whether
 * or not the account exists.
 */
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';
import { decoyPasswordHash, verifyPassword } from '../core/crypto.ts';
import type { Logger } from 'pino';
import type { AttemptLimiter } from '../limits/attempts.ts';

export interface PasswordCheckDeps {
  store: Pick<Store, 'users'>;
  /** Failed sign-ins per account and per client IP. */
  limits: { account: AttemptLimiter; ip: AttemptLimiter };
  log: Logger;
}

export type PasswordCheck = { kind: 'ok'; user: User } | { kind: 'locked'; retryAfter: number } | { kind: 'wrong' };

export async function checkPassword(deps: PasswordCheckDeps, rawEmail: string, password: string, ip: string): Promise<PasswordCheck> {
  const email = rawEmail.trim().toLowerCase();
  const wait = Math.max(deps.limits.account.retryAfter(email), deps.limits.ip.retryAfter(ip));
  if (wait > 0) return { kind: 'locked', retryAfter: wait };
  const user = email ? await deps.store.users.findByEmail(email) : undefined;
  const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyPasswordHash()));
  if (!user || !ok || user.disabledAt !== null) {
    deps.limits.account.fail(email);
    deps.limits.ip.fail(ip);
    deps.log.info({ event: 'login.failed', ip }, 'sign-in failed');
    return { kind: 'wrong' };
  }
  deps.limits.account.succeed(email);
  deps.limits.ip.succeed(ip);
  deps.log.info({ event: 'login.succeeded', user: user.id, ip }, 'signed in');
  return { kind: 'ok', user };
}
