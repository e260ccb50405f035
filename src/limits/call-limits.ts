/**
 * Rate limits and quotas of the gateway's calls: charge every counter a call is due (policies.ts)
 * at once, and if any says no, give every point back — a refused call never reached the upstream,
 * so it counts against nothing — and say which limit refused, with how long to wait. Free of HTTP:
 * the gateway's limit step turns the verdict into a 429 and the RateLimit fields.
 *
 * Counters are fixed windows (rate-limiter-flexible): `limit` calls per `window` seconds, the
 * window starting at the first call. Quotas count per UTC day and month of the server's clock.
 */
import type { Logger } from 'pino';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { LimitSettings } from '../core/limit-settings.ts';
import type { LimiterBackend } from './backend.ts';
import { chargesFor, type Charge, type LimitCode, type LimitedCall } from './policies.ts';

export type { LimitCode, LimitedCall } from './policies.ts';

/** One limit as the caller may be told about it (draft-ietf-httpapi-ratelimit-headers: q, w, r, t). */
export interface AppliedLimit {
  policy: string;
  /** Calls allowed per window (`q`). */
  quota: number;
  /** The window, seconds (`w`). */
  window: number;
  /** Calls left in the current window (`r`). */
  remaining: number;
  /** Seconds until the window starts again (`t`). */
  reset: number;
}

export type LimitVerdict =
  | { allowed: true; limits: AppliedLimit[] }
  | { allowed: false; code: LimitCode; retryAfter: number; refusedBy: AppliedLimit; limits: AppliedLimit[] };

export interface Rejection {
  /** The policy that refused (org, user, client, api-key, application, tool, org-day, …). */
  scope: string;
  code: LimitCode;
}

export interface CallLimitsDeps {
  backend: LimiterBackend;
  /** The configuration file's limits. */
  server: LimitSettings;
  /** An organization's own limits (from memory: org-limits.ts). */
  orgLimits(orgId: string): Promise<LimitSettings | undefined>;
  /** Epoch seconds, the server's clock (quota periods). */
  now: () => number;
  log: Logger;
}

type Outcome = { charge: Charge; res: RateLimiterRes; ok: boolean };

export class CallLimits {
  readonly #deps: CallLimitsDeps;
  readonly #rejected = new Set<(rejection: Rejection) => void>();

  constructor(deps: CallLimitsDeps) {
    this.#deps = deps;
  }

  /** Called for every refused call, with the policy that refused it. Returns an unsubscribe. */
  onRejected(listener: (rejection: Rejection) => void): () => void {
    this.#rejected.add(listener);
    return () => this.#rejected.delete(listener);
  }

  /** Charge `call` to its limits: allowed (and charged), or refused (and charged nothing). */
  async check(call: LimitedCall): Promise<LimitVerdict> {
    if (call.targets.length === 0) return { allowed: true, limits: [] };
    const now = this.#deps.now();
    const org = call.orgId ? await this.#orgLimits(call.orgId) : undefined;
    const charges = chargesFor(call, this.#deps.server, org, now);
    if (charges.length === 0) return { allowed: true, limits: [] };
    const outcomes = await this.#chargeAll(charges);
    // A counter that failed outright (not a refusal) lets the call through: a limiter fault is no reason to refuse.
    if (!outcomes) return { allowed: true, limits: [] };
    const limits = outcomes.map((o) => applied(o, now));
    const refused = outcomes.filter((o) => !o.ok);
    if (refused.length === 0) return { allowed: true, limits };
    await this.#giveBack(outcomes);
    // The longest wait is the one that matters: after it every refusing limit has room again.
    const worst = refused.reduce((a, b) => (applied(b, now).reset > applied(a, now).reset ? b : a));
    const refusedBy = applied(worst, now);
    for (const listener of this.#rejected) listener({ scope: worst.charge.policy, code: worst.charge.code });
    return { allowed: false, code: worst.charge.code, retryAfter: Math.max(1, refusedBy.reset), refusedBy, limits };
  }

  /** The organization's own limits; the server's alone when they cannot be read (the store is away). */
  async #orgLimits(orgId: string): Promise<LimitSettings | undefined> {
    try {
      return await this.#deps.orgLimits(orgId);
    } catch (err) {
      this.#deps.log.warn({ err, org: orgId }, "limiter: could not read the organization's limits; the server's apply");
      return undefined;
    }
  }

  async #chargeAll(charges: Charge[]): Promise<Outcome[] | undefined> {
    try {
      return await Promise.all(
        charges.map(async (charge): Promise<Outcome> => {
          const counter = this.#counter(charge);
          try {
            return { charge, res: await counter.consume(charge.key, charge.points), ok: true };
          } catch (refusal) {
            if (refusal instanceof RateLimiterRes) return { charge, res: refusal, ok: false };
            throw refusal;
          }
        }),
      );
    } catch (err) {
      this.#deps.log.warn({ err }, 'limiter: a counter failed; the call is let through');
      return undefined;
    }
  }

  /** Every point of a refused call back (a refusing counter counted it too). */
  async #giveBack(outcomes: Outcome[]): Promise<void> {
    await Promise.all(outcomes.map(({ charge }) => this.#counter(charge).reward(charge.key, charge.points).catch(() => {})));
  }

  #counter(charge: Charge) {
    return this.#deps.backend.counter(charge.counter.name, charge.counter.points, charge.counter.seconds);
  }
}

function applied({ charge, res }: Outcome, now: number): AppliedLimit {
  const reset = charge.endsAt !== undefined ? Math.max(0, Math.ceil(charge.endsAt - now)) : Math.ceil(res.msBeforeNext / 1000);
  return { policy: charge.policy, quota: charge.counter.points, window: charge.window, remaining: Math.max(0, res.remainingPoints), reset };
}
