/**
 * Organizations, resources, memberships, invitations, API keys, grant contexts and the audit log,
 * in SQL both dialects accept (see driver.ts). Invariants that span rows — an org keeps an owner,
 * the audit chain never forks — are kept inside one transaction.
 */
import { PortcullisError } from '../../core/errors.ts';
import { randomBase62 } from '../../core/crypto.ts';
import type { ApiKeyRecord, ApiKeyStore, AuditEvent, AuditStore, GrantContext, GrantContextStore, Invitation, InvitationStore, MemberChange, Org, OrgMember, OrgResource, OrgStore, ResourceMember } from '../types.ts';
import type { SqlDriver, SqlValue } from './driver.ts';
import type { OrgRole } from '../../core/roles.ts';

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

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

const INVITATION_COLUMNS =
  'id, org_id AS "orgId", email, role, invited_by AS "invitedBy", created_at AS "createdAt", expires_at AS "expiresAt", ' +
  'accepted_at AS "acceptedAt", accepted_by AS "acceptedBy", revoked_at AS "revokedAt"';

export function invitationStore(db: SqlDriver): InvitationStore {
  return {
    async create(i) {
      await db.run(
        'INSERT INTO invitations (id, org_id, email, role, invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [i.id, i.orgId, i.email, i.role, i.invitedBy, i.createdAt, i.expiresAt],
      );
    },
    get: (id) => db.get<Invitation>(`SELECT ${INVITATION_COLUMNS} FROM invitations WHERE id = $1`, [id]),
    list: (orgId) => db.all<Invitation>(`SELECT ${INVITATION_COLUMNS} FROM invitations WHERE org_id = $1 ORDER BY created_at DESC, id`, [orgId]),
    accept: (id, userId, at) =>
      db.get<Invitation>(
        `UPDATE invitations SET accepted_at = $3, accepted_by = $2
         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3
         RETURNING ${INVITATION_COLUMNS}`,
        [id, userId, at],
      ),
    async revoke(id, at) {
      return (await db.run('UPDATE invitations SET revoked_at = $2 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL', [id, at])).changes === 1;
    },
  };
}

interface ApiKeyRow extends Omit<ApiKeyRecord, 'applications' | 'resources' | 'permissions'> {
  applications: string | null;
  resources: string | null;
  permissions: string;
}
const KEY_COLUMNS =
  'id, org_id AS "orgId", user_id AS "userId", name, prefix, hash, applications, resources, permissions, created_at AS "createdAt", ' +
  'expires_at AS "expiresAt", revoked_at AS "revokedAt", revoked_by AS "revokedBy", last_used_at AS "lastUsedAt", last_used_ip AS "lastUsedIp"';
const toKey = (row: ApiKeyRow): ApiKeyRecord => ({
  ...row,
  applications: parse<string[]>(row.applications),
  resources: parse<string[]>(row.resources),
  permissions: JSON.parse(row.permissions) as ApiKeyRecord['permissions'],
});

