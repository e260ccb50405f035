/** Registered OAuth clients, in SQL. */
import type { ClientRecord, ClientStore } from '../clients.ts';
import type { SqlDriver } from './driver.ts';

interface ClientRow {
  clientId: string;
  metadata: string;
  kind: ClientRecord['kind'];
  createdAt: number;
  lastUsedAt: number | null;
}
const CLIENT_COLUMNS = 'client_id AS "clientId", metadata, kind, created_at AS "createdAt", last_used_at AS "lastUsedAt"';
const toClient = (row: ClientRow | undefined): ClientRecord | undefined =>
  row ? { ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown> } : undefined;

export function clientStore(db: SqlDriver): ClientStore {
  return {
    async upsert(record) {
      await db.run(
        `INSERT INTO clients (client_id, metadata, kind, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (client_id) DO UPDATE SET metadata = excluded.metadata, kind = excluded.kind`,
        [record.clientId, JSON.stringify(record.metadata), record.kind, record.createdAt ?? Math.floor(Date.now() / 1000)],
      );
    },
    find: async (clientId) => toClient(await db.get<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE client_id = $1`, [clientId])),
    list: async () => (await db.all<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM clients ORDER BY created_at, client_id`)).map((r) => toClient(r)!),
    async delete(clientId) {
      return (await db.run('DELETE FROM clients WHERE client_id = $1', [clientId])).changes === 1;
    },
    async markUsed(clientId, at) {
      await db.run('UPDATE clients SET last_used_at = $2 WHERE client_id = $1', [clientId, at]);
    },
    async deleteUnusedDynamic(createdBefore) {
      return (
        await db.run("DELETE FROM clients WHERE kind = 'dynamic' AND last_used_at IS NULL AND created_at < $1", [createdBefore])
      ).changes;
    },
  };
}
