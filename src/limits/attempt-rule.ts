/**
 * The escalating lock-out rule of attempts.ts as pure functions, applied alike by the in-memory
 * store and (translated line by line) by the Redis script (attempt-stores.ts).
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

/** One key's failures: how many, when the last was, and until when it is locked (epoch seconds). */
export interface AttemptEntry {
  failures: number;
  lastFailure: number;
  lockedUntil: number;
}

/** No lock-out running and the last failure older than the window: the count no longer matters. */
export function isForgotten(entry: AttemptEntry, now: number, policy: AttemptPolicy): boolean {
  return now - entry.lastFailure > policy.window && now >= entry.lockedUntil;
}

/** A failure counted on `entry` (or on nothing): the new entry. */
export function counted(entry: AttemptEntry | undefined, now: number, policy: AttemptPolicy): AttemptEntry {
  const previous = entry && !isForgotten(entry, now, policy) ? entry : { failures: 0, lastFailure: now, lockedUntil: 0 };
  const failures = previous.failures + 1;
  const extra = failures - policy.free;
  const lockedUntil = extra > 0 ? now + Math.min(policy.maxLock, policy.base * 2 ** (extra - 1)) : previous.lockedUntil;
  return { failures, lastFailure: now, lockedUntil };
}
