/** Revocation events, in one sequence every process reads (revocation/revocation-list.ts). */

/**
 * `user`: every token issued to the user (iat ≤ the event's `at`); `member`: id `<org>:<user>`,
 * every token of that user for that org issued until then; `key`: an API key id.
 */
export type RevocationKind = 'grant' | 'token' | 'user' | 'member' | 'key' | 'session';

export interface RevocationEvent {
  /** Monotonic sequence number: consumers replay from the last one they saw. */
  seq: number;
  kind: RevocationKind;
  id: string;
  at: number;
  /** After this, every credential the event concerns has expired anyway, and the event can go. */
  expiresAt: number;
}

export interface RevocationStore {
  /** Record a revocation; idempotent per (kind, id), returning the event's sequence number. */
  add(input: { kind: RevocationKind; id: string; at: number; expiresAt: number }): Promise<number>;
  since(seq: number, limit?: number): Promise<RevocationEvent[]>;
  isRevoked(kind: RevocationKind, id: string): Promise<boolean>;
  deleteExpired(now: number): Promise<number>;
}