export function apiKeyStore(db: SqlDriver): ApiKeyStore {
  return {
    async create(k) {
      await db.run(
        `INSERT INTO api_keys (id, org_id, user_id, name, prefix, hash, applications, resources, permissions, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [k.id, k.orgId, k.userId, k.name, k.prefix, k.hash, json(k.applications), json(k.resources), JSON.stringify(k.permissions), k.createdAt, k.expiresAt],
      );
    },
    get: async (id) => {
      const row = await db.get<ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
      return row ? toKey(row) : undefined;
    },
    byHash: async (hash) => {
      const row = await db.get<ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = $1`, [hash]);
      return row ? toKey(row) : undefined;
    },
    list: async ({ orgId, userId }) => {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (orgId) {
        params.push(orgId);
        where.push(`org_id = $${params.length}`);
      }
      if (userId) {
        params.push(userId);
        where.push(`user_id = $${params.length}`);
      }
      const rows = await db.all<ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id`, params);
      return rows.map(toKey);
    },
    async revoke(id, by, at) {
      return (await db.run('UPDATE api_keys SET revoked_at = $3, revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL', [id, by, at])).changes === 1;
    },
    async revokeForUser(userId, by, at, orgId) {
      const rows = await db.all<{ id: string }>(
        `UPDATE api_keys SET revoked_at = $3, revoked_by = $2 WHERE user_id = $1 AND revoked_at IS NULL ${orgId ? 'AND org_id = $4' : ''} RETURNING id`,
        orgId ? [userId, by, at, orgId] : [userId, by, at],
      );
      return rows.map((r) => r.id);
    },
    async touch(id, at, ip) {
      await db.run('UPDATE api_keys SET last_used_at = $2, last_used_ip = $3 WHERE id = $1', [id, at, ip]);
    },
  };
}

const GRANT_COLUMNS =
  'grant_id AS "grantId", user_id AS "userId", client_id AS "clientId", org_id AS "orgId", created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"';

export function grantContextStore(db: SqlDriver): GrantContextStore {
  return {
    async put(g) {
      await db.run(
        `INSERT INTO grant_contexts (grant_id, user_id, client_id, org_id, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (grant_id) DO UPDATE SET org_id = excluded.org_id, user_id = excluded.user_id, client_id = excluded.client_id`,
        [g.grantId, g.userId, g.clientId, g.orgId, g.createdAt],
      );
    },
    get: (grantId) => db.get<GrantContext>(`SELECT ${GRANT_COLUMNS} FROM grant_contexts WHERE grant_id = $1`, [grantId]),
    list: async ({ userId, orgId, includeRevoked }) => {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (userId) {
        params.push(userId);
        where.push(`user_id = $${params.length}`);
      }
      if (orgId) {
        params.push(orgId);
        where.push(`org_id = $${params.length}`);
      }
      if (!includeRevoked) where.push('revoked_at IS NULL');
      return db.all<GrantContext>(`SELECT ${GRANT_COLUMNS} FROM grant_contexts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, grant_id`, params);
    },
    async touch(grantId, at) {
      await db.run('UPDATE grant_contexts SET last_used_at = $2 WHERE grant_id = $1', [grantId, at]);
    },
    async markRevoked(grantId, at) {
      await db.run('UPDATE grant_contexts SET revoked_at = COALESCE(revoked_at, $2) WHERE grant_id = $1', [grantId, at]);
    },
  };
}

interface AuditRow extends Omit<AuditEvent, 'details'> {
  details: string | null;
}
const AUDIT_COLUMNS =
  'seq, at, org_id AS "orgId", actor, kind, subject, client_id AS "clientId", app, tool, decision, reason, details, prev_hash AS "prevHash", hash';
const toAudit = (row: AuditRow): AuditEvent => ({ ...row, seq: Number(row.seq), details: parse<Record<string, unknown>>(row.details) });
export const AUDIT_GENESIS = 'genesis';

export function auditStore(db: SqlDriver): AuditStore {
  // One transaction: read the chain's head and append to it, so concurrent writers (in any
  // process) cannot both chain to the same head. PostgreSQL: an advisory lock for the chain.
  const appendMany: AuditStore['appendMany'] = (events, hash) =>
    db.transaction(async (tx) => {
      if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock($1)', [7_301_915]);
      const head = await tx.get<{ hash: string }>('SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1');
      let prevHash = head?.hash ?? AUDIT_GENESIS;
      const written: AuditEvent[] = [];
      for (const event of events) {
        const digest = hash(prevHash, event);
        const row = await tx.get<AuditRow>(
          `INSERT INTO audit_events (at, org_id, actor, kind, subject, client_id, app, tool, decision, reason, details, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${AUDIT_COLUMNS}`,
          [event.at, event.orgId, event.actor, event.kind, event.subject, event.clientId, event.app, event.tool, event.decision, event.reason, json(event.details), prevHash, digest],
        );
        written.push(toAudit(row!));
        prevHash = digest;
      }
      return written;
    });
  return {
    append: async (event, hash) => (await appendMany([event], hash))[0]!,
    appendMany,
    list: async (filter) => {
      const where: string[] = [];
      const params: SqlValue[] = [];
      const add = (clause: string, value: SqlValue) => {
        params.push(value);
        where.push(clause.replace('?', `$${params.length}`));
      };
      if (filter.orgId) add('org_id = ?', filter.orgId);
      if (filter.since !== undefined) add('at >= ?', filter.since);
      if (filter.until !== undefined) add('at < ?', filter.until);
      if (filter.kind) add('kind = ?', filter.kind);
      if (filter.subject) add('subject = ?', filter.subject);
      if (filter.app) add('app = ?', filter.app);
      if (filter.decision) add('decision = ?', filter.decision);
      if (filter.afterSeq !== undefined) add('seq > ?', filter.afterSeq);
      params.push(Math.min(filter.limit ?? 100, 1000));
      const rows = await db.all<AuditRow>(
        `SELECT ${AUDIT_COLUMNS} FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`,
        params,
      );
      return rows.map(toAudit);
    },
    all: async (afterSeq, limit) =>
      (await db.all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])).map(toAudit),
  };
}
