/**
 * The organization's SCIM bearer token (RFC 7644 §2): issued by its owners and admins (the
 * secret shown once), stored as a keyed hash like API keys — one index probe per request, so a
 * rotated or revoked token stops working with the statement that replaced it — and the group →
 * role map that decides what role an IdP group gives.
 */
import { keyedHash, randomBase62, type SecretKey } from '../core/crypto.ts';
import { PortcullisError } from '../core/errors.ts';
import type { OrgRole } from '../core/roles.ts';
import type { Store } from '../store/store.ts';
import type { ScimDeps } from './context.ts';
import { applyRoles } from './roles.ts';

const PREFIX = 'pcscim_';

export const hashScimToken = (pepper: SecretKey, token: string) => keyedHash(pepper, `scim-token:${token}`);

/** A new token for the org, replacing any earlier one. */
export async function issueScimToken(deps: Pick<ScimDeps, 'store' | 'pepper' | 'now'>, orgId: string, by: string): Promise<string> {
  const token = `${PREFIX}${randomBase62(43)}`;
  await deps.store.scim.setToken(orgId, hashScimToken(deps.pepper, token), by, deps.now());
  return token;
}

export async function revokeScimToken(deps: Pick<ScimDeps, 'store'>, orgId: string): Promise<void> {
  if (!(await deps.store.scim.clearToken(orgId))) throw new PortcullisError('not_found', 'this organization has no SCIM token');
}

/** The organization a presented token belongs to, if any. */
export async function orgOfScimToken(deps: { store: Pick<Store, 'scim'>; pepper: SecretKey }, token: string): Promise<string | undefined> {
  if (!token.startsWith(PREFIX) || token.length > 200) return undefined;
  return deps.store.scim.orgOfToken(hashScimToken(deps.pepper, token));
}

/** Roles a group may give: never `owner` (owners are made in Portcullis, by owners). */
export const MAPPABLE_ROLES: readonly OrgRole[] = ['admin', 'member'];

/** Set the group → role map (displayName compared case-insensitively), then apply it to every provisioned member. */
export async function setGroupRoles(deps: ScimDeps, orgId: string, map: Record<string, OrgRole>): Promise<Record<string, OrgRole>> {
  const roles: Record<string, OrgRole> = {};
  for (const [group, role] of Object.entries(map)) {
    if (!MAPPABLE_ROLES.includes(role)) throw new PortcullisError('invalid_request', 'a group maps to admin or member', { detail: { errors: [{ path: `groupRoles.${group}`, message: 'admin or member' }] } });
    roles[group.trim().toLowerCase()] = role;
  }
  await deps.store.scim.setGroupRoles(orgId, roles);
  await applyRoles(deps, orgId, (await deps.store.scim.users(orgId)).map((u) => u.id));
  return roles;
}
