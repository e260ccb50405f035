/**
 * The audit log, in SQL: one hash chain per organization, appended in order inside one
 * transaction that also moves each chain's head (audit_chains), so a chain never forks and a
 * record cut off its end is noticed.
 */
import { json, parse } from './json.ts';
import { AUDIT_GENESIS, SERVER_CHAIN, type AuditChain, type AuditCount, type AuditEvent, type AuditFilter, type AuditGroup, type AuditInput, type AuditStore } from '../audit.ts';
import { Conditions } from './conditions.ts';
import type { SqlDriver, SqlValue } from './driver.ts';

interface AuditRow extends Omit<AuditEvent, 'details' | 'chain'> {
  details: string | null;
  chain: string | null;
}
interface ChainRow {
  chain: string;
  head: string;
  headSeq: number | string;
  records: number | string;
  checkpointHash: string | null;
  checkpointSeq: number | string | null;
  checkpointAt: number | string | null;
}
const AUDIT_COLUMNS =
  'seq, at, org_id AS "orgId", actor, kind, subject, client_id AS "clientId", app, tool, decision, reason, details, chain, prev_hash AS "prevHash", hash';
const CHAIN_COLUMNS =
  'chain, head, head_seq AS "headSeq", records, checkpoint_hash AS "checkpointHash", checkpoint_seq AS "checkpointSeq", checkpoint_at AS "checkpointAt"';
// PostgreSQL returns BIGINT as a string.
const toAudit = (row: AuditRow): AuditEvent => ({
  ...row,
  seq: Number(row.seq),
  at: Number(row.at),
  chain: row.chain ?? SERVER_CHAIN,
  details: parse<Record<string, unknown>>(row.details),
});
const toChain = (row: ChainRow): AuditChain => ({
  chain: row.chain,
  head: row.head,
  headSeq: Number(row.headSeq),
  records: Number(row.records),
  checkpoint: row.checkpointHash === null ? null : { hash: row.checkpointHash, seq: Number(row.checkpointSeq), at: Number(row.checkpointAt) },
});

/** The chain an event belongs to. */
export const chainOf = (event: Pick<AuditInput, 'orgId'>): string => event.orgId ?? SERVER_CHAIN;

function filterConditions(filter: AuditFilter): Conditions {
  const where = new Conditions();
  if (filter.orgId) where.add('org_id = ?', filter.orgId);
  if (filter.since !== undefined) where.add('at >= ?', filter.since);
  if (filter.until !== undefined) where.add('at < ?', filter.until);
  if (filter.kind) where.add('kind = ?', filter.kind);
  if (filter.kindPrefix) where.add("kind LIKE ? ESCAPE '\\'", `${filter.kindPrefix.replace(/[\\%_]/g, '\\$&')}%`);
  if (filter.subject) where.add('subject = ?', filter.subject);
  if (filter.actor) where.add('actor = ?', filter.actor);
  if (filter.clientId) where.add('client_id = ?', filter.clientId);
  if (filter.app) where.add('app = ?', filter.app);
  if (filter.tool) where.add('tool = ?', filter.tool);
  if (filter.decision) where.add('decision = ?', filter.decision);
  if (filter.reason) where.add('reason = ?', filter.reason);
  return where;
}

// Fixed expressions per group (never text from a request). Integer division truncates in both
// dialects (`at` is an integer column), so `day` is the same number on SQLite and PostgreSQL.
const GROUP_SQL: Record<AuditGroup, string> = {
  day: 'at / 86400',
  outcome: "CASE WHEN decision = 'deny' THEN 'denied' WHEN reason IS NOT NULL THEN 'failed' ELSE 'allowed' END",
  reason: 'reason',
  tool: 'tool',
  subject: 'subject',
  client: 'client_id',
};

async function countGroups(db: SqlDriver, filter: AuditFilter, by: AuditGroup[], limit: number): Promise<AuditCount[]> {
  const where = filterConditions(filter);
  const top = where.next(Math.max(1, Math.min(limit, 1000)));
  const columns = by.map((g, i) => `${GROUP_SQL[g]} AS g${i}`).join(', ');
  const positions = by.map((_, i) => i + 1).join(', ');
  const rows = await db.all<Record<string, string | number | null>>(
    `SELECT ${columns}, COUNT(*) AS n FROM audit_events ${where.where()} GROUP BY ${positions} ORDER BY n DESC, ${positions} LIMIT ${top}`,
    where.params,
  );
  // PostgreSQL returns BIGINT (COUNT, the day) as a string.
  return rows.map((row) => ({ values: by.map((g, i) => (g === 'day' && row[`g${i}`] !== null ? Number(row[`g${i}`]) : row[`g${i}`]!)), count: Number(row.n) }));
}

/** The heads of the batch's chains, in one query (GENESIS for a chain not seen before). */
async function chainHeads(tx: SqlDriver, chains: string[]): Promise<Map<string, { head: string; known: boolean }>> {
  const placeholders = chains.map((_, i) => `$${i + 1}`).join(', ');
  const rows = await tx.all<{ chain: string; head: string }>(`SELECT chain, head FROM audit_chains WHERE chain IN (${placeholders})`, chains);
  const known = new Map(rows.map((r) => [r.chain, r.head]));
  return new Map(chains.map((c) => [c, { head: known.get(c) ?? AUDIT_GENESIS, known: known.has(c) }]));
}

const INSERT_COLUMNS = 14;

/**
 * One multi-row INSERT for the whole batch and one head update per chain: a group commit costs a
 * few round trips whatever its size (a row per statement made a busy gateway's batches slow on
 * PostgreSQL). Hashes are computed here, in order, each from the one before it in its chain.
 */
