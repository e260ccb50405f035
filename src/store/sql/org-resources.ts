/** An organization's resource tree (workspaces → projects → folders) and memberships of its nodes, in SQL. */
import { randomBase62 } from '../../core/crypto.ts';
import { PortcullisError } from '../../core/errors.ts';
import type { ResourceKind } from '../../core/roles.ts';
import type { OrgResource, OrgStore, ResourceMember } from '../orgs.ts';
import type { SqlDriver } from './driver.ts';

const RESOURCE_COLUMNS = 'id, org_id AS "orgId", kind, parent_id AS "parentId", name, created_at AS "createdAt"';
const PREFIX = { workspace: 'ws', project: 'prj', folder: 'fld' } as const;
/** Which kind of node may hold which (workspaces are the roots). */
const PARENT_KIND = { workspace: null, project: 'workspace', folder: 'project' } as const;

export type OrgResourceStore = Pick<
  OrgStore,
  'resources' | 'resource' | 'createResource' | 'renameResource' | 'deleteResource' | 'resourceMembers' | 'setResourceMember' | 'removeResourceMember'
>;

/** A node's parent must be of the kind above it, in the same org; a workspace has none. */
async function checkParent(db: SqlDriver, orgId: string, kind: ResourceKind, parentId: string | null): Promise<void> {
  const wanted = PARENT_KIND[kind];
  if (wanted === null && parentId !== null) throw new PortcullisError('invalid_request', 'a workspace has no parent', { detail: { errors: [{ path: 'parentId', message: 'must be empty for a workspace' }] } });
  if (wanted === null) return;
  const parent = parentId ? await db.get<{ orgId: string; kind: string }>('SELECT org_id AS "orgId", kind FROM org_resources WHERE id = $1', [parentId]) : undefined;
  if (!parent || parent.orgId !== orgId || parent.kind !== wanted) {
    throw new PortcullisError('invalid_request', `a ${kind} belongs to a ${wanted} of the same organization`, {
      detail: { errors: [{ path: 'parentId', message: `must be a ${wanted} of this organization` }] },
    });
  }
}

export function orgResourceStore(db: SqlDriver): OrgResourceStore {
  return {
    resources: (orgId) => db.all<OrgResource>(`SELECT ${RESOURCE_COLUMNS} FROM org_resources WHERE org_id = $1 ORDER BY created_at, id`, [orgId]),
    resource: (id) => db.get<OrgResource>(`SELECT ${RESOURCE_COLUMNS} FROM org_resources WHERE id = $1`, [id]),
    async createResource({ orgId, kind, parentId, name, at }) {
      await checkParent(db, orgId, kind, parentId);
      const resource: OrgResource = { id: `${PREFIX[kind]}_${randomBase62(16)}`, orgId, kind, parentId, name, createdAt: at };
      await db.run('INSERT INTO org_resources (id, org_id, kind, parent_id, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        resource.id,
        orgId,
        kind,
        parentId,
        name,
        at,
      ]);
      return resource;
    },
    async renameResource(id, name) {
      return (await db.run('UPDATE org_resources SET name = $2 WHERE id = $1', [id, name])).changes === 1;
    },
    async deleteResource(id) {
      // ON DELETE CASCADE takes the subtree and its memberships with it.
      return (await db.run('DELETE FROM org_resources WHERE id = $1', [id])).changes === 1;
    },

    resourceMembers: (orgId, userId) =>
      db.all<ResourceMember>(
        `SELECT rm.resource_id AS "resourceId", rm.user_id AS "userId", rm.role, rm.created_at AS "createdAt"
         FROM resource_members rm JOIN org_resources r ON r.id = rm.resource_id
         WHERE r.org_id = $1 ${userId ? 'AND rm.user_id = $2' : ''} ORDER BY rm.created_at, rm.resource_id`,
        userId ? [orgId, userId] : [orgId],
      ),
    async setResourceMember(resourceId, userId, role, at) {
      await db.run(
        `INSERT INTO resource_members (resource_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (resource_id, user_id) DO UPDATE SET role = excluded.role`,
        [resourceId, userId, role, at],
      );
    },
    async removeResourceMember(resourceId, userId) {
      return (await db.run('DELETE FROM resource_members WHERE resource_id = $1 AND user_id = $2', [resourceId, userId])).changes === 1;
    },
  };
}
