/** Access requests, in SQL (migration 0014). */
import type { AccessRequest, AccessRequestStore } from '../access-requests.ts';
import type { SqlDriver } from './driver.ts';

const COLUMNS =
  'id, org_id AS "orgId", user_id AS "userId", kind, client_id AS "clientId", client_name AS "clientName", application, status, resource_id AS "resourceId", role, created_at AS "createdAt", decided_at AS "decidedAt", decided_by AS "decidedBy"';

const toRequest = (row: AccessRequest): AccessRequest => ({
  ...row,
  createdAt: Number(row.createdAt),
  decidedAt: row.decidedAt === null ? null : Number(row.decidedAt),
});

export function accessRequestStore(db: SqlDriver): AccessRequestStore {
  const pending = async (orgId: string, userId: string, clientId: string, kind: string) =>
    db.get<AccessRequest>(`SELECT ${COLUMNS} FROM access_requests WHERE org_id = $1 AND user_id = $2 AND client_id = $3 AND kind = $4 AND status = 'pending'`, [orgId, userId, clientId, kind]);
  return {
    async create(r) {
      // The partial unique index (one pending per person, org and client) decides a race: the loser inserts nothing.
      const result = await db.run(
        `INSERT INTO access_requests (id, org_id, user_id, kind, client_id, client_name, application, status, resource_id, role, created_at, decided_at, decided_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', NULL, NULL, $8, NULL, NULL) ON CONFLICT DO NOTHING`,
        [r.id, r.orgId, r.userId, r.kind, r.clientId, r.clientName, r.application, r.createdAt],
      );
      const row = await pending(r.orgId, r.userId, r.clientId, r.kind);
      if (!row) throw new Error('access request vanished');
      return { request: toRequest(row), created: result.changes === 1 };
    },
    async get(orgId, id) {
      const row = await db.get<AccessRequest>(`SELECT ${COLUMNS} FROM access_requests WHERE org_id = $1 AND id = $2`, [orgId, id]);
      return row ? toRequest(row) : undefined;
    },
    listForOrg: async (orgId) => (await db.all<AccessRequest>(`SELECT ${COLUMNS} FROM access_requests WHERE org_id = $1 ORDER BY created_at DESC, id`, [orgId])).map(toRequest),
    listForUser: async (userId) => (await db.all<AccessRequest>(`SELECT ${COLUMNS} FROM access_requests WHERE user_id = $1 ORDER BY created_at DESC, id`, [userId])).map(toRequest),
    async decide(orgId, id, d) {
      const result = await db.run(
        `UPDATE access_requests SET status = $3, resource_id = $4, role = $5, decided_at = $6, decided_by = $7 WHERE org_id = $1 AND id = $2 AND status = 'pending'`,
        [orgId, id, d.status, d.resourceId, d.role, d.at, d.by],
      );
      return result.changes === 1;
    },
    decideClient: async (orgId, clientId, d) =>
      (
        await db.all<AccessRequest>(
          `UPDATE access_requests SET status = $3, decided_at = $4, decided_by = $5 WHERE org_id = $1 AND client_id = $2 AND kind = 'client' AND status = 'pending' RETURNING ${COLUMNS}`,
          [orgId, clientId, d.status, d.at, d.by],
        )
      ).map(toRequest),
  };
}
