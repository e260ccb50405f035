/**
 * People in organizations, and user accounts server-wide (docs/design/identity.md):
 *
 *   membersOf(deps, orgId)                      the members, each with their account
 *   setRole(deps, actor, orgId, userId, role)   change an org role (applies at the next refresh)
 *   removeMember(deps, actor, orgId, userId)    out of the org now: grants and keys in the org revoked, `member` event
 *   disableUser(deps, userId, by)               no sign-in anywhere; everything revoked, sessions ended, `user` event
 *   enableUser(deps, userId)                    sign-in again (nothing revoked comes back)
 *   deleteUser(deps, userId, by)                everything revoked, personal data erased; records untouched
 *
 * `actor` is the org role of whoever asks: only an owner may make an owner, or change or remove
 * one (an admin could otherwise promote themselves past the org's owners). An org always keeps an
 * owner (409 `last_owner`). Failures are PortcullisErrors with stable codes.
 */
import type { OrgMember } from '../store/orgs.ts';
import type { User } from '../store/users.ts';
import { PortcullisError } from '../core/errors.ts';
import { memberRevocationId, recordRevocation, type IdentityDeps } from './context.ts';
import type { OrgRole } from '../core/roles.ts';

export const ORG_ROLES: readonly OrgRole[] = ['owner', 'admin', 'member'];

/** Who asks, within the org (their role there), and who they are (recorded as `revokedBy`). */
export interface Actor {
  userId: string;
  role: OrgRole;
}

function lastOwner(): PortcullisError {
  return new PortcullisError('last_owner', 'an organization keeps at least one owner; make someone else an owner first');
}

function ownersOnly(what: string): PortcullisError {
  return new PortcullisError('forbidden', `only an owner may ${what}`);
}

async function memberOf(deps: IdentityDeps, orgId: string, userId: string) {
  const member = await deps.store.orgs.member(orgId, userId);
  if (!member) throw new PortcullisError('not_found', 'no such member');
  return member;
}

/** The organization's members, each with their account (undefined once erased). */
export async function membersOf(deps: Pick<IdentityDeps, 'store'>, orgId: string): Promise<{ member: OrgMember; user: User | undefined }[]> {
  const members = await deps.store.orgs.members(orgId);
  return Promise.all(members.map(async (member) => ({ member, user: await deps.store.users.findById(member.userId) })));
}

export async function setRole(deps: IdentityDeps, actor: Actor, orgId: string, userId: string, role: OrgRole): Promise<void> {
  const member = await memberOf(deps, orgId, userId);
  if (actor.role !== 'owner' && (role === 'owner' || member.role === 'owner')) throw ownersOnly('make an owner or change an owner\'s role');
  const change = await deps.store.orgs.setRole(orgId, userId, role);
  if (change === 'not_found') throw new PortcullisError('not_found', 'no such member');
  if (change === 'last_owner') throw lastOwner();
}

/** Revoke every grant of a user (in one org, or everywhere), with its tokens. */
export async function revokeGrants(deps: IdentityDeps, userId: string, orgId?: string): Promise<number> {
  const ids = new Set((await deps.store.grantContexts.list({ userId, orgId })).map((g) => g.grantId));
  // Everywhere: grants the engine holds for the account but no context names (consent never finished).
  // (A Grant row's `grantId` is the grant's own id; its row id may be a keyed hash — authz/adapter.ts.)
  if (orgId === undefined) for (const record of await deps.store.oidc.byAccount('Grant', userId)) ids.add(record.grantId ?? record.id);
  const at = deps.now();
  for (const grantId of ids) {
    await deps.revokeGrant(grantId);
    await deps.store.grantContexts.markRevoked(grantId, at);
  }
  return ids.size;
}

async function revokeKeys(deps: IdentityDeps, userId: string, by: string, orgId?: string): Promise<number> {
  const ids = await deps.store.apiKeys.revokeForUser(userId, by, deps.now(), orgId);
  for (const id of ids) await recordRevocation(deps, 'key', id);
  return ids.length;
}

export async function removeMember(deps: IdentityDeps, actor: Actor, orgId: string, userId: string): Promise<{ grants: number; keys: number }> {
  const member = await memberOf(deps, orgId, userId);
  if (member.role === 'owner' && actor.role !== 'owner' && actor.userId !== userId) throw ownersOnly('remove an owner');
  const change = await deps.store.orgs.removeMember(orgId, userId);
  if (change === 'not_found') throw new PortcullisError('not_found', 'no such member');
  if (change === 'last_owner') throw lastOwner();
  // The event first: tokens already out are refused everywhere within a second, whatever follows.
  await recordRevocation(deps, 'member', memberRevocationId(orgId, userId));
  const grants = await revokeGrants(deps, userId, orgId);
  const keys = await revokeKeys(deps, userId, actor.userId, orgId);
  return { grants, keys };
}

/**
 * Everything a user holds, everywhere: tokens (event), grants, keys, browser and engine sessions.
 * Also what an identity provider's "this account is gone" ends (sso-recheck.ts), account left enabled.
 */
export async function revokeEverything(deps: IdentityDeps, userId: string, by: string): Promise<void> {
  await recordRevocation(deps, 'user', userId);
  await revokeGrants(deps, userId);
  await revokeKeys(deps, userId, by);
  await deps.store.sessions.deleteForUser(userId);
  await deps.store.oidc.destroyByAccount('Session', userId);
}

async function existingUser(deps: IdentityDeps, userId: string) {
  const user = await deps.store.users.findById(userId);
  if (!user || user.deletedAt !== null) throw new PortcullisError('not_found', 'no such user');
  return user;
}

export async function disableUser(deps: IdentityDeps, userId: string, by: string): Promise<void> {
  await existingUser(deps, userId);
  await deps.store.users.setDisabled(userId, deps.now());
  await revokeEverything(deps, userId, by);
}

export async function enableUser(deps: IdentityDeps, userId: string): Promise<void> {
  await existingUser(deps, userId);
  await deps.store.users.setDisabled(userId, null);
}

/**
 * Erase a user: refused while they are the only owner of an organization (someone must be able to
 * manage it). Memberships go, the account row stays (id, tombstone e-mail) so that every record
 * naming the id keeps its meaning.
 */
export async function deleteUser(deps: IdentityDeps, userId: string, by: string): Promise<void> {
  await existingUser(deps, userId);
  const orgs = await deps.store.orgs.forUser(userId);
  for (const org of orgs) {
    if (org.role !== 'owner') continue;
    const owners = (await deps.store.orgs.members(org.id)).filter((m) => m.role === 'owner');
    if (owners.length <= 1) throw new PortcullisError('last_owner', `the only owner of ${org.slug} cannot be deleted; make someone else an owner first`, { detail: { org: org.slug } });
  }
  await deps.store.users.setDisabled(userId, deps.now());
  await revokeEverything(deps, userId, by);
  for (const org of orgs) {
    if ((await deps.store.orgs.removeMember(org.id, userId)) === 'last_owner') throw lastOwner();
    await recordRevocation(deps, 'member', memberRevocationId(org.id, userId));
  }
  await deps.store.users.erase(userId, deps.now());
}
