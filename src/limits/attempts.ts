/**
 * Failed-attempt limiter with escalating lock-out (sign-in passwords, forgot-password requests,
 * device user codes). Each key (an account, an IP) may fail `free` times inside `window`; after
 * that every further failure locks the key for base × 2^(extra failures), capped at `maxLock`. A
 * success clears the key. The count is forgotten `window` seconds after the last failure once no
 * lock-out is running.
 *
 * The counts live where the limiter's backend keeps them (backend.ts): in Redis (attempt-stores.ts,
 * one atomic script per failure, so every instance sees the same lock-outs) or in this process.
 * Time is the server's clock, handed in, so tests move it instead of sleeping.
 */
import { isForgotten, type AttemptEntry, type AttemptPolicy } from './attempt-rule.ts';
import { MemoryAttempts, type AttemptStore } from './attempt-stores.ts';

export type { AttemptPolicy } from './attempt-rule.ts';

export class AttemptLimiter {
  readonly #policy: AttemptPolicy;
  readonly #store: AttemptStore;
  readonly #now: () => number;

  /** `now`: epoch seconds (fractions allowed). `store`: default, this process's memory. */
  constructor(policy: AttemptPolicy, now: () => number = () => Date.now() / 1000, store: AttemptStore = new MemoryAttempts()) {
    this.#policy = policy;
    this.#now = now;
    this.#store = store;
  }

  /** Seconds to wait before the next attempt; 0 when an attempt is allowed now. */
  async retryAfter(key: string): Promise<number> {
    return this.#wait(await this.#store.read(key), this.#now());
  }

  /** Count a failure; the seconds to wait before the next attempt. */
  async fail(key: string): Promise<number> {
    const now = this.#now();
    return this.#wait(await this.#store.fail(key, now, this.#policy), now);
  }

  async succeed(key: string): Promise<void> {
    await this.#store.clear(key);
  }

  #wait(entry: AttemptEntry | undefined, now: number): number {
    if (!entry || isForgotten(entry, now, this.#policy)) return 0;
    return Math.max(0, Math.ceil(entry.lockedUntil - now));
  }
}
