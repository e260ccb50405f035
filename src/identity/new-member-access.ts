/**
 * What a newcomer can do on joining (issue 14): an organization's "default access for new members"
 * (a workspace or project role, or none — its settings' `newMemberAccess`), or the starting role an
 * invitation carries, which takes its place. Given on every way in: an accepted invitation, a
 * first single sign-on (just-in-time), a SCIM-provisioned account. Without it a new member holds
 * no workspace role, and their roles unlock none of an application's permissions
 * (token-permissions.ts) — the consent page then offers to request access (access-requests.ts).
 */
import * as z from 'zod';
import type { Store } from '../store/store.ts';
import type { Org } from '../store/orgs.ts';
import type { OrgRole, ResourceRole } from '../core/roles.ts';
import { PortcullisError } from '../core/errors.ts';
import { RESOURCE_ROLES } from './workspace-tree.ts';

export interface StartingAccess {
  resourceId: string;
  role: ResourceRole;
}

export const StartingAccessSchema = z.strictObject({ resourceId: z.string().min(1).max(200), role: z.enum(RESOURCE_ROLES) });

/** 400 `invalid_request` at `path` unless the resource is a workspace or project of the org. */
export async function checkStartingAccess(store: Pick<Store, 'orgs'>, orgId: string, access: StartingAccess | null | undefined, path: string): Promise<void> {
  if (!access) return;
  const resource = await store.orgs.resource(access.resourceId);
  if (!resource || resource.orgId !== orgId || resource.kind === 'folder') {
    const message = 'no such workspace or project in this organization';
    throw new PortcullisError('invalid_request', message, { detail: { errors: [{ path: `${path}.resourceId`, message }] } });
  }
}

/**
 * Give a member who has just joined `org` their starting access: the invitation's, else the org's
 * default. A resource deleted since the setting was made gives nothing (never an error at sign-in).
 */
export async function giveStartingAccess(
  deps: { store: Pick<Store, 'orgs'>; now: () => number },
  org: Pick<Org, 'id' | 'settings'>,
  userId: string,
  invited?: { startResourceId?: string | null; startRole?: ResourceRole | null },
): Promise<StartingAccess | undefined> {
  const fromInvitation = invited?.startResourceId && invited.startRole ? { resourceId: invited.startResourceId, role: invited.startRole } : undefined;
  const access = fromInvitation ?? org.settings.newMemberAccess ?? undefined;
  if (!access) return undefined;
  const resource = await deps.store.orgs.resource(access.resourceId);
  if (!resource || resource.orgId !== org.id) return undefined;
  await deps.store.orgs.setResourceMember(access.resourceId, userId, access.role, deps.now());
  return access;
}

/** Add `userId` to the organization with `role`, and the organization's default access for new members. */
export async function joinWithStartingAccess(deps: { store: Pick<Store, 'orgs'>; now: () => number }, orgId: string, userId: string, role: OrgRole): Promise<void> {
  await deps.store.orgs.addMember(orgId, userId, role, deps.now());
  const org = await deps.store.orgs.get(orgId);
  if (org) await giveStartingAccess(deps, org, userId);
}
