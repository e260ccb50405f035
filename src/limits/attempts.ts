/**
 * Failed-attempt limiter with escalating lock-out (sign-in passwords now; device user codes and
 * other guessable secrets later). Each key (an account, an IP) may fail `free` times inside
 * `window`; after that every further failure locks the key for base × 2^(extra failures),
 * capped at `maxLock`. A success clears the key. In memory: one process; the Redis-backed
 * version shares the same interface when several instances run.
 */
export interface AttemptPolicy {
  /** Failures allowed before lock-outs start. */
  free: number;
  /** Seconds after the last failure when the count is forgotten. */
  window: number;
  /** First lock-out, seconds. */
  base: number;
  /** Longest lock-out, seconds. */
  maxLock: number;
}

interface Entry {
  failures: number;
  lastFailure: number;
  lockedUntil: number;
}

export class AttemptLimiter {
  readonly #policy: AttemptPolicy;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(policy: AttemptPolicy, now: () => number = () => Date.now() / 1000) {
    this.#policy = policy;
    this.#now = now;
  }

  /** Seconds to wait before the next attempt; 0 when an attempt is allowed now. */
  retryAfter(key: string): number {
    const entry = this.#current(key);
    return entry ? Math.max(0, Math.ceil(entry.lockedUntil - this.#now())) : 0;
  }

  fail(key: string): number {
    const now = this.#now();
    const entry = this.#current(key) ?? { failures: 0, lastFailure: now, lockedUntil: 0 };
    entry.failures += 1;
    entry.lastFailure = now;
    const extra = entry.failures - this.#policy.free;
    if (extra > 0) entry.lockedUntil = now + Math.min(this.#policy.maxLock, this.#policy.base * 2 ** (extra - 1));
    this.#entries.set(key, entry);
    this.#sweep(now);
    return this.retryAfter(key);
  }

  succeed(key: string): void {
    this.#entries.delete(key);
  }

  #current(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const now = this.#now();
    if (now - entry.lastFailure > this.#policy.window && now >= entry.lockedUntil) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Keep memory bounded under a spray of distinct keys. */
  #sweep(now: number): void {
    if (this.#entries.size < 10_000) return;
    for (const [key, entry] of this.#entries) {
      if (now - entry.lastFailure > this.#policy.window && now >= entry.lockedUntil) this.#entries.delete(key);
    }
  }
}
