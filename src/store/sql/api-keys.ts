/** API keys, in SQL (keyed hashes only). */
import { json, parse } from './json.ts';
import type { ApiKeyRecord, ApiKeyStore } from '../api-keys.ts';
import { Conditions } from './conditions.ts';
import type { SqlDriver } from './driver.ts';

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
      const filters = new Conditions();
      if (orgId) filters.add('org_id = ?', orgId);
      if (userId) filters.add('user_id = ?', userId);
      const rows = await db.all<ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys ${filters.where()} ORDER BY created_at DESC, id`, filters.params);
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
