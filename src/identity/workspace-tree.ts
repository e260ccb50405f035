/**
 * An organization's resource tree (docs/design/identity.md): workspaces at the top (no parent),
 * projects in a workspace, folders in a project (folders do not nest: the design keeps the
 * tree three levels deep). Every id handed in must belong to the org, else 404 — never a hint that it
 * exists elsewhere.
 *
 *   createResource(deps, orgId, {kind, parentId, name})
 *   renameResource(deps, orgId, id, name)
 *   deleteResource(deps, orgId, id)               the node and everything below it
 *   setResourceMember(deps, orgId, id, userId, role)   the user must be a member of the org
 *   removeResourceMember(deps, orgId, id, userId)
 */
import type { OrgResource } from '../store/orgs.ts';
import * as z from 'zod';
import { PortcullisError } from '../core/errors.ts';
import type { IdentityDeps } from './context.ts';
import type { ResourceKind, ResourceRole } from '../core/roles.ts';
import { forgetSsoGrant } from './sso-memberships.ts';

export const RESOURCE_KINDS = ['workspace', 'project', 'folder'] as const satisfies readonly ResourceKind[];
export const RESOURCE_ROLES = ['viewer', 'editor', 'manager'] as const satisfies readonly ResourceRole[];

export const ResourceNameSchema = z.string().trim().min(1).max(200);
export const CreateResourceSchema = z.strictObject({
  kind: z.enum(RESOURCE_KINDS),
  /** Required for projects (a workspace) and folders (a project); null for workspaces. */
  parentId: z.string().min(1).max(100).nullable().default(null),
  name: ResourceNameSchema,
});
export const RenameResourceSchema = z.strictObject({ name: ResourceNameSchema });
export const ResourceMemberSchema = z.strictObject({ role: z.enum(RESOURCE_ROLES) });

/** Which kinds a node of each kind may sit under (null: the top of the tree). */
const PARENT_KINDS: Record<ResourceKind, (ResourceKind | null)[]> = {
  workspace: [null],
  project: ['workspace'],
  folder: ['project'],
};

function invalid(path: string, message: string): PortcullisError {
  return new PortcullisError('invalid_request', message, { detail: { errors: [{ path, message }] } });
}

export async function resourceOf(deps: IdentityDeps, orgId: string, id: string): Promise<OrgResource> {
  const resource = await deps.store.orgs.resource(id);
  if (!resource || resource.orgId !== orgId) throw new PortcullisError('not_found', 'no such resource');
  return resource;
}

export async function createResource(deps: IdentityDeps, orgId: string, input: z.output<typeof CreateResourceSchema>): Promise<OrgResource> {
  const allowed = PARENT_KINDS[input.kind];
  let parentKind: ResourceKind | null = null;
  if (input.parentId !== null) {
    const parent = await deps.store.orgs.resource(input.parentId);
    if (!parent || parent.orgId !== orgId) throw invalid('parentId', 'no such resource in this organization');
    parentKind = parent.kind;
  }
  if (!allowed.includes(parentKind)) {
    const want = allowed.map((k) => k ?? 'none').join(' or ');
    throw invalid('parentId', `a ${input.kind} goes under ${want === 'none' ? 'nothing (parentId null)' : `a ${want}`}`);
  }
  return deps.store.orgs.createResource({ orgId, kind: input.kind, parentId: input.parentId, name: input.name, at: deps.now() });
}

export async function renameResource(deps: IdentityDeps, orgId: string, id: string, name: string): Promise<OrgResource> {
  await resourceOf(deps, orgId, id);
  await deps.store.orgs.renameResource(id, name);
  return resourceOf(deps, orgId, id);
}

export async function deleteResource(deps: IdentityDeps, orgId: string, id: string): Promise<void> {
  await resourceOf(deps, orgId, id);
  await deps.store.orgs.deleteResource(id);
}

export async function setResourceMember(deps: IdentityDeps, orgId: string, id: string, userId: string, role: ResourceRole): Promise<void> {
  await resourceOf(deps, orgId, id);
  if (!(await deps.store.orgs.member(orgId, userId))) throw new PortcullisError('not_found', 'no such member of this organization');
  await deps.store.orgs.setResourceMember(id, userId, role, deps.now());
  // Set by hand: the administrator's from now on, never taken away by an IdP group's absence.
  await forgetSsoGrant(deps.store, id, userId, deps.now());
}

export async function removeResourceMember(deps: IdentityDeps, orgId: string, id: string, userId: string): Promise<void> {
  await resourceOf(deps, orgId, id);
  await forgetSsoGrant(deps.store, id, userId, deps.now());
  if (!(await deps.store.orgs.removeResourceMember(id, userId))) throw new PortcullisError('not_found', 'no such resource member');
}
