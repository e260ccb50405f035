/** The audit log, in SQL: appended in order inside one transaction, so the chain never forks. */
import { json, parse } from './json.ts';
import { AUDIT_GENESIS, type AuditEvent, type AuditStore } from '../audit.ts';
import { Conditions } from './conditions.ts';
import type { SqlDriver } from './driver.ts';

interface AuditRow extends Omit<AuditEvent, 'details'> {
  details: string | null;
}
const AUDIT_COLUMNS =
  'seq, at, org_id AS "orgId", actor, kind, subject, client_id AS "clientId", app, tool, decision, reason, details, prev_hash AS "prevHash", hash';
const toAudit = (row: AuditRow): AuditEvent => ({ ...row, seq: Number(row.seq), details: parse<Record<string, unknown>>(row.details) });

export function auditStore(db: SqlDriver): AuditStore {
  // One transaction: read the chain's head and append to it, so concurrent writers (in any
  // process) cannot both chain to the same head. PostgreSQL: an advisory lock for the chain.
  const appendMany: AuditStore['appendMany'] = (events, hash) =>
    db.transaction(async (tx) => {
      if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock($1)', [7_301_915]);
      const head = await tx.get<{ hash: string }>('SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1');
      let prevHash = head?.hash ?? AUDIT_GENESIS;
      const written: AuditEvent[] = [];
      for (const event of events) {
        const digest = hash(prevHash, event);
        const row = await tx.get<AuditRow>(
          `INSERT INTO audit_events (at, org_id, actor, kind, subject, client_id, app, tool, decision, reason, details, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${AUDIT_COLUMNS}`,
          [event.at, event.orgId, event.actor, event.kind, event.subject, event.clientId, event.app, event.tool, event.decision, event.reason, json(event.details), prevHash, digest],
        );
        written.push(toAudit(row!));
        prevHash = digest;
      }
      return written;
    });
  return {
    append: async (event, hash) => (await appendMany([event], hash))[0]!,
    appendMany,
    list: async (filter) => {
      const filters = new Conditions();
      if (filter.orgId) filters.add('org_id = ?', filter.orgId);
      if (filter.since !== undefined) filters.add('at >= ?', filter.since);
      if (filter.until !== undefined) filters.add('at < ?', filter.until);
      if (filter.kind) filters.add('kind = ?', filter.kind);
      if (filter.subject) filters.add('subject = ?', filter.subject);
      if (filter.app) filters.add('app = ?', filter.app);
      if (filter.decision) filters.add('decision = ?', filter.decision);
      if (filter.afterSeq !== undefined) filters.add('seq > ?', filter.afterSeq);
      const limit = filters.next(Math.min(filter.limit ?? 100, 1000));
      const rows = await db.all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events ${filters.where()} ORDER BY seq LIMIT ${limit}`, filters.params);
      return rows.map(toAudit);
    },
    all: async (afterSeq, limit) =>
      (await db.all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])).map(toAudit),
  };
}
