/**
 * The limiter of one Portcullis process, built once (server/app.ts) and handed to whoever counts:
 * the gateway's call limits and quotas (`calls`), the attempt limits with escalating lock-outs
 * (`attempts`: sign-in, forgot-password, device codes) and plain endpoint rates (`rate`: the
 * token endpoint, dynamic registration). All of them count on one backend: Redis when `redisUrl`
 * is set (shared by every instance), memory otherwise or while Redis is away (backend.ts).
 *
 * For metrics and logs, two observables and a getter, nothing more:
 *   onRejected(listener)       every gateway call refused by a limit: `{ scope, code }`
 *   onBackendChange(listener)  counting moved to `'redis'` or to `'memory'`
 *   backend                    where counts go right now
 */
import type { Logger } from 'pino';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { LimitSettings, Rate } from '../core/limit-settings.ts';
import type { OrgStore } from '../store/orgs.ts';
import { AttemptLimiter, type AttemptPolicy } from './attempts.ts';
import { SharedAttempts } from './attempt-stores.ts';
import { LimiterBackend, type BackendName } from './backend.ts';
import { CallLimits, type Rejection } from './call-limits.ts';
import { OrgLimits } from './org-limits.ts';

export interface LimitsOptions {
  redisUrl?: string;
  keyPrefix: string;
  /** The configuration file's limits of gateway calls. */
  server: LimitSettings;
  orgs: Pick<OrgStore, 'get'>;
  /** The server's clock: epoch seconds and milliseconds. */
  now: () => number;
  nowMs: () => number;
  log: Logger;
}

/** A plain rate on one endpoint: `take(key)` is 0 when allowed (and counted), else seconds to wait. */
export interface EndpointRate {
  take(key: string): Promise<number>;
}

export class Limits {
  readonly calls: CallLimits;
  readonly orgLimits: OrgLimits;
  readonly #backend: LimiterBackend;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(options: LimitsOptions) {
    this.#log = options.log;
    this.#now = options.now;
    this.#backend = new LimiterBackend({ redisUrl: options.redisUrl, keyPrefix: options.keyPrefix, log: options.log });
    this.orgLimits = new OrgLimits(options.orgs, { nowMs: options.nowMs });
    this.calls = new CallLimits({ backend: this.#backend, server: options.server, orgLimits: (id) => this.orgLimits.get(id), now: options.now, log: options.log });
  }

  /** Start: wait briefly for a configured Redis (counting starts in memory if it is not there yet). */
  async start(): Promise<this> {
    await this.#backend.ready();
    if (this.#backend.hasRedis && this.#backend.backend === 'memory') {
      this.#log.warn({ event: 'limits.backend', backend: 'memory' }, 'limiter: Redis is out of reach at start; counting in this process until it answers');
    }
    return this;
  }

  get backend(): BackendName {
    return this.#backend.backend;
  }

  onBackendChange(listener: (backend: BackendName) => void): () => void {
    return this.#backend.onBackendChange(listener);
  }

  onRejected(listener: (rejection: Rejection) => void): () => void {
    return this.calls.onRejected(listener);
  }

  /** An attempt limiter named `name` (its keys' namespace) on this backend, on the server's clock unless `now` is given. */
  attempts(name: string, policy: AttemptPolicy, now: () => number = this.#now): AttemptLimiter {
    const store = new SharedAttempts(() => this.#backend.redis, `${this.#backend.keyPrefix}attempts:${name}:`, (err) =>
      this.#log.warn({ err, event: 'limits.fallback' }, 'limiter: Redis command failed; counting this attempt in this process'),
    );
    return new AttemptLimiter(policy, now, store);
  }

  /** A rate on an endpoint named `name`; none (always allowed) when `rate` is absent. */
  rate(name: string, rate: Rate | undefined): EndpointRate {
    if (!rate) return { take: async () => 0 };
    const counter = this.#backend.counter(`endpoint:${name}`, rate.limit, rate.window);
    return {
      take: async (key) => {
        try {
          await counter.consume(key);
          return 0;
        } catch (refusal) {
          if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
          this.#log.warn({ err: refusal }, 'limiter: a counter failed; the request is let through');
          return 0;
        }
      },
    };
  }

  async close(): Promise<void> {
    await this.#backend.close();
  }
}
