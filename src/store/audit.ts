/** The hash-chained audit log (audit/audit-log.ts). */

/** The `prevHash` of the first record: every chain starts from it. */
export const AUDIT_GENESIS = 'genesis';

export interface AuditEvent {
  seq: number;
  at: number;
  orgId: string | null;
  /** Who acted: a user id, `key:<id>`, `client:<id>`, or `system`. */
  actor: string | null;
  kind: string;
  /** The user the event is about (id). */
  subject: string | null;
  clientId: string | null;
  app: string | null;
  tool: string | null;
  decision: 'allow' | 'deny' | null;
  /** The rule or code behind the decision. */
  reason: string | null;
  details: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

export type AuditInput = Omit<AuditEvent, 'seq' | 'prevHash' | 'hash'>;

export interface AuditStore {
  /** Append, chaining the hash to the previous event (one transaction: the chain never forks). */
  append(event: AuditInput, hash: (prevHash: string, event: AuditInput) => string): Promise<AuditEvent>;
  /** Append several, in order, in one transaction (the gateway batches its events). */
  appendMany(events: AuditInput[], hash: (prevHash: string, event: AuditInput) => string): Promise<AuditEvent[]>;
  list(filter: { orgId?: string; since?: number; until?: number; kind?: string; subject?: string; app?: string; decision?: 'allow' | 'deny'; afterSeq?: number; limit?: number }): Promise<AuditEvent[]>;
  /** Every event in order, from the start (chain verification, export). */
  all(afterSeq: number, limit: number): Promise<AuditEvent[]>;
}
