/** The engine's artifacts in SQL: one table, payloads opaque; consume and kill are conditional statements. */
import type { OidcRecord, OidcStore } from '../oidc.ts';
import type { SqlDriver } from './driver.ts';

const OIDC_COLUMNS =
  'model, id, payload, grant_id AS "grantId", user_code AS "userCode", uid, parent_id AS "parentId", ' +
  'expires_at AS "expiresAt", consumed_at AS "consumedAt", killed_at AS "killedAt", account_id AS "accountId"';

export function oidcStore(db: SqlDriver): OidcStore {
  const one = (where: string, params: (string | number)[]) =>
    db.get<OidcRecord>(`SELECT ${OIDC_COLUMNS} FROM oidc_records WHERE ${where}`, params);
  return {
    async upsert(r) {
      await db.run(
        `INSERT INTO oidc_records (model, id, payload, grant_id, user_code, uid, parent_id, expires_at, account_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (model, id) DO UPDATE SET
           payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
           uid = excluded.uid, parent_id = COALESCE(excluded.parent_id, oidc_records.parent_id),
           expires_at = excluded.expires_at, account_id = excluded.account_id`,
        [r.model, r.id, r.payload, r.grantId ?? null, r.userCode ?? null, r.uid ?? null, r.parentId ?? null, r.expiresAt ?? null, r.accountId ?? null],
      );
    },
    find: (model, id) => one('model = $1 AND id = $2', [model, id]),
    findByUid: (model, uid) => one('model = $1 AND uid = $2', [model, uid]),
    findByUserCode: (model, userCode) => one('model = $1 AND user_code = $2', [model, userCode]),
    async consume(model, id, at) {
      const { changes } = await db.run(
        'UPDATE oidc_records SET consumed_at = $3 WHERE model = $1 AND id = $2 AND consumed_at IS NULL',
        [model, id, at],
      );
      return changes === 1;
    },
    async destroy(model, id) {
      await db.run('DELETE FROM oidc_records WHERE model = $1 AND id = $2', [model, id]);
    },
    async revokeByGrantId(grantId) {
      return (await db.run('DELETE FROM oidc_records WHERE grant_id = $1', [grantId])).changes;
    },
    children: (model, parentId) =>
      db.all<OidcRecord>(`SELECT ${OIDC_COLUMNS} FROM oidc_records WHERE model = $1 AND parent_id = $2`, [model, parentId]),
    async kill(model, ids, at) {
      for (const id of ids) {
        await db.run(
          'UPDATE oidc_records SET killed_at = $3 WHERE model = $1 AND id = $2 AND consumed_at IS NULL AND killed_at IS NULL',
          [model, id, at],
        );
      }
    },
    async deleteExpired(now) {
      return (await db.run('DELETE FROM oidc_records WHERE expires_at IS NOT NULL AND expires_at < $1', [now])).changes;
    },
    byAccount: (model, accountId) =>
      db.all<OidcRecord>(`SELECT ${OIDC_COLUMNS} FROM oidc_records WHERE model = $1 AND account_id = $2`, [model, accountId]),
    async destroyByAccount(model, accountId) {
      return (await db.run('DELETE FROM oidc_records WHERE model = $1 AND account_id = $2', [model, accountId])).changes;
    },
  };
}
