/**
 * One shared watcher of the Store's sequence: it wakes every open stream when something new may
 * be there (a poll found a higher seq, or this process just revoked something). Each stream then
 * reads from its own position, so a slow stream never holds up the others.
 */
import type { Logger } from 'pino';
import type { Store } from '../../store/store.ts';

/** Events read from the Store at a time (by the watcher, and by each stream). */
export const PAGE = 500;

export interface SequenceWatcherDeps {
  store: Pick<Store, 'revocations'>;
  /** Revocations made in this process, announced at once (so the stream need not wait for a poll). */
  subscribe?: (listener: () => void) => () => void;
  log: Logger;
  /** How often the Store is polled for revocations made by other processes (default 250 ms). */
  pollMs?: number;
}

export class SequenceWatcher {
  readonly #deps: SequenceWatcherDeps;
  readonly #waiters = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #head = 0;
  #polling = false;

  constructor(deps: SequenceWatcherDeps) {
    this.#deps = deps;
  }

  /** Resolves when there may be new events (or at the latest after `ms`). */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.#waiters;
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
      this.#ensureRunning();
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #ensureRunning(): void {
    if (this.#timer) return;
    this.#unsubscribe = this.#deps.subscribe?.(() => this.#wake());
    this.#timer = setInterval(() => void this.#poll(), this.#deps.pollMs ?? 250);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    if (this.#waiters.size === 0) return this.stop();
    this.#polling = true;
    try {
      // Only the newest seq matters here: each stream reads the events themselves.
      for (;;) {
        const events = await this.#deps.store.revocations.since(this.#head, PAGE);
        if (events.length === 0) break;
        this.#head = Number(events[events.length - 1]!.seq);
        this.#wake();
        if (events.length < PAGE) break;
      }
    } catch (err) {
      this.#deps.log.warn({ err }, 'revocation stream: could not poll the store');
      this.#wake(); // streams read the store themselves and end on the error
    } finally {
      this.#polling = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
