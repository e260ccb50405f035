/** Gateway session and task bindings, in SQL. */
import type { Binding, BindingStore } from '../bindings.ts';
import type { SqlDriver } from './driver.ts';

export function bindingStore(db: SqlDriver): BindingStore {
  const COLUMNS = 'kind, app_slug AS "appSlug", key, owner, value, created_at AS "createdAt", expires_at AS "expiresAt"';
  return {
    async create(b) {
      const { changes } = await db.run(
        `INSERT INTO gateway_bindings (kind, app_slug, key, owner, value, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (kind, app_slug, key) DO NOTHING`,
        [b.kind, b.appSlug, b.key, b.owner, b.value, b.createdAt, b.expiresAt],
      );
      return changes === 1;
    },
    find: (kind, appSlug, key, now) =>
      db.get<Binding>(`SELECT ${COLUMNS} FROM gateway_bindings WHERE kind = $1 AND app_slug = $2 AND key = $3 AND expires_at > $4`, [
        kind,
        appSlug,
        key,
        now,
      ]),
    async extend(kind, appSlug, key, expiresAt) {
      await db.run('UPDATE gateway_bindings SET expires_at = $4 WHERE kind = $1 AND app_slug = $2 AND key = $3', [kind, appSlug, key, expiresAt]);
    },
    async delete(kind, appSlug, key) {
      await db.run('DELETE FROM gateway_bindings WHERE kind = $1 AND app_slug = $2 AND key = $3', [kind, appSlug, key]);
    },
    async deleteExpired(now) {
      return (await db.run('DELETE FROM gateway_bindings WHERE expires_at <= $1', [now])).changes;
    },
  };
}
