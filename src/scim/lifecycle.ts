/**
 * What `active` and DELETE do to a person (RFC 7644 §3.6 leaves it to the provider) — every
 * removal and revocation is people.ts's, never repeated here:
 *
 * - deactivate: out of THIS organization at once (removeMember: the `member` revocation event, so
 *   every gateway refuses their tokens within a second, then their grants and API keys in the org);
 *   if they belong to no other organization, the account is disabled too (disableUser: every
 *   session and token ended) — an IdP never disables an account other organizations still rely on;
 * - reactivate: a member again (the role their groups give), the account enabled again if the
 *   deactivation had disabled it (an account a server administrator disabled stays disabled);
 * - remove (DELETE): out of the organization; if they belong to no other, the account is erased
 *   (deleteUser: personal data gone, records kept by id).
 *
 * Owners are managed in Portcullis only: SCIM acts as an org admin (context.ts), so deactivating or
 * deleting an owner is refused (403) and nothing changes.
 */
import type { ScimUserRow } from '../store/scim.ts';
import { PortcullisError } from '../core/errors.ts';
import { deleteUser as eraseAccount, disableUser, enableUser, removeMember } from '../identity/people.ts';
import { scimActor, scimAsActor, type ScimDeps } from './context.ts';
import { mappedRole } from './roles.ts';

async function refuseOwner(deps: ScimDeps, row: ScimUserRow): Promise<boolean> {
  const member = await deps.store.orgs.member(row.orgId, row.userId);
  if (member?.role === 'owner') throw new PortcullisError('forbidden', 'an owner of the organization is managed in Portcullis, not through SCIM');
  return member !== undefined;
}

async function belongsElsewhere(deps: ScimDeps, userId: string): Promise<boolean> {
  return (await deps.store.orgs.forUser(userId)).length > 0;
}

/** Access to the org ends now; returns whether the account was disabled as well. */
export async function deactivate(deps: ScimDeps, row: ScimUserRow): Promise<boolean> {
  if (await refuseOwner(deps, row)) await removeMember(deps, scimAsActor(row.orgId), row.orgId, row.userId);
  if (await belongsElsewhere(deps, row.userId)) return false;
  const user = await deps.store.users.findById(row.userId);
  if (!user || user.deletedAt !== null || user.disabledAt !== null) return false;
  await disableUser(deps, row.userId, scimActor(row.orgId));
  return true;
}

export async function reactivate(deps: ScimDeps, row: ScimUserRow): Promise<void> {
  if (row.disabledAccount) await enableUser(deps, row.userId);
  if (!(await deps.store.orgs.member(row.orgId, row.userId))) await deps.store.orgs.addMember(row.orgId, row.userId, await mappedRole(deps, row.orgId, row.id), deps.now());
}

/** Out of the org; the account erased when no other organization has them. Returns whether it was erased. */
export async function remove(deps: ScimDeps, row: ScimUserRow): Promise<boolean> {
  if (await refuseOwner(deps, row)) await removeMember(deps, scimAsActor(row.orgId), row.orgId, row.userId);
  await deps.store.scim.deleteUser(row.orgId, row.id);
  if (await belongsElsewhere(deps, row.userId)) return false;
  const user = await deps.store.users.findById(row.userId);
  if (!user || user.deletedAt !== null) return false;
  await eraseAccount(deps, row.userId, scimActor(row.orgId));
  return true;
}
