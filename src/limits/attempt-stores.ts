/**
 * Where attempts.ts keeps its counts: this process's memory, or the limiter's Redis (shared by
 * every instance) with memory standing in while Redis is out of reach — the same insurance the
 * rate counters have (backend.ts). In Redis one key is one hash (failures, last failure, locked
 * until), changed by one Lua script, so two instances counting the same key never lose a failure.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { counted, isForgotten, type AttemptEntry, type AttemptPolicy } from './attempt-rule.ts';

export interface AttemptStore {
  read(key: string): Promise<AttemptEntry | undefined>;
  /** Count one failure at `now` (epoch seconds) under `policy`; the entry after it. */
  fail(key: string, now: number, policy: AttemptPolicy): Promise<AttemptEntry>;
  clear(key: string): Promise<void>;
}

const SWEEP_AT = 10_000;

export class MemoryAttempts implements AttemptStore {
  readonly #entries = new Map<string, AttemptEntry & { policy?: AttemptPolicy }>();

  async read(key: string): Promise<AttemptEntry | undefined> {
    return this.#entries.get(key);
  }

  async fail(key: string, now: number, policy: AttemptPolicy): Promise<AttemptEntry> {
    const entry = counted(this.#entries.get(key), now, policy);
    this.#entries.set(key, { ...entry, policy });
    if (this.#entries.size >= SWEEP_AT) this.#sweep(now);
    return entry;
  }

  async clear(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  /** Keep memory bounded under a spray of distinct keys. */
  #sweep(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.policy && isForgotten(entry, now, entry.policy)) this.#entries.delete(key);
  }
}

/**
 * attempt-rule.ts `counted`, in Lua: KEYS[1] the hash; ARGV now, free, window, base, maxLock.
 * Numbers go back as strings (Lua numbers returned to Redis lose their fractions). The key lives
 * as long as it can matter — the window or the lock-out, whichever ends later — plus a second.
 */
const FAIL_SCRIPT = `
local now, free, window, base, maxLock = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local e = redis.call('HMGET', KEYS[1], 'f', 'l', 'u')
local failures, last, locked = tonumber(e[1]) or 0, tonumber(e[2]) or now, tonumber(e[3]) or 0
if failures > 0 and now - last > window and now >= locked then failures = 0; locked = 0 end
failures = failures + 1
local extra = failures - free
if extra > 0 then locked = now + math.min(maxLock, base * 2 ^ (extra - 1)) end
redis.call('HSET', KEYS[1], 'f', failures, 'l', tostring(now), 'u', tostring(locked))
redis.call('EXPIRE', KEYS[1], math.ceil(math.max(window, locked - now)) + 1)
return { tostring(failures), tostring(now), tostring(locked) }
`;

function entryOf(values: (string | null)[]): AttemptEntry | undefined {
  if (values[0] === null || values[0] === undefined) return undefined;
  return { failures: Number(values[0]), lastFailure: Number(values[1]), lockedUntil: Number(values[2]) };
}

/** Redis while it is ready, memory otherwise (and for a command that fails). */
export class SharedAttempts implements AttemptStore {
  readonly #redis: () => Redis | undefined;
  readonly #prefix: string;
  readonly #memory = new MemoryAttempts();
  readonly #onFallback: (err: unknown) => void;

  constructor(redis: () => Redis | undefined, keyPrefix: string, onFallback: (err: unknown) => void) {
    this.#redis = redis;
    this.#prefix = keyPrefix;
    this.#onFallback = onFallback;
  }

  read(key: string): Promise<AttemptEntry | undefined> {
    return this.#either((redis) => redis.hmget(this.#keyOf(key), 'f', 'l', 'u').then(entryOf), () => this.#memory.read(key));
  }

  fail(key: string, now: number, policy: AttemptPolicy): Promise<AttemptEntry> {
    const args = [now, policy.free, policy.window, policy.base, policy.maxLock].map(String);
    const shared = async (redis: Redis) => entryOf((await redis.eval(FAIL_SCRIPT, 1, this.#keyOf(key), ...args)) as string[])!;
    return this.#either(shared, () => this.#memory.fail(key, now, policy));
  }

  clear(key: string): Promise<void> {
    return this.#either(async (redis) => void (await redis.del(this.#keyOf(key))), () => this.#memory.clear(key));
  }

  /** Keys are e-mail addresses and IPs: Redis sees a digest, not the address. */
  #keyOf(key: string): string {
    return this.#prefix + createHash('sha256').update(key).digest('base64url').slice(0, 32);
  }

  async #either<T>(shared: (redis: Redis) => Promise<T>, local: () => Promise<T>): Promise<T> {
    const redis = this.#redis();
    if (!redis) return local();
    try {
      return await shared(redis);
    } catch (err) {
      this.#onFallback(err);
      return local();
    }
  }
}
