/** One-time values (setup links, device-flow state): consumed by one conditional statement. */

export interface OneTimeStore {
  put(kind: string, key: string, value: string, expiresAt: number): Promise<void>;
  /** Return the value and delete it, in one statement; undefined if absent, expired, or already taken. */
  consume(kind: string, key: string, now: number): Promise<string | undefined>;
  /**
   * Keep `key` until `expiresAt` unless it is already kept (an expired entry counts as absent), in
   * one statement: true for the one caller that stored it — e.g. a SAML assertion ID seen once.
   */
  putIfAbsent(kind: string, key: string, value: string, expiresAt: number, now: number): Promise<boolean>;
  deleteExpired(now: number): Promise<number>;
}
