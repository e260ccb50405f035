/**
 * The audit log: append-only and hash-chained. Each event's hash covers the previous event's hash
 * and every field of the event (canonical JSON), so removing, reordering or editing any record
 * breaks every hash after it; `verifyChain` checks the whole log.
 *
 * Records name users, clients and keys by id only — personal data (e-mail, name) lives in `users`
 * and can be erased without touching a single record (docs/design/identity.md).
 *
 * Events from hot paths (every gateway decision) are queued and written in batches, in order, one
 * transaction per batch; `flush()` waits for everything queued so far (tests, shutdown).
 */
import type { Store } from '../store/store.ts';
import type { AuditEvent, AuditInput } from '../store/audit.ts';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { canonicalJson } from '../core/canonical-json.ts';
import { AUDIT_GENESIS } from '../store/audit.ts';

export type AuditRecord = Partial<Omit<AuditInput, 'kind' | 'at'>> & { kind: string; at?: number };

export function auditHash(prevHash: string, event: AuditInput): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(event)).digest('hex');
}

const FIELDS = ['at', 'orgId', 'actor', 'kind', 'subject', 'clientId', 'app', 'tool', 'decision', 'reason', 'details'] as const;

function normalize(record: AuditRecord, now: () => number): AuditInput {
  return {
    at: record.at ?? now(),
    orgId: record.orgId ?? null,
    actor: record.actor ?? null,
    kind: record.kind,
    subject: record.subject ?? null,
    clientId: record.clientId ?? null,
    app: record.app ?? null,
    tool: record.tool ?? null,
    decision: record.decision ?? null,
    reason: record.reason ?? null,
    details: record.details ?? null,
  };
}

export class AuditLog {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #now: () => number;
  #queue: AuditInput[] = [];
  #writing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(store: Store, log: Logger, now: () => number) {
    this.#store = store;
    this.#log = log;
    this.#now = now;
  }

  /** Queue an event; it is written within `batchMs` (a write failure is logged, never thrown at the caller). */
  record(record: AuditRecord, batchMs = 100): void {
    this.#queue.push(normalize(record, this.#now));
    if (this.#queue.length >= 200) void this.#drain();
    else this.#timer ??= setTimeout(() => void this.#drain(), batchMs);
  }

  /** Write an event now (admin changes: the API answers after the record exists). */
  async write(record: AuditRecord): Promise<AuditEvent> {
    await this.flush();
    return this.#store.audit.append(normalize(record, this.#now), auditHash);
  }

  /** Wait until everything queued so far is written. */
  async flush(): Promise<void> {
    await this.#drain();
    await this.#writing;
  }

  #drain(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return this.#writing;
    const batch = this.#queue;
    this.#queue = [];
    // Batches are written one after another, so the log keeps the order events were recorded in.
    this.#writing = this.#writing.then(() =>
      this.#store.audit.appendMany(batch, auditHash).then(
        () => undefined,
        (err: unknown) => this.#log.error({ err, events: batch.length }, 'audit events could not be written'),
      ),
    );
    return this.#writing;
  }
}

export interface ChainReport {
  ok: boolean;
  checked: number;
  /** The first event whose hash does not follow from the one before it. */
  brokenAt?: number;
}

/** Recompute every hash from the start of the log. */
export async function verifyChain(store: Store, pageSize = 1000): Promise<ChainReport> {
  let prev = AUDIT_GENESIS;
  let after = 0;
  let checked = 0;
  for (;;) {
    const page = await store.audit.all(after, pageSize);
    for (const event of page) {
      const input = Object.fromEntries(FIELDS.map((f) => [f, event[f]])) as unknown as AuditInput;
      if (event.prevHash !== prev || auditHash(prev, input) !== event.hash) return { ok: false, checked, brokenAt: event.seq };
      prev = event.hash;
      after = event.seq;
      checked++;
    }
    if (page.length < pageSize) return { ok: true, checked };
  }
}
