/** The hash-chained audit log (audit/audit-log.ts): one chain per organization. */

/** The `prevHash` of the first record: every chain starts from it. */
export const AUDIT_GENESIS = 'genesis';

/** The chain of records that belong to no organization (server-wide events). */
export const SERVER_CHAIN = '';

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
  /** The code behind the decision (a denial code, `upstream_unavailable`, …) or what changed. */
  reason: string | null;
  details: Record<string, unknown> | null;
  /** The chain the record is linked into: its organization's id, or SERVER_CHAIN. */
  chain: string;
  prevHash: string;
  hash: string;
}

export type AuditInput = Omit<AuditEvent, 'seq' | 'chain' | 'prevHash' | 'hash'>;

/** What a listing or an export selects; every field narrows it. Times are epoch seconds, `until` exclusive. */
export interface AuditFilter {
  orgId?: string;
  since?: number;
  until?: number;
  kind?: string;
  /** Kinds starting with this (e.g. `gateway.`). */
  kindPrefix?: string;
  subject?: string;
  actor?: string;
  clientId?: string;
  app?: string;
  tool?: string;
  decision?: 'allow' | 'deny';
  reason?: string;
}

export interface AuditPage extends AuditFilter {
  /** Records after this seq (oldest first), or before it (newest first). */
  afterSeq?: number;
  beforeSeq?: number;
  order?: 'asc' | 'desc';
  /** At most 1000. Default 100. */
  limit?: number;
}

/** A chain's head and, once retention has cut its start, the checkpoint it verifies from. */
export interface AuditChain {
  chain: string;
  head: string;
  headSeq: number;
  /** Records ever appended to the chain (cut ones included). */
  records: number;
  checkpoint: { hash: string; seq: number; at: number } | null;
}

export type AuditHash = (prevHash: string, event: AuditInput) => string;

/**
 * What `count` groups by: the UTC day (epoch seconds / 86400), a gateway call's outcome —
 * `denied` (the gateway refused), `failed` (allowed, but the upstream failed: a code with
 * `allow`), `allowed` —, the code, the tool, the person (subject), the client.
 */
export type AuditGroup = 'day' | 'outcome' | 'reason' | 'tool' | 'subject' | 'client';

/** One group of `count`: its values, in the order asked for, and how many records it holds. */
export interface AuditCount {
  values: (string | number | null)[];
  count: number;
}

export interface AuditStore {
  /** Records matching `filter`, counted by `by` (largest groups first, at most `limit`): the dashboard's numbers. */
  count(filter: AuditFilter, by: AuditGroup[], limit: number): Promise<AuditCount[]>;
  /** Append, linking to the head of the event's chain (its organization's, or the server's). */
  append(event: AuditInput, hash: AuditHash): Promise<AuditEvent>;
  /**
   * Append several, in order, in one transaction (group commit): no two writers, in any process,
   * link to the same head.
   */
  appendMany(events: AuditInput[], hash: AuditHash): Promise<AuditEvent[]>;
  list(page: AuditPage): Promise<AuditEvent[]>;
  /** One chain's records in order, from after `afterSeq` (verification). */
  chainRecords(chain: string, afterSeq: number, limit: number): Promise<AuditEvent[]>;
  chains(): Promise<AuditChain[]>;
  /**
   * Retention: delete the chain's records written before `before` (epoch seconds) — always a
   * prefix of the chain — and keep the last deleted one's hash as the chain's checkpoint.
   * Returns how many were deleted.
   */
  cut(chain: string, before: number): Promise<number>;
  /** Records from before per-organization chains (chain NULL), oldest first (audit/legacy-chain.ts). */
  legacyRecords(afterSeq: number, limit: number): Promise<AuditEvent[]>;
  /** Re-link legacy records into per-organization chains, in one transaction. */
  relinkLegacy(records: { seq: number; chain: string; prevHash: string; hash: string }[], heads: AuditChain[]): Promise<void>;
}
