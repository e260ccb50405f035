/** Grant contexts (the org a grant acts for), in SQL. */
import type { GrantContext, GrantContextStore } from '../grant-contexts.ts';
import { Conditions } from './conditions.ts';
import type { SqlDriver } from './driver.ts';

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
      const filters = new Conditions();
      if (userId) filters.add('user_id = ?', userId);
      if (orgId) filters.add('org_id = ?', orgId);
      if (!includeRevoked) filters.require('revoked_at IS NULL');
      return db.all<GrantContext>(`SELECT ${GRANT_COLUMNS} FROM grant_contexts ${filters.where()} ORDER BY created_at DESC, grant_id`, filters.params);
    },
    async touch(grantId, at) {
      await db.run('UPDATE grant_contexts SET last_used_at = $2 WHERE grant_id = $1', [grantId, at]);
    },
    async markRevoked(grantId, at) {
      await db.run('UPDATE grant_contexts SET revoked_at = COALESCE(revoked_at, $2) WHERE grant_id = $1', [grantId, at]);
    },
  };
}