async function insertRecords(tx: SqlDriver, events: AuditInput[], hash: (prev: string, e: AuditInput) => string): Promise<AuditEvent[]> {
  const heads = await chainHeads(tx, [...new Set(events.map(chainOf))]);
  const linked = events.map((event) => {
    const chain = chainOf(event);
    const head = heads.get(chain)!;
    const prevHash = head.head;
    head.head = hash(prevHash, event);
    return { ...event, chain, prevHash, hash: head.head };
  });
  const values: SqlValue[] = [];
  const rows = linked.map((e, i) => {
    values.push(e.at, e.orgId, e.actor, e.kind, e.subject, e.clientId, e.app, e.tool, e.decision, e.reason, json(e.details), e.chain, e.prevHash, e.hash);
    return `(${Array.from({ length: INSERT_COLUMNS }, (_, k) => `$${i * INSERT_COLUMNS + k + 1}`).join(', ')})`;
  });
  const inserted = await tx.all<{ seq: number | string; hash: string }>(
    `INSERT INTO audit_events (at, org_id, actor, kind, subject, client_id, app, tool, decision, reason, details, chain, prev_hash, hash)
     VALUES ${rows.join(', ')} RETURNING seq, hash`,
    values,
  );
  // Matched by hash (unique: each covers the one before it), whatever order RETURNING gives.
  const seqOf = new Map(inserted.map((r) => [r.hash, Number(r.seq)]));
  const written = linked.map((e) => ({ ...e, seq: seqOf.get(e.hash)! }));
  for (const [chain, head] of heads) {
    const mine = written.filter((e) => e.chain === chain);
    const last = mine.at(-1)!;
    if (head.known) await tx.run('UPDATE audit_chains SET head = $1, head_seq = $2, records = records + $3 WHERE chain = $4', [last.hash, last.seq, mine.length, chain]);
    else await tx.run('INSERT INTO audit_chains (chain, head, head_seq, records) VALUES ($1, $2, $3, $4)', [chain, last.hash, last.seq, mine.length]);
  }
  return written;
}

export function auditStore(db: SqlDriver): AuditStore {
  // One transaction reads each chain's head and moves it, so concurrent writers (in any process)
  // cannot both link to the same head. PostgreSQL: one advisory lock for all chains — batches are
  // group commits, so one writer at a time costs little and can never deadlock.
  const appendMany: AuditStore['appendMany'] = (events, hash) =>
    events.length === 0
      ? Promise.resolve([])
      : db.transaction(async (tx) => {
          if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock($1)', [7_301_915]);
          // Statements stay under both databases' parameter limits (SQLite 32,766).
          const written: AuditEvent[] = [];
          for (let i = 0; i < events.length; i += 1000) written.push(...(await insertRecords(tx, events.slice(i, i + 1000), hash)));
          return written;
        });
  return {
    append: async (event, hash) => (await appendMany([event], hash))[0]!,
    appendMany,
    list: async (page) => {
      const where = filterConditions(page);
      if (page.afterSeq !== undefined) where.add('seq > ?', page.afterSeq);
      if (page.beforeSeq !== undefined) where.add('seq < ?', page.beforeSeq);
      const limit = where.next(Math.max(1, Math.min(page.limit ?? 100, 1000)));
      const order = page.order === 'desc' ? 'DESC' : 'ASC';
      const rows = await db.all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events ${where.where()} ORDER BY seq ${order} LIMIT ${limit}`, where.params);
      return rows.map(toAudit);
    },
    count: (filter, by, limit) => countGroups(db, filter, by, limit),
    chainRecords: async (chain, afterSeq, limit) =>
      (await db.all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [chain, afterSeq, limit])).map(toAudit),
    chains: async () => (await db.all<ChainRow>(`SELECT ${CHAIN_COLUMNS} FROM audit_chains ORDER BY chain`)).map(toChain),
    cut: (chain, before) =>
      db.transaction(async (tx) => {
        if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock($1)', [7_301_915]);
        // The newest record written before the cut-off: it and everything before it in the chain go,
        // so what is deleted is always a prefix of the chain (times are not strictly in seq order).
        const last = await tx.get<{ seq: number | string; hash: string; at: number | string }>(
          'SELECT seq, hash, at FROM audit_events WHERE chain = $1 AND seq = (SELECT MAX(seq) FROM audit_events WHERE chain = $1 AND at < $2)',
          [chain, before],
        );
        if (!last) return 0;
        const { changes } = await tx.run('DELETE FROM audit_events WHERE chain = $1 AND seq <= $2', [chain, Number(last.seq)]);
        await tx.run('UPDATE audit_chains SET checkpoint_hash = $1, checkpoint_seq = $2, checkpoint_at = $3 WHERE chain = $4', [last.hash, Number(last.seq), Number(last.at), chain]);
        return changes;
      }),
    legacyRecords: async (afterSeq, limit) =>
      (await db.all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE chain IS NULL AND seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])).map((row) => ({
        ...toAudit(row),
        chain: '',
      })),
    relinkLegacy: (records, heads) =>
      db.transaction(async (tx) => {
        if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock($1)', [7_301_915]);
        for (const r of records) await tx.run('UPDATE audit_events SET chain = $1, prev_hash = $2, hash = $3 WHERE seq = $4 AND chain IS NULL', [r.chain, r.prevHash, r.hash, r.seq]);
        for (const h of heads) {
          await tx.run(
            `INSERT INTO audit_chains (chain, head, head_seq, records) VALUES ($1, $2, $3, $4)
             ON CONFLICT (chain) DO NOTHING`,
            [h.chain, h.head, h.headSeq, h.records],
          );
        }
      }),
  };
}
