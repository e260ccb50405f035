/**
 * Limits on wrong user codes (RFC 8628 §5.1: "the authorization server SHOULD rate limit the user
 * code entry"). Two limiters with escalating lock-outs (limits/attempts.ts): one per client IP —
 * reset when that IP enters a right code — and one for the whole server, which a distributed
 * guesser (many IPs) meets and which no success resets. The global one locks briefly: it also
 * stops honest people, so it only has to make guessing hopeless, not slow for long.
 *
 * Counted where the limiter counts (limits/service.ts `attempts`): in Redis, shared by every
 * instance, when one is configured; in this process otherwise.
 */
import { AttemptLimiter, type AttemptPolicy } from '../../limits/attempts.ts';

/** Makes the limiter for one of the two counts (default: in this process's memory). */
export type AttemptLimiterFactory = (name: string, policy: AttemptPolicy, now?: () => number) => AttemptLimiter;

const inMemory: AttemptLimiterFactory = (_name, policy, now) => new AttemptLimiter(policy, now);

export interface DeviceGuessPolicies {
  ip: AttemptPolicy;
  global: AttemptPolicy;
}

export const DEFAULT_DEVICE_GUESS_POLICIES: DeviceGuessPolicies = {
  // A person mistypes a few times; after 10 wrong codes the waits start at 30 s and double.
  ip: { free: 10, window: 60 * 60, base: 30, maxLock: 60 * 60 },
  // 200 wrong codes across the server (in 15 minutes, counted from the last one), then every
  // further wrong code locks entry for 5 s, doubling up to a minute.
  global: { free: 200, window: 15 * 60, base: 5, maxLock: 60 },
};

const GLOBAL = '*';

export class DeviceGuessLimits {
  readonly #ip: AttemptLimiter;
  readonly #global: AttemptLimiter;

  constructor(policies: DeviceGuessPolicies = DEFAULT_DEVICE_GUESS_POLICIES, now?: () => number, make: AttemptLimiterFactory = inMemory) {
    this.#ip = make('device-ip', policies.ip, now);
    this.#global = make('device-global', policies.global, now);
  }

  /** Seconds this IP must wait before it may enter a code; 0 when it may now. */
  async retryAfter(ip: string): Promise<number> {
    const [forIp, forAll] = await Promise.all([this.#ip.retryAfter(ip), this.#global.retryAfter(GLOBAL)]);
    return Math.max(forIp, forAll);
  }

  async wrong(ip: string): Promise<void> {
    await Promise.all([this.#ip.fail(ip), this.#global.fail(GLOBAL)]);
  }

  async right(ip: string): Promise<void> {
    await this.#ip.succeed(ip);
  }
}
