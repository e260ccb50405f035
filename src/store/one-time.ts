/** One-time values (setup links, device-flow state): consumed by one conditional statement. */

export interface OneTimeStore {
  put(kind: string, key: string, value: string, expiresAt: number): Promise<void>;
  /** Return the value and delete it, in one statement; undefined if absent, expired, or already taken. */
  consume(kind: string, key: string, now: number): Promise<string | undefined>;
  deleteExpired(now: number): Promise<number>;
}
