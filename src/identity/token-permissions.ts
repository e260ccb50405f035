/**
 * What a token may carry for a user acting for one organization (docs/design/identity.md
 * "Scopes and roles"): the user's org role, the levels their memberships give (`res`), and the
 * application scopes whose minimum role they hold somewhere in the organization. The step-up scope
 * needs no role: it asks for a fresh sign-in, not for a permission.
 *
 * Recomputed at every issuance (code, device code, refresh), so a role change applies at the next
 * refresh and a removal at once.
 */
import type { Store } from '../store/store.ts';
import type { OrgMember, ResourceMember } from '../store/orgs.ts';
import type { User } from '../store/users.ts';
import type { ProtectedResource } from '../core/protected-resource.ts';
import { memberLevels, scopesAllowedBy } from './permissions.ts';
import type { OrgRole } from '../core/roles.ts';
import type { ResourceLevels } from '../shared/levels.ts';

export interface OrgAccess {
  role: OrgRole;
  /** Resource id → level (`*` for owners and admins): the token's `res` claim. */
  levels: ResourceLevels;
}

export interface TokenPermissions extends OrgAccess {
  /** The application's scopes this member may hold (before intersecting with what they consented). */
  allowedScopes: string[];
}

/** A user who can act at all: exists, not disabled, not deleted. */
export function userActive(user: Pick<User, 'disabledAt' | 'deletedAt'> | undefined): boolean {
  return user !== undefined && user.disabledAt === null && user.deletedAt === null;
}

/** Pure: the access a membership gives; undefined for no membership or an inactive user. */
export function accessOf(
  user: Pick<User, 'disabledAt' | 'deletedAt'> | undefined,
  member: Pick<OrgMember, 'role'> | undefined,
  memberships: Pick<ResourceMember, 'resourceId' | 'role'>[],
): OrgAccess | undefined {
  if (!member || !userActive(user)) return undefined;
  return { role: member.role, levels: memberLevels(member.role, memberships) };
}

/** Pure: the resource's scopes these levels allow; the step-up scope always (it needs no role). */
export function allowedScopesOf(resource: Pick<ProtectedResource, 'scopes' | 'stepUpScope'>, levels: ResourceLevels): string[] {
  const stepUp = resource.stepUpScope;
  const byRole = scopesAllowedBy(
    resource.scopes.filter((s) => s.name !== stepUp),
    levels,
  ).map((s) => s.name);
  return stepUp && resource.scopes.some((s) => s.name === stepUp) ? [...byRole, stepUp] : byRole;
}

/** A user's access in an organization: one round trip (the three reads run together). */
export async function orgAccess(store: Store, userId: string, orgId: string): Promise<OrgAccess | undefined> {
  const [user, member, memberships] = await Promise.all([
    store.users.findById(userId),
    store.orgs.member(orgId, userId),
    store.orgs.resourceMembers(orgId, userId),
  ]);
  return accessOf(user, member, memberships);
}

/** Role, levels and allowed scopes of a user in an org for one application; undefined when not a member or inactive. */
export async function tokenPermissions(store: Store, userId: string, orgId: string, resource: ProtectedResource): Promise<TokenPermissions | undefined> {
  const access = await orgAccess(store, userId, orgId);
  return access && { ...access, allowedScopes: allowedScopesOf(resource, access.levels) };
}
