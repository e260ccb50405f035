/** One-time values, in SQL: taken by one conditional DELETE … RETURNING. */
import type { OneTimeStore } from '../one-time.ts';
import type { SqlDriver } from './driver.ts';

export function oneTimeStore(db: SqlDriver): OneTimeStore {
  return {
    async put(kind, key, value, expiresAt) {
      await db.run(
        `INSERT INTO one_time (kind, key, value, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        [kind, key, value, expiresAt],
      );
    },
    async consume(kind, key, now) {
      const row = await db.get<{ value: string }>(
        'DELETE FROM one_time WHERE kind = $1 AND key = $2 AND expires_at > $3 RETURNING value',
        [kind, key, now],
      );
      return row?.value;
    },
    async putIfAbsent(kind, key, value, expiresAt, now) {
      // The conditional upsert takes over only an expired entry; a live one makes it a no-op (0 rows).
      const result = await db.run(
        `INSERT INTO one_time (kind, key, value, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at WHERE one_time.expires_at <= $5`,
        [kind, key, value, expiresAt, now],
      );
      return result.changes === 1;
    },
    async deleteExpired(now) {
      return (await db.run('DELETE FROM one_time WHERE expires_at <= $1', [now])).changes;
    },
  };
}
