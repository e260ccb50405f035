/**
 * Where the limiter's counters live: Redis when `redisUrl` is set (shared by every instance, each
 * count one atomic command of rate-limiter-flexible's), this process's memory otherwise — and also
 * while Redis is out of reach. Every Redis counter is insured by an in-memory one of the same
 * policy (rate-limiter-flexible's `insuranceLimiter`): a command that fails or is refused because
 * the connection is not ready is answered from memory instead, so a dead Redis costs a warning
 * and in-process limits, never an error or a stalled request. ioredis reconnects on its own; once
 * it is ready again the counters are shared again.
 *
 * Commands fail fast rather than wait: no offline queue (a command sent while disconnected fails at
 * once), one retry per request, and a command timeout.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

export type BackendName = 'redis' | 'memory';

export interface BackendOptions {
  /** redis:// URL; absent: memory only. */
  redisUrl?: string;
  /** Prefix of every key written (several deployments, or test runs, may share one Redis). */
  keyPrefix: string;
  log: Logger;
  /** A Redis command slower than this counts as failed (default 250 ms). */
  commandTimeoutMs?: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long start-up waits for a configured Redis before counting in memory (it joins later). */
const FIRST_CONNECT_MS = 2000;

export class LimiterBackend {
  readonly keyPrefix: string;
  readonly #log: Logger;
  readonly #redis: Redis | undefined;
  readonly #counters = new Map<string, RateLimiterAbstract>();
  readonly #listeners = new Set<(backend: BackendName) => void>();
  #current: BackendName = 'memory';
  #closed = false;

  constructor(options: BackendOptions) {
    this.keyPrefix = options.keyPrefix;
    this.#log = options.log;
    if (options.redisUrl) this.#redis = this.#connect(options.redisUrl, options.commandTimeoutMs ?? 250);
  }

  /** Where counts go right now. */
  get backend(): BackendName {
    return this.#current;
  }

  /** Whether a Redis is configured (ready or not). */
  get hasRedis(): boolean {
    return this.#redis !== undefined;
  }

  /** The Redis connection while it is ready (attempt limits run their own script on it). */
  get redis(): Redis | undefined {
    return this.#redis?.status === 'ready' ? this.#redis : undefined;
  }

  /** Called with the new backend each time counting moves to Redis or to memory. Returns an unsubscribe. */
  onBackendChange(listener: (backend: BackendName) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once Redis is ready, or after a short wait when it is not (counts then start in memory). */
  async ready(): Promise<void> {
    const redis = this.#redis;
    if (!redis || redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, FIRST_CONNECT_MS);
      redis.once('ready', done);
    });
  }

  /**
   * A counter of `points` per `seconds` under `name` (one per policy: a changed policy starts a
   * new count rather than reading another policy's).
   */
  counter(name: string, points: number, seconds: number): RateLimiterAbstract {
    const id = `${name}:${points}:${seconds}`;
    let counter = this.#counters.get(id);
    if (!counter) {
      const keyPrefix = `${this.keyPrefix}${id}`;
      // rate-limiter-flexible's memory store expires a count with setTimeout, which cannot wait longer
      // than 2^31 ms (≈ 24.8 days; longer fires at once): a longer count (a monthly quota, whose key
      // names its month) is kept without expiry in memory — one small entry per key and month.
      const memory = new RateLimiterMemory({ points, duration: seconds * 1000 < MAX_TIMER_MS ? seconds : 0, keyPrefix });
      counter = this.#redis
        ? new RateLimiterRedis({ storeClient: this.#redis, points, duration: seconds, keyPrefix, insuranceLimiter: memory, rejectIfRedisNotReady: true })
        : memory;
      this.#counters.set(id, counter);
    }
    return counter;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#redis?.disconnect();
  }

  #connect(url: string, commandTimeout: number): Redis {
    const redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout,
      connectTimeout: 2000,
      // Keep trying, at most every 2 s: Redis coming back is noticed within that.
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: false,
    });
    redis.on('ready', () => this.#switch('redis'));
    redis.on('close', () => this.#switch('memory'));
    // Connection errors repeat while Redis is away; the switch to memory is the one warning.
    redis.on('error', (err) => this.#log.debug({ err }, 'limiter: Redis connection error'));
    return redis;
  }

  #switch(next: BackendName): void {
    if (next === this.#current || this.#closed) return;
    this.#current = next;
    if (next === 'memory') this.#log.warn({ event: 'limits.backend', backend: next }, 'limiter: Redis is out of reach; counting in this process until it returns');
    else this.#log.info({ event: 'limits.backend', backend: next }, 'limiter: counting in Redis, shared by every instance');
    for (const listener of this.#listeners) {
      try {
        listener(next);
      } catch (err) {
        this.#log.warn({ err }, 'limiter: a backend-change listener failed');
      }
    }
  }
}
