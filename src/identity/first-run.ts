/**
 * First-run setup: while no account exists, the server prints a one-time link (server/app.ts puts
 * its keyed hash in store.oneTime, kind `admin-setup`); whoever opens it creates the first
 * administrator, who owns the Default organization (docs/design/identity.md: every token acts for
 * an organization, so their first client sign-in has one).
 */
import type { Org } from '../store/orgs.ts';
import type { User } from '../store/users.ts';
import { keyedHash, type SecretKey } from '../core/crypto.ts';
import { isPortcullisError, PortcullisError } from '../core/errors.ts';
import { createUserWithOrganization, isEmailAddress, type NewUserDeps } from './new-users.ts';
import { hashNewPassword } from './passwords.ts';

export const SETUP_KIND = 'admin-setup';

export function setupKey(pepper: SecretKey, token: string): string {
  return keyedHash(pepper, `setup:${token}`);
}

/** Can this link still create the first administrator, as far as can be told without consuming it? */
export async function setupOpen(deps: NewUserDeps, token: string): Promise<boolean> {
  return /^[\w-]{20,}$/.test(token) && (await deps.store.users.count()) === 0;
}

/**
 * Create the first administrator through the setup link `token`: 400 `invalid_request` (naming
 * `email` or `password`) before the link is touched, so a typo does not burn it; undefined when the
 * link is unknown, used or expired, or an account exists by now.
 */
export async function completeSetup(
  deps: NewUserDeps & { pepper: SecretKey },
  token: string,
  account: { email: string; name: string | null; password: string },
): Promise<{ user: User; org: Org } | undefined> {
  if (!isEmailAddress(account.email)) {
    throw new PortcullisError('invalid_request', 'enter a valid e-mail address', { detail: { errors: [{ path: 'email', message: 'not an e-mail address' }] } });
  }
  const passwordHash = await hashNewPassword(account.password);
  // Consume first (one statement): two submissions of the same link cannot both create an admin.
  const claimed = await deps.store.oneTime.consume(SETUP_KIND, setupKey(deps.pepper, token), deps.now());
  if (!claimed || (await deps.store.users.count()) > 0) return undefined;
  try {
    const { user, org } = await createUserWithOrganization(deps, { email: account.email, name: account.name, passwordHash, isAdmin: true, role: 'owner' });
    return { user, org };
  } catch (err) {
    if (isPortcullisError(err) && err.code === 'conflict') return undefined;
    throw err;
  }
}
