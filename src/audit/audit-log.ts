/**
 * The audit log: append-only, one hash chain per organization (chain.ts). Records name users,
 * clients and keys by id only — personal data (e-mail, name) lives in `users` and can be erased
 * without touching a single record (docs/design/identity.md); views resolve names when read.
 *
 * Writes are group commits: whatever has been recorded while one batch was being written goes
 * in the next batch, in order, one transaction each.
 *  - `record()` queues (gateway decisions in `batched` mode): written within `batchMs`; a crash
 *    loses at most that window.
 *  - `recordDurably()` resolves once the record is committed (`strict` mode: the gateway holds its
 *    answer until then) — it does not wait for a timer, it joins the next batch.
 *  - `write()` writes at once and returns the stored record (admin and account changes).
 * A batch that fails stays queued and is retried; waiters of `recordDurably` are told at once.
 */
import type { Store } from '../store/store.ts';
import type { AuditEvent, AuditInput } from '../store/audit.ts';
import type { Logger } from 'pino';
import { auditHash } from './chain.ts';

export type AuditRecord = Partial<Omit<AuditInput, 'kind' | 'at'>> & { kind: string; at?: number };

export interface AuditLogOptions {
  /** The longest a queued record waits for its batch (ms). */
  batchMs?: number;
  /** Records per transaction at most. */
  maxBatch?: number;
  /** Records kept waiting while the store is unreachable; beyond, the oldest are dropped (and counted). */
  maxQueue?: number;
}

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

interface Pending {
  input: AuditInput;
  durable?: { resolve(): void; reject(err: unknown): void };
}

type WriteListener = (events: number, ms: number) => void;
type RecordsListener = (records: AuditEvent[]) => void;

const RETRY_MS = 1000;

export class AuditLog {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #batchMs: number;
  readonly #maxBatch: number;
  readonly #maxQueue: number;
  #queue: Pending[] = [];
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #dropped = 0;
  #failures = 0;
  readonly #writeListeners: WriteListener[] = [];
  readonly #recordListeners: RecordsListener[] = [];

  constructor(store: Store, log: Logger, now: () => number, options: AuditLogOptions = {}) {
    this.#store = store;
    this.#log = log;
    this.#now = now;
    this.#batchMs = options.batchMs ?? 100;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#maxQueue = options.maxQueue ?? 100_000;
  }

  /** Queue a record; it is written within `batchMs` (a failure is logged and retried, never thrown at the caller). */
  record(record: AuditRecord): void {
    this.#enqueue({ input: normalize(record, this.#now) });
    if (this.#queue.length >= this.#maxBatch) this.#kick();
    else this.#timer ??= setTimeout(() => this.#kick(), this.#batchMs);
  }

  /** Queue a record and resolve once it is committed (rejects when its batch could not be written). */
  recordDurably(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#enqueue({ input: normalize(record, this.#now), durable: { resolve, reject } });
      this.#kick();
    });
  }

  /** Write a record now, after everything queued before it, and return it as stored. */
  async write(record: AuditRecord): Promise<AuditEvent> {
    await this.flush();
    const [written] = await this.#store.audit.appendMany([normalize(record, this.#now)], auditHash);
    this.#emit([written!]);
    return written!;
  }

  /** Wait until everything queued so far is written (or has failed once). */
  async flush(): Promise<void> {
    const failures = this.#failures;
    while (this.#queue.length > 0 || this.#writing) {
      this.#kick();
      await this.#writing;
      // The store refused a batch: it stays queued for the retry; do not spin on it here.
      if (this.#failures !== failures) return;
    }
  }

  /** Records waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Records dropped because the store stayed unreachable while the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Called after each committed batch: how many records, and how long the transaction took. */
  onWrite(listener: WriteListener): void {
    this.#writeListeners.push(listener);
  }

  /** Called with every committed record, in order (stream sinks: stdout, webhooks). */
  onRecords(listener: RecordsListener): void {
    this.#recordListeners.push(listener);
  }

  #enqueue(pending: Pending): void {
    if (this.#queue.length >= this.#maxQueue) {
      const [oldest] = this.#queue.splice(0, 1);
      oldest?.durable?.reject(new Error('audit queue full'));
      if (this.#dropped++ === 0) this.#log.error({ maxQueue: this.#maxQueue }, 'audit queue full: the oldest records are being dropped');
    }
    this.#queue.push(pending);
  }

  /** Start writing now unless a batch is being written (the next one starts when it ends). */
  #kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing || this.#queue.length === 0) return;
    this.#writing = this.#writeBatch().finally(() => {
      this.#writing = undefined;
      // Group commit: what arrived meanwhile goes now if anyone waits for it, else on the timer.
      if (this.#queue.some((p) => p.durable)) this.#kick();
      else if (this.#queue.length > 0) this.#timer ??= setTimeout(() => this.#kick(), this.#batchMs);
    });
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#queue.splice(0, this.#maxBatch);
    const started = performance.now();
    try {
      const written = await this.#store.audit.appendMany(
        batch.map((p) => p.input),
        auditHash,
      );
      const ms = performance.now() - started;
      for (const p of batch) p.durable?.resolve();
      for (const listener of this.#writeListeners) listener(batch.length, ms);
      this.#emit(written);
    } catch (err) {
      this.#failures++;
      this.#log.error({ err, events: batch.length }, 'audit records could not be written; retrying');
      for (const p of batch) {
        p.durable?.reject(err);
        delete p.durable;
      }
      // Back at the front, in order, for the retry.
      this.#queue.unshift(...batch);
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#kick(), RETRY_MS).unref();
    }
  }

  #emit(records: AuditEvent[]): void {
    for (const listener of this.#recordListeners) {
      try {
        listener(records);
      } catch (err) {
        this.#log.error({ err }, 'an audit sink failed');
      }
    }
  }
}
