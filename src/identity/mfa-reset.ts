/**
 * Resetting a person's second factors, for when they lost their authenticator (and their recovery
 * codes): the TOTP authenticator, its recovery codes and every passkey go, and every sign-in
 * session ends (browser and engine sessions), so the next sign-in starts from the password — and,
 * where an organization of theirs requires MFA, leads through enrolment again (identity/totp.ts
 * `mfaRequired`). Grants and API keys are left alone: a lost phone is not a compromised account
 * (an administrator who fears that disables the account, which revokes everything).
 *
 *   resetSecondFactors(deps, userId)                      what was removed
 *   checkOrgManagerMayReset(deps, actor, orgId, userId)   throws unless the org manager may
 *
 * Who may: a server administrator (admin API `/users/:id/reset-mfa`, or `portcullis admin
 * reset-mfa` on the server's machine), and an organization's owner or admin for its members —
 * the factors belong to the account, not to one organization, so a manager of one organization
 * must manage every organization the person belongs to (else a small organization's admin could
 * strip the second factor of a large one's owner). Only owners reset an owner's (as only owners
 * change an owner's role), nobody resets their own through this door (the account page is
 * theirs, and asks for the factor), and a server administrator's only another server
 * administrator resets.
 */
import type { Store } from '../store/store.ts';
import { PortcullisError } from '../core/errors.ts';
import type { Actor } from './people.ts';

export interface MfaResetDeps {
  store: Pick<Store, 'users' | 'orgs' | 'mfa' | 'sessions' | 'oidc' | 'passkeys'>;
}

/** What a reset removed (the audit record's details). */
export interface MfaReset {
  totp: boolean;
  recoveryCodes: number;
  passkeys: number;
  sessions: number;
}

export async function resetSecondFactors(deps: MfaResetDeps, userId: string): Promise<MfaReset> {
  const user = await deps.store.users.findById(userId);
  if (!user || user.deletedAt !== null) throw new PortcullisError('not_found', 'no such user');
  const factor = await deps.store.mfa.findTotp(userId);
  const recoveryCodes = await deps.store.mfa.unusedRecoveryCodes(userId);
  await deps.store.mfa.deleteTotp(userId);
  let passkeys = 0;
  for (const passkey of await deps.store.passkeys.forUser(userId)) {
    if (await deps.store.passkeys.remove(userId, passkey.id)) passkeys++;
  }
  // Ended after the factors are gone, so no session outlives the reset.
  const [browser] = await Promise.all([deps.store.sessions.deleteForUser(userId), deps.store.oidc.destroyByAccount('Session', userId)]);
  return { totp: factor?.confirmedAt != null, recoveryCodes, passkeys, sessions: browser };
}

const refused = (message: string, rule: string) => new PortcullisError('forbidden', message, { rule });

/** An organization's owner or admin (`actor`, their role in `orgId`) may reset `userId`'s factors — or this throws. */
export async function checkOrgManagerMayReset(deps: MfaResetDeps, actor: Actor, orgId: string, userId: string): Promise<void> {
  const member = await deps.store.orgs.member(orgId, userId);
  if (!member) throw new PortcullisError('not_found', 'no such member');
  if (userId === actor.userId) throw refused('reset your own second factors on your account page', 'self');
  const user = await deps.store.users.findById(userId);
  if (!user || user.deletedAt !== null) throw new PortcullisError('not_found', 'no such member');
  if (user.isAdmin) throw refused('only a server administrator may reset a server administrator’s second factors', 'server-admin');
  const mine = new Map((await deps.store.orgs.forUser(actor.userId)).map((org) => [org.id, org.role]));
  for (const org of await deps.store.orgs.forUser(userId)) {
    const role = org.id === orgId ? actor.role : mine.get(org.id);
    if (role !== 'owner' && role !== 'admin') throw refused('this person belongs to an organization you do not manage: a server administrator resets their second factors', 'other-organization');
    if (org.role === 'owner' && role !== 'owner') throw refused('only an owner may reset an owner’s second factors', 'owner');
  }
}
