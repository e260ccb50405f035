/** Organizations, members and the resource tree, in SQL; "an org keeps an owner" is kept inside one transaction. */
import { randomBase62 } from '../../core/crypto.ts';
import { PortcullisError } from '../../core/errors.ts';
import { parse } from './json.ts';
import type { OrgRole } from '../../core/roles.ts';
import type { MemberChange, Org, OrgMember, OrgResource, OrgStore, ResourceMember } from '../orgs.ts';
import type { SqlDriver, SqlValue } from './driver.ts';

interface OrgRow {
  id: string;
  slug: string;
  name: string;
  settings: string;
  createdAt: number;
}
const ORG_COLUMNS = 'o.id, o.slug, o.name, o.settings, o.created_at AS "createdAt"';
const toOrg = (row: OrgRow): Org => ({ ...row, settings: JSON.parse(row.settings) as Org['settings'] });
const MEMBER_COLUMNS = 'org_id AS "orgId", user_id AS "userId", role, created_at AS "createdAt"';
const RESOURCE_COLUMNS = 'id, org_id AS "orgId", kind, parent_id AS "parentId", name, created_at AS "createdAt"';
const PREFIX = { workspace: 'ws', project: 'prj', folder: 'fld' } as const;
/** Which kind of node may hold which (workspaces are the roots). */
const PARENT_KIND = { workspace: null, project: 'workspace', folder: 'project' } as const;

export function orgStore(db: SqlDriver): OrgStore {
  /** Would this change leave the org without an owner? Run inside the transaction, after locking the org. */
  async function lastOwner(tx: SqlDriver, orgId: string, userId: string): Promise<boolean> {
    const member = await tx.get<{ role: OrgRole }>('SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
    if (member?.role !== 'owner') return false;
    const owners = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM org_members WHERE org_id = $1 AND role = 'owner'", [orgId]);
    return Number(owners?.n ?? 0) <= 1;
  }
  /** Serialize membership changes of one org (PostgreSQL row lock; SQLite's transaction is exclusive). */
  const lockOrg = (tx: SqlDriver, orgId: string) =>
    tx.get(tx.dialect === 'postgres' ? 'SELECT id FROM orgs WHERE id = $1 FOR UPDATE' : 'SELECT id FROM orgs WHERE id = $1', [orgId]);

  return {
    async create({ slug, name, settings = {} }) {
      const org: Org = { id: `org_${randomBase62(16)}`, slug, name, settings, createdAt: Math.floor(Date.now() / 1000) };
      const { changes } = await db.run(
        'INSERT INTO orgs (id, slug, name, settings, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING',
        [org.id, slug, name, JSON.stringify(settings), org.createdAt],
      );
      if (changes === 0) throw new PortcullisError('conflict', 'an organization with this slug exists', { rule: 'unique-org-slug' });
      return org;
    },
    get: async (id) => {
      const row = await db.get<OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs o WHERE o.id = $1`, [id]);
      return row ? toOrg(row) : undefined;
    },
    bySlug: async (slug) => {
      const row = await db.get<OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs o WHERE o.slug = $1`, [slug]);
      return row ? toOrg(row) : undefined;
    },
    list: async () => (await db.all<OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs o ORDER BY o.created_at, o.id`)).map(toOrg),
    forUser: async (userId) =>
      (
        await db.all<OrgRow & { role: OrgRole }>(
          `SELECT ${ORG_COLUMNS}, m.role FROM orgs o JOIN org_members m ON m.org_id = o.id WHERE m.user_id = $1 ORDER BY o.created_at, o.id`,
          [userId],
        )
      ).map((row) => ({ ...toOrg(row), role: row.role })),
    async update(id, changes) {
      const sets: string[] = [];
      const params: SqlValue[] = [id];
      if (changes.name !== undefined) {
        params.push(changes.name);
        sets.push(`name = $${params.length}`);
      }
      if (changes.settings !== undefined) {
        params.push(JSON.stringify(changes.settings));
        sets.push(`settings = $${params.length}`);
      }
      if (!sets.length) return (await db.get('SELECT 1 AS hit FROM orgs WHERE id = $1', [id])) !== undefined;
      return (await db.run(`UPDATE orgs SET ${sets.join(', ')} WHERE id = $1`, params)).changes === 1;
    },
    async delete(id) {
      return (await db.run('DELETE FROM orgs WHERE id = $1', [id])).changes === 1;
    },

    member: (orgId, userId) => db.get<OrgMember>(`SELECT ${MEMBER_COLUMNS} FROM org_members WHERE org_id = $1 AND user_id = $2`, [orgId, userId]),
    members: (orgId) => db.all<OrgMember>(`SELECT ${MEMBER_COLUMNS} FROM org_members WHERE org_id = $1 ORDER BY created_at, user_id`, [orgId]),
    async addMember(orgId, userId, role, at) {
      const { changes } = await db.run(
        'INSERT INTO org_members (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, user_id) DO NOTHING',
        [orgId, userId, role, at],
      );
      if (changes === 0) throw new PortcullisError('conflict', 'already a member of this organization', { rule: 'unique-member' });
      return { orgId, userId, role, createdAt: at };
    },
    setRole(orgId, userId, role): Promise<MemberChange> {
      return db.transaction(async (tx) => {
        await lockOrg(tx, orgId);
        const member = await tx.get('SELECT 1 AS hit FROM org_members WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
        if (!member) return 'not_found';
        if (role !== 'owner' && (await lastOwner(tx, orgId, userId))) return 'last_owner';
        await tx.run('UPDATE org_members SET role = $3 WHERE org_id = $1 AND user_id = $2', [orgId, userId, role]);
        return 'ok';
      });
    },
    removeMember(orgId, userId): Promise<MemberChange> {
      return db.transaction(async (tx) => {
        await lockOrg(tx, orgId);
        const member = await tx.get('SELECT 1 AS hit FROM org_members WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
        if (!member) return 'not_found';
        if (await lastOwner(tx, orgId, userId)) return 'last_owner';
        await tx.run('DELETE FROM resource_members WHERE user_id = $2 AND resource_id IN (SELECT id FROM org_resources WHERE org_id = $1)', [orgId, userId]);
        await tx.run('DELETE FROM org_members WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
        return 'ok';
      });
    },

    resources: (orgId) => db.all<OrgResource>(`SELECT ${RESOURCE_COLUMNS} FROM org_resources WHERE org_id = $1 ORDER BY created_at, id`, [orgId]),
    resource: (id) => db.get<OrgResource>(`SELECT ${RESOURCE_COLUMNS} FROM org_resources WHERE id = $1`, [id]),
    async createResource({ orgId, kind, parentId, name, at }) {
      const wanted = PARENT_KIND[kind];
      if (wanted === null && parentId !== null) throw new PortcullisError('invalid_request', 'a workspace has no parent', { detail: { errors: [{ path: 'parentId', message: 'must be empty for a workspace' }] } });
      if (wanted !== null) {
        const parent = parentId ? await db.get<{ orgId: string; kind: string }>('SELECT org_id AS "orgId", kind FROM org_resources WHERE id = $1', [parentId]) : undefined;
        if (!parent || parent.orgId !== orgId || parent.kind !== wanted) {
          throw new PortcullisError('invalid_request', `a ${kind} belongs to a ${wanted} of the same organization`, {
            detail: { errors: [{ path: 'parentId', message: `must be a ${wanted} of this organization` }] },
          });
        }
      }
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
