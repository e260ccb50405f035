/**
 * What the guard knows about revocations: an in-memory view of the store's revocation events,
 * so checking a token costs a Set lookup, not a database round trip. It is kept current by
 * polling the event sequence (every process sharing the database sees a revocation within
 * `pollMs`) and, in the same process, by being told directly.
 */
import type { RevocationEvent, RevocationKind, RevocationStore } from '../store/types.ts';
import type { RevocationCheck } from './verify.ts';

export class RevocationList implements RevocationCheck {
  readonly #store: RevocationStore;
  readonly #revoked = new Map<string, number>(); // `${kind}:${id}` → expiresAt
  #lastSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #now: () => number;
  readonly #listeners = new Set<() => void>();

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

  async sync(): Promise<void> {
    for (;;) {
      const events = await this.#store.since(this.#lastSeq, 1000);
      for (const event of events) this.apply(event);
      if (events.length < 1000) break;
    }
    this.#expire();
  }

  apply(event: Pick<RevocationEvent, 'kind' | 'id' | 'expiresAt'> & { seq?: number }): void {
    this.#revoked.set(`${event.kind}:${event.id}`, event.expiresAt);
    if (event.seq !== undefined && event.seq > this.#lastSeq) this.#lastSeq = event.seq;
    for (const listener of this.#listeners) listener();
  }

  /**
   * Be told whenever an event is applied — a revocation made in this process, or one a poll found
   * (authz/revocation-stream.ts uses it to push revocations to remote guards at once). Returns the
   * function that unsubscribes.
   */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  has(kind: RevocationKind, id: string): boolean {
    return this.#revoked.has(`${kind}:${id}`);
  }

  isRevoked(token: { grantId: string | undefined; jti: string }): boolean {
    return (token.grantId !== undefined && this.has('grant', token.grantId)) || this.has('token', token.jti);
  }

  #expire(): void {
    const now = this.#now();
    for (const [key, expiresAt] of this.#revoked) if (expiresAt < now) this.#revoked.delete(key);
  }
}
