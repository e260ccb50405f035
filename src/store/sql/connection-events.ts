/** The connection doctor's record, in SQL: one multi-row INSERT per batch, bounded by `sweep`. */
import type { ConnectionEvent, ConnectionEventStore } from '../connection-events.ts';
import type { SqlDriver, SqlValue } from './driver.ts';
import { json, parse } from './json.ts';

interface Row {
  id: number | string;
  at: number | string;
  clientId: string | null;
  userId: string | null;
  kind: string;
  ok: number | string;
  detail: string | null;
}

const COLUMNS = 'id, at, client_id AS "clientId", user_id AS "userId", kind, ok, detail';
const DEFAULT_LIMIT = 500;
// Stays under SQLite's 32,766 parameters (6 per row).
const ROWS_PER_STATEMENT = 1000;

// PostgreSQL returns BIGINT as a string.
const toEvent = (row: Row): ConnectionEvent => ({
  id: Number(row.id),
  at: Number(row.at),
  clientId: row.clientId,
  userId: row.userId,
  kind: row.kind,
  ok: Number(row.ok) === 1,
  detail: parse<Record<string, unknown>>(row.detail),
});

/** The newest `limit` rows matching `where`, returned oldest first. */
async function newest(db: SqlDriver, where: string, params: SqlValue[], limit: number): Promise<ConnectionEvent[]> {
  const rows = await db.all<Row>(`SELECT ${COLUMNS} FROM connection_events WHERE ${where} ORDER BY id DESC LIMIT ${Math.max(1, Math.floor(limit))}`, params);
  return rows.map(toEvent).reverse();
}

export function connectionEventStore(db: SqlDriver): ConnectionEventStore {
  return {
    async append(events) {
      for (let start = 0; start < events.length; start += ROWS_PER_STATEMENT) {
        const values: SqlValue[] = [];
        const rows = events.slice(start, start + ROWS_PER_STATEMENT).map((e, i) => {
          values.push(e.at, e.clientId, e.userId, e.kind, e.ok ? 1 : 0, json(e.detail));
          return `($${i * 6 + 1}, $${i * 6 + 2}, $${i * 6 + 3}, $${i * 6 + 4}, $${i * 6 + 5}, $${i * 6 + 6})`;
        });
        await db.run(`INSERT INTO connection_events (at, client_id, user_id, kind, ok, detail) VALUES ${rows.join(', ')}`, values);
      }
    },
    forClient: (clientId, since, limit = DEFAULT_LIMIT) => newest(db, 'client_id = $1 AND at >= $2', [clientId, since], limit),
    forUser: (userId, since, limit = DEFAULT_LIMIT) => newest(db, 'user_id = $1 AND at >= $2', [userId, since], limit),
    since: (since, limit = DEFAULT_LIMIT) => newest(db, 'at >= $1', [since], limit),
    async newerThan(after, limit = DEFAULT_LIMIT) {
      const rows = await db.all<Row>(`SELECT ${COLUMNS} FROM connection_events WHERE id > $1 ORDER BY id LIMIT ${Math.max(1, Math.floor(limit))}`, [after]);
      return rows.map(toEvent);
    },
    async sweep(before, keepPerClient) {
      const old = await db.run('DELETE FROM connection_events WHERE at < $1', [before]);
      // Keep each client's newest rows: a client retrying in a loop cannot fill the table.
      const over = await db.run(
        `DELETE FROM connection_events WHERE id IN (
           SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY COALESCE(client_id, '') ORDER BY id DESC) AS n FROM connection_events) ranked
           WHERE n > $1)`,
        [keepPerClient],
      );
      return old.changes + over.changes;
    },
  };
}
