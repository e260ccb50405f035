/**
 * What the guard knows about revocations: an in-memory view of the store's revocation events,
 * so checking a token costs a Map lookup, not a database round trip. It is kept current by
 * polling the event sequence (every process sharing the database sees a revocation within
 * `pollMs`) and, in the same process, by being told directly.
 *
 * Kinds (docs/design/identity.md): `grant` and `token` end one grant or one token; `user` (id = the
 * user) ends every token issued to the user up to the event (`iat ≤ at`), so tokens issued after a
 * re-enable work; `member` (id = `<orgId>:<userId>`) does the same for tokens acting for that org;
 * `key` ends an API key. A user or member event can happen again (disabled, re-enabled, disabled):
 * the store gives it a new sequence number and a later `at`, and the list keeps the latest.
 */
import type { RevocationEvent, RevocationKind, RevocationStore } from '../store/revocations.ts';
import type { RevocationCheck } from '../shared/verify.ts';

/**
 * An event this process has just recorded, applied at once: `at` may be left out (it happened
 * just now). It carries no sequence number on purpose — see `apply`.
 */
export type AppliedEvent = Pick<RevocationEvent, 'kind' | 'id' | 'expiresAt'> & { at?: number };

/** What a subscriber hears: the event just applied. */
export type RevocationListener = (event: Pick<RevocationEvent, 'kind' | 'id'>) => void;

/** The token facts a revocation can concern. */
export interface RevocableToken {
  grantId: string | undefined;
  jti: string;
  subject?: string;
  /** Epoch seconds. */
  issuedAt?: number;
  /** The organization the token acts for (claim `org_id`). */
  orgId?: string;
}

/** Does a user- or member-kind event (at `at`) end a credential issued at `issuedAt`? */
export function endsIssuedAt(at: number, issuedAt: number | undefined): boolean {
  // Without an issue time the credential cannot prove it came after the event: refused.
  return issuedAt === undefined || issuedAt <= at;
}

export class RevocationList implements RevocationCheck {
  readonly #store: RevocationStore;
  readonly #revoked = new Map<string, { at: number; expiresAt: number }>(); // `${kind}:${id}`
  #lastSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #now: () => number;
  /** The sync running now, and whether another must follow it (see `wake`). */
  #syncing: Promise<void> | undefined;
  #again = false;
  readonly #listeners = new Set<RevocationListener>();
  readonly #readListeners = new Set<(event: RevocationEvent) => void>();

  constructor(store: RevocationStore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  /** Load every live event, then keep polling. */
  async start(pollMs = 250): Promise<void> {
    await this.sync();
    this.#timer = setInterval(() => void this.sync().catch(() => {}), pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Read every event recorded after the last one read, in sequence order. This is the only place
   * the read position moves: the store hands out sequence numbers and commits them one writer at a
   * time (store/sql/store.ts), so reading in order from the last position never skips an event.
   */
  async sync(): Promise<void> {
    for (;;) {
      const events = await this.#store.since(this.#lastSeq, 1000);
      for (const event of events) {
        this.#record(event);
        this.#lastSeq = event.seq;
        for (const listener of this.#readListeners) listener(event);
      }
      if (events.length < 1000) break;
    }
    this.#expire();
  }

  /**
   * Read the store now rather than at the next poll: another process has just recorded an event
   * (the change feed said so). Wakes arriving while a read runs make one more read after it, so
   * none is lost and a burst costs two reads, not one per event.
   */
  wake(): Promise<void> {
    if (this.#syncing) {
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = (async () => {
      try {
        do {
          this.#again = false;
          await this.sync();
        } while (this.#again);
      } finally {
        this.#syncing = undefined;
      }
    })();
    return this.#syncing;
  }

  /**
   * Apply an event this process has just recorded, so its own guards refuse at once instead of at
   * the next poll. The read position does not move: events other processes recorded before this
   * one may not have been read yet, and jumping past them would lose them for good (the next
   * poll reads them, and this event again, which is harmless).
   */
  apply(event: AppliedEvent): void {
    this.#record(event);
  }

  #record(event: AppliedEvent): void {
    const key = `${event.kind}:${event.id}`;
    const known = this.#revoked.get(key);
    const at = event.at ?? this.#now();
    // Keep the latest of what was heard (told directly, then read back from the store).
    this.#revoked.set(key, { at: Math.max(at, known?.at ?? at), expiresAt: Math.max(event.expiresAt, known?.expiresAt ?? event.expiresAt) });
    for (const listener of this.#listeners) listener({ kind: event.kind, id: event.id });
  }

  /**
   * Be told whenever an event is applied — a revocation made in this process, or one a poll found
   * (authz/revocation-stream.ts uses it to push revocations to remote guards at once; the API key
   * resolver drops cached keys). Returns the function that unsubscribes.
   */
  subscribe(listener: RevocationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Be told of each event as it is read from the store (not when applied directly): how long a
   * revocation took to reach this process is `now − event.at` (the propagation-lag metric).
   */
  onRead(listener: (event: RevocationEvent) => void): () => void {
    this.#readListeners.add(listener);
    return () => this.#readListeners.delete(listener);
  }

  has(kind: RevocationKind, id: string): boolean {
    return this.#revoked.has(`${kind}:${id}`);
  }

  /** When the latest `user` / `member` event for this id happened (epoch seconds), if any. */
  revokedAt(kind: RevocationKind, id: string): number | undefined {
    return this.#revoked.get(`${kind}:${id}`)?.at;
  }

  /** Has the user, or their membership of `orgId`, been revoked since `issuedAt`? */
  isSubjectRevoked(subject: string, orgId: string | undefined, issuedAt: number | undefined): boolean {
    const user = this.#revoked.get(`user:${subject}`);
    if (user && endsIssuedAt(user.at, issuedAt)) return true;
    if (orgId === undefined) return false;
    const member = this.#revoked.get(`member:${orgId}:${subject}`);
    return member !== undefined && endsIssuedAt(member.at, issuedAt);
  }

  isRevoked(token: RevocableToken): boolean {
    if ((token.grantId !== undefined && this.has('grant', token.grantId)) || this.has('token', token.jti)) return true;
    return token.subject !== undefined && this.isSubjectRevoked(token.subject, token.orgId, token.issuedAt);
  }

  #expire(): void {
    const now = this.#now();
    for (const [key, entry] of this.#revoked) if (entry.expiresAt < now) this.#revoked.delete(key);
  }
}
