/** Revocation events, in SQL: sequence numbers drawn and committed one writer at a time. */
import type { RevocationEvent, RevocationKind, RevocationStore } from '../revocations.ts';
import type { SqlDriver } from './driver.ts';

/** Arbitrary number for pg_advisory_xact_lock: "Portcullis revocation sequence". */
const REVOCATION_LOCK = 7_301_915;

/**
 * Consumers replay events with `since(lastSeenSeq)`, so an event must never become visible after
 * one with a higher seq. SQLite has one writer at a time, so seq order is commit order. PostgreSQL
 * hands out BIGSERIAL values before commit: a statement that drew seq 5 and then waited (for example
 * on a concurrent insert of the same (kind, id)) could commit after seq 6 was read, and be skipped
 * for good. There the insert first takes a transaction-scoped advisory lock, still in one statement,
 * so seq values are drawn and committed one writer at a time.
 */
const ADD_REVOCATION = {
  sqlite: 'INSERT INTO revocations (kind, id, at, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, id) DO NOTHING',
  postgres: `WITH seq_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(${REVOCATION_LOCK}))
    INSERT INTO revocations (kind, id, at, expires_at) SELECT $1, $2, $3, $4 FROM seq_lock
    ON CONFLICT (kind, id) DO NOTHING`,
};

/**
 * Kinds whose event can happen again for the same id: a user disabled, re-enabled and disabled
 * again; a member removed, re-added and removed again. The second event must move `at` (every
 * token issued until then is refused) and reach every consumer, so it replaces the row under a NEW
 * sequence number — consumers replaying from their last seq would never see an updated old one.
 */
const RENEWABLE: ReadonlySet<RevocationKind> = new Set(['user', 'member']);

export function revocationStore(db: SqlDriver): RevocationStore {
  return {
    async add({ kind, id, at, expiresAt }) {
      if (RENEWABLE.has(kind)) {
        return db.transaction(async (tx) => {
          // The same lock as ADD_REVOCATION: seq values drawn and committed one writer at a time.
          if (tx.dialect === 'postgres') await tx.run(`SELECT pg_advisory_xact_lock(${REVOCATION_LOCK})`);
          const row = await tx.get<{ seq: number; at: number; expiresAt: number }>(
            'SELECT seq, at, expires_at AS "expiresAt" FROM revocations WHERE kind = $1 AND id = $2',
            [kind, id],
          );
          // Nothing new (a repeated or older event): idempotent, the same sequence number.
          if (row && Number(row.at) >= at && Number(row.expiresAt) >= expiresAt) return Number(row.seq);
          if (row) await tx.run('DELETE FROM revocations WHERE seq = $1', [row.seq]);
          const inserted = await tx.get<{ seq: number }>('INSERT INTO revocations (kind, id, at, expires_at) VALUES ($1, $2, $3, $4) RETURNING seq', [
            kind,
            id,
            Math.max(at, Number(row?.at ?? at)),
            Math.max(expiresAt, Number(row?.expiresAt ?? expiresAt)),
          ]);
          return Number(inserted!.seq);
        });
      }
      await db.run(ADD_REVOCATION[db.dialect], [kind, id, at, expiresAt]);
      const row = await db.get<{ seq: number }>('SELECT seq FROM revocations WHERE kind = $1 AND id = $2', [kind, id]);
      return Number(row!.seq);
    },
    since: (seq, limit = 1000) =>
      db.all<RevocationEvent>(
        'SELECT seq, kind, id, at, expires_at AS "expiresAt" FROM revocations WHERE seq > $1 ORDER BY seq LIMIT $2',
        [seq, limit],
      ),
    async isRevoked(kind, id) {
      return (await db.get('SELECT 1 AS hit FROM revocations WHERE kind = $1 AND id = $2', [kind, id])) !== undefined;
    },
    async deleteExpired(now) {
      return (await db.run('DELETE FROM revocations WHERE expires_at < $1', [now])).changes;
    },
  };
}
