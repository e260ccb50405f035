/**
 * Checking a password, the same way everywhere a person signs in: throttled per account and per
 * IP with escalating lock-outs (limits/attempts.ts: shared by every instance when Redis is configured), one generic failure (no user enumeration), and equal work whether
 * or not the account exists.
 */
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';
import { decoyPasswordHash, verifyPassword } from '../core/crypto.ts';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AttemptLimiter } from '../limits/attempts.ts';
import type { SsoConnection } from '../core/identity-providers.ts';
import { passwordRefusedBy } from './sso-accounts.ts';
import { ssoConnections } from './connection-directory.ts';

export interface PasswordCheckDeps {
  store: Pick<Store, 'users' | 'orgs'>;
  /** Single sign-on connections (with the organizations' own, identity/connection-directory.ts): `requireSso` refuses the passwords of their organizations' members. */
  config?: { identityProviders: readonly SsoConnection[] };
  /** Failed sign-ins per account and per client IP. */
  limits: { account: AttemptLimiter; ip: AttemptLimiter };
  log: Logger;
  /** Sign-ins and failed sign-ins are on the record (server-wide: a person may belong to several organizations). */
  audit?: AuditLog;
}

export type PasswordCheck =
  | { kind: 'ok'; user: User }
  | { kind: 'locked'; retryAfter: number }
  | { kind: 'wrong' }
  /** The right password, but the person's organization signs in only through this connection. */
  | { kind: 'sso_required'; connection: SsoConnection };

export async function checkPassword(deps: PasswordCheckDeps, rawEmail: string, password: string, ip: string): Promise<PasswordCheck> {
  const email = rawEmail.trim().toLowerCase();
  const [forAccount, forIp] = await Promise.all([deps.limits.account.retryAfter(email), deps.limits.ip.retryAfter(ip)]);
  const wait = Math.max(forAccount, forIp);
  if (wait > 0) {
    deps.audit?.record({ kind: 'signin.failed', actor: 'anonymous', reason: 'locked', details: { ip } });
    return { kind: 'locked', retryAfter: wait };
  }
  const user = email ? await deps.store.users.findByEmail(email) : undefined;
  const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyPasswordHash()));
  if (!user || !ok || user.disabledAt !== null) {
    await Promise.all([deps.limits.account.fail(email), deps.limits.ip.fail(ip)]);
    deps.log.info({ event: 'login.failed', ip }, 'sign-in failed');
    // The person is named only when the account exists; what was typed is never kept (it may be a password).
    const reason = !user ? 'unknown_account' : user.disabledAt !== null ? 'disabled' : 'wrong_password';
    deps.audit?.record({ kind: 'signin.failed', actor: 'anonymous', subject: user?.id ?? null, reason, details: { ip } });
    return { kind: 'wrong' };
  }
  await Promise.all([deps.limits.account.succeed(email), deps.limits.ip.succeed(ip)]);
  const ssoOnly = deps.config ? await passwordRefusedBy(deps.store, ssoConnections(deps.config).all(), user) : undefined;
  if (ssoOnly) {
    deps.audit?.record({ kind: 'signin.failed', actor: 'anonymous', subject: user.id, reason: 'sso_required', details: { ip, connection: ssoOnly.id } });
    return { kind: 'sso_required', connection: ssoOnly };
  }
  deps.log.info({ event: 'login.succeeded', user: user.id, ip }, 'signed in');
  // The sign-in succeeds once its session exists (web/second-factor.ts records it, with how).
  return { kind: 'ok', user };
}
