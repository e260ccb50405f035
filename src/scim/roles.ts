/**
 * Group → role: a provisioned member's org role is the highest role any of their groups maps to
 * (the org's map, tokens.ts), `member` when none does. Owners are never touched (scimAsActor), and
 * a role change applies at the member's next token refresh, as every role change does (people.ts).
 */
import type { OrgRole } from '../core/roles.ts';
import { setRole } from '../identity/people.ts';
import { record, scimAsActor, type ScimDeps } from './context.ts';

/** The role a provisioned user's groups give them. */
export async function mappedRole(deps: Pick<ScimDeps, 'store'>, orgId: string, scimUserId: string): Promise<OrgRole> {
  const roles = (await deps.store.scim.config(orgId))?.groupRoles ?? {};
  if (Object.keys(roles).length === 0) return 'member';
  const groupIds = new Set((await deps.store.scim.memberships(orgId)).filter((m) => m.scimUserId === scimUserId).map((m) => m.groupId));
  const names = (await deps.store.scim.groups(orgId)).filter((g) => groupIds.has(g.id)).map((g) => g.displayName.toLowerCase());
  return names.some((n) => roles[n] === 'admin') ? 'admin' : 'member';
}

/** Bring the org roles of these provisioned users in line with their groups. */
export async function applyRoles(deps: ScimDeps, orgId: string, scimUserIds: Iterable<string>): Promise<void> {
  for (const id of new Set(scimUserIds)) {
    const row = await deps.store.scim.user(orgId, id);
    if (!row || !row.active) continue;
    const member = await deps.store.orgs.member(orgId, row.userId);
    if (!member || member.role === 'owner') continue;
    const role = await mappedRole(deps, orgId, id);
    if (role === member.role) continue;
    await setRole(deps, scimAsActor(orgId), orgId, row.userId, role);
    await record(deps, orgId, 'scim.user.role_changed', row.userId, { scimId: id, role });
  }
}
