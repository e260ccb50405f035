/**
 * The connection doctor's recorder: what OAuth clients do while connecting (events.ts names the
 * kinds), queued and written in batches like the audit log (audit-log.ts), so that recording
 * costs the protocol and the gateway a push onto an array. Diagnostic, not evidence: a batch the
 * store refuses is dropped (and logged), and a full queue drops its oldest — never a caller's wait.
 */
import type { Logger } from 'pino';
import type { ConnectionEventInput, ConnectionEventStore } from '../../store/connection-events.ts';

export type ConnectionRecord = Omit<ConnectionEventInput, 'at' | 'clientId' | 'userId' | 'detail'> & {
  at?: number;
  clientId?: string | null;
  userId?: string | null;
  detail?: Record<string, unknown> | null;
};

export interface ConnectionRecorderOptions {
  batchMs?: number;
  maxQueue?: number;
}

export class ConnectionRecorder {
  readonly #store: Pick<ConnectionEventStore, 'append'>;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #batchMs: number;
  readonly #maxQueue: number;
  #queue: ConnectionEventInput[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(store: Pick<ConnectionEventStore, 'append'>, log: Logger, now: () => number, options: ConnectionRecorderOptions = {}) {
    this.#store = store;
    this.#log = log;
    this.#now = now;
    this.#batchMs = options.batchMs ?? 200;
    this.#maxQueue = options.maxQueue ?? 10_000;
  }

  record(event: ConnectionRecord): void {
    this.#queue.push({ at: event.at ?? this.#now(), clientId: event.clientId ?? null, userId: event.userId ?? null, kind: event.kind, ok: event.ok, detail: event.detail ?? null });
    if (this.#queue.length > this.#maxQueue) this.#queue.splice(0, this.#queue.length - this.#maxQueue);
    this.#timer ??= setTimeout(() => void this.flush(), this.#batchMs).unref();
  }

  /** Write what is queued (the timer does it on its own; shutdown and tests call it). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    this.#queue = [];
    this.#writing = this.#writing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.#store.append(batch);
      } catch (err) {
        this.#log.warn({ err, events: batch.length }, 'connection doctor events dropped');
      }
    });
    return this.#writing;
  }
}
