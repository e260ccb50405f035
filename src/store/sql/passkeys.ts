/** Passkeys, in SQL: a use is one conditional UPDATE, so the counter only moves forward, even under races. */
import type { PasskeyCredential, PasskeyStore } from '../passkeys.ts';
import type { SqlDriver } from './driver.ts';

const COLUMNS =
  'id, user_id AS "userId", public_key AS "publicKey", counter, transports, backed_up AS "backedUp", name, created_at AS "createdAt", last_used_at AS "lastUsedAt"';

type Row = Omit<PasskeyCredential, 'transports' | 'backedUp'> & { transports: string; backedUp: number | boolean };

const toCredential = (row: Row | undefined): PasskeyCredential | undefined =>
  row
    ? {
        ...row,
        counter: Number(row.counter),
        transports: JSON.parse(row.transports) as string[],
        backedUp: Number(row.backedUp) === 1,
        createdAt: Number(row.createdAt),
        lastUsedAt: row.lastUsedAt === null ? null : Number(row.lastUsedAt),
      }
    : undefined;

export function passkeyStore(db: SqlDriver): PasskeyStore {
  return {
    async add(credential) {
      const result = await db.run(
        `INSERT INTO passkeys (id, user_id, public_key, counter, transports, backed_up, name, created_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
        [
          credential.id,
          credential.userId,
          credential.publicKey,
          credential.counter,
          JSON.stringify(credential.transports),
          credential.backedUp ? 1 : 0,
          credential.name,
          credential.createdAt,
          credential.lastUsedAt,
        ],
      );
      return result.changes === 1;
    },
    find: async (id) => toCredential(await db.get<Row>(`SELECT ${COLUMNS} FROM passkeys WHERE id = $1`, [id])),
    forUser: async (userId) =>
      (await db.all<Row>(`SELECT ${COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`, [userId])).map((row) => toCredential(row)!),
    async use(id, counter, backedUp, now) {
      // WebAuthn §7.2 step 22: a non-zero counter must exceed the stored one; both zero means the
      // authenticator keeps no counter.
      const result = await db.run(
        'UPDATE passkeys SET counter = $2, backed_up = $3, last_used_at = $4 WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0))',
        [id, counter, backedUp ? 1 : 0, now],
      );
      return result.changes > 0;
    },
    async remove(userId, id) {
      const result = await db.run('DELETE FROM passkeys WHERE user_id = $1 AND id = $2', [userId, id]);
      return result.changes > 0;
    },
  };
}
