/**
 * What a remote guard knows about revocations: the authorization server's revocation stream
 * (authz/revocation-stream.ts), consumed over one long-lived HTTP request, kept in memory so that
 * checking a token costs a Map lookup.
 *
 * - It connects with the resource server's client credentials (Basic, RFC 6749 §2.3.1), replays
 *   from the last sequence number it saw (`Last-Event-ID`, WHATWG HTML §9.2.4), and is *current*
 *   once the server says `ready` (everything up to now has been sent).
 * - When the connection drops (or falls silent for longer than the server's keep-alive allows)
 *   it reconnects with exponential back-off and jitter, resuming where it left off.
 * - `freshness()` tells the guard whether the list can be trusted: current, or down for less than
 *   `stalenessMs` after having been current. A feed that has never been current is never trusted
 *   (a guard that just started knows nothing of earlier revocations).
 *
 * Not handled here: what to do when the list cannot be trusted (the guard falls back to
 * introspection, then refuses — see guard.ts).
 */
import { sseParser, type SseEvent } from '../../shared/sse.ts';
import type { RevocationCheck } from '../../shared/verify.ts';
import type { GuardFetch } from '../../shared/outbound.ts';
import { GuardError } from './errors.ts';
import { basicAuthorization } from './client-secret.ts';

export interface RevocationFeedOptions {
  /** GET endpoint of the stream, e.g. https://auth.example.com/oauth/revocations. */
  streamUrl: string;
  clientId: string;
  clientSecret: string;
  /** How long the feed may be down (after having been current) before it is not trusted. */
  stalenessMs: number;
  fetch: GuardFetch;
  /** Milliseconds clock (tests may move it). */
  now?: () => number;
  /** Connection failures and refusals (wrong credentials), for the server author's logs. */
  onError?: (err: Error) => void;
  /** Longest wait between reconnection attempts (default 5 s). */
  maxBackoffMs?: number;
}

export type Freshness = 'current' | 'recent' | 'stale';

interface EventData {
  seq: number;
  kind: string;
  id: string;
  expiresAt: number;
  at?: number;
}

/** The stream answered, but not with a stream (wrong credentials: 401): reported to `onError` with the status. */
function streamRefused(status: number): GuardError {
  return new GuardError('unavailable', `the revocation stream answered ${status}`, { rule: 'revocation-stream-refused', detail: { status } });
}

export class RevocationFeed implements RevocationCheck {
  readonly #options: RevocationFeedOptions;
  readonly #now: () => number;
  /** `${kind}:${id}` → { expiresAt (s), at (s) } */
  readonly #revoked = new Map<string, { expiresAt: number; at: number }>();
  #lastSeq = 0;
  #current = false;
  #everCurrent = false;
  /** When the feed stopped being current (ms); meaningful while not current. */
  #downSince: number;
  #abort: AbortController | undefined;
  #closed = false;
  #running: Promise<void> | undefined;
  readonly #waiters = new Set<() => void>();
  readonly #listeners = new Set<(event: { kind: string; id: string }) => void>();
  /** Woken when the feed becomes current or a connection attempt fails (see whenSettled). */
  readonly #settleWaiters = new Set<() => void>();
  #wakeSleep: (() => void) | undefined;

  constructor(options: RevocationFeedOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#downSince = this.#now();
  }

  /** Start connecting (idempotent). */
  start(): void {
    this.#running ??= this.#run();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort?.abort();
    this.#wakeSleep?.();
    this.#wakeWaiters();
    await this.#running;
  }

  /** Be told of every event as it arrives (the guard drops cached API key answers). Returns the unsubscriber. */
  subscribe(listener: (event: { kind: string; id: string }) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  freshness(): Freshness {
    if (this.#current) return 'current';
    if (this.#everCurrent && this.#now() - this.#downSince <= this.#options.stalenessMs) return 'recent';
    return 'stale';
  }

  /** Resolves true once the feed is current, false if `timeoutMs` passes first. */
  whenCurrent(timeoutMs: number): Promise<boolean> {
    return this.#waitIn(this.#waiters, timeoutMs);
  }

  /**
   * Resolves true once the feed is current, false as soon as a connection attempt fails or
   * `timeoutMs` passes — for a request arriving while the guard is starting: worth waiting for a
   * connection under way, not for retries against an authorization server that is down.
   */
  whenSettled(timeoutMs: number): Promise<boolean> {
    return this.#waitIn(this.#settleWaiters, timeoutMs);
  }

  /** Wait until `waiters` are called (or `timeoutMs` passes); resolves whether the feed is current then. */
  #waitIn(waiters: Set<() => void>, timeoutMs: number): Promise<boolean> {
    if (this.#current) return Promise.resolve(true);
    if (this.#closed || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve(this.#current);
      };
      const timer = setTimeout(done, timeoutMs);
      waiters.add(done);
    });
  }

  #hit(kind: string, id: string | undefined): { expiresAt: number; at: number } | undefined {
    if (id === undefined) return undefined;
    const entry = this.#revoked.get(`${kind}:${id}`);
    if (entry && entry.expiresAt < this.#now() / 1000) {
      this.#revoked.delete(`${kind}:${id}`);
      return undefined;
    }
    return entry;
  }

  /** Is there a live event of this kind for this id (e.g. `key` and an API key's id)? */
  has(kind: string, id: string): boolean {
    return this.#hit(kind, id) !== undefined;
  }

  /** Has the user, or their membership of `orgId`, been revoked since `issuedAt` (epoch seconds)? */
  isSubjectRevoked(subject: string, orgId: string | undefined, issuedAt: number | undefined): boolean {
    // A user revocation (disabled, deleted) ends every credential issued to them until then; a
    // member revocation (removed from the org) those acting for that org. Later ones work.
    const ends = (entry: { at: number } | undefined) => entry !== undefined && (issuedAt === undefined || issuedAt <= entry.at);
    if (ends(this.#hit('user', subject))) return true;
    return orgId !== undefined && ends(this.#hit('member', `${orgId}:${subject}`));
  }

  isRevoked(token: { grantId: string | undefined; jti: string; subject: string; issuedAt: number; orgId: string | undefined }): boolean {
    if (this.#hit('grant', token.grantId) || this.#hit('token', token.jti)) return true;
    return this.isSubjectRevoked(token.subject, token.orgId, token.issuedAt);
  }

  #apply(data: EventData): void {
    // A user or member event that happens again arrives with a new seq and a later `at`: it replaces the old one.
    this.#revoked.set(`${data.kind}:${data.id}`, { expiresAt: data.expiresAt, at: data.at ?? Number.MAX_SAFE_INTEGER });
    for (const listener of this.#listeners) listener({ kind: data.kind, id: data.id });
    if (data.seq > this.#lastSeq) this.#lastSeq = data.seq;
  }

  #lastSweep = 0;

  /** Forget events whose credentials have expired anyway (at most once a minute). */
  #sweep(): void {
    if (this.#now() - this.#lastSweep < 60_000) return;
    this.#lastSweep = this.#now();
    const nowSeconds = this.#now() / 1000;
    for (const [key, entry] of this.#revoked) if (entry.expiresAt < nowSeconds) this.#revoked.delete(key);
  }

  #setCurrent(current: boolean): void {
    if (current === this.#current) return;
    this.#current = current;
    if (current) {
      this.#everCurrent = true;
      this.#wakeWaiters();
    } else {
      this.#downSince = this.#now();
    }
  }

  #wakeWaiters(): void {
    for (const waiter of [...this.#waiters]) waiter();
    this.#wakeSettled();
  }

  #wakeSettled(): void {
    for (const waiter of [...this.#settleWaiters]) waiter();
  }

  async #run(): Promise<void> {
    let attempt = 0;
    const maxBackoff = this.#options.maxBackoffMs ?? 5000;
    while (!this.#closed) {
      const reachedReady = await this.#connectOnce().catch((err: unknown) => {
        if (!this.#closed) this.#options.onError?.(err instanceof Error ? err : new Error(String(err)));
        return false;
      });
      this.#setCurrent(false);
      if (!reachedReady) this.#wakeSettled();
      if (this.#closed) break;
      attempt = reachedReady ? 0 : attempt + 1;
      // Exponential back-off with jitter, so a restarted authorization server is not stampeded.
      const base = Math.min(maxBackoff, 100 * 2 ** Math.min(attempt, 10));
      const delay = base / 2 + Math.random() * (base / 2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wakeSleep = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeSleep = undefined;
    }
  }

  /** One connection, until it ends. Returns whether it became current. */
  async #connectOnce(): Promise<boolean> {
    const abort = new AbortController();
    this.#abort = abort;
    const { clientId, clientSecret } = this.#options;
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      authorization: basicAuthorization(clientId, clientSecret),
      'cache-control': 'no-store',
    };
    if (this.#lastSeq > 0) headers['last-event-id'] = String(this.#lastSeq);

    // Connecting must not hang: give up on the response headers after 10 s.
    const connectTimer = setTimeout(() => abort.abort(), 10_000);
    let response: Response;
    try {
      response = await this.#options.fetch(this.#options.streamUrl, { headers, signal: abort.signal });
    } finally {
      clearTimeout(connectTimer);
    }
    if (response.status !== 200 || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || !response.body) {
      await response.body?.cancel().catch(() => {});
      throw streamRefused(response.status);
    }

    // Silence longer than the server's keep-alive allows means a dead connection: drop it.
    let idleMs = 45_000;
    let idleTimer: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => abort.abort(), idleMs);
    };
    touch();
    let becameCurrent = false;
    const reader = response.body.pipeThrough(sseParser()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        touch();
        this.#sweep();
        const event: SseEvent = value;
        if (event.event === 'revocation') {
          const data = parseEvent(event.data);
          if (data) this.#apply(data);
        } else if (event.event === 'ready') {
          const ready = safeJson(event.data) as { keepAliveMs?: unknown } | undefined;
          if (typeof ready?.keepAliveMs === 'number' && ready.keepAliveMs > 0) idleMs = ready.keepAliveMs * 2 + 5000;
          touch();
          becameCurrent = true;
          this.#setCurrent(true);
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      clearTimeout(idleTimer);
      reader.cancel().catch(() => {});
    }
    return becameCurrent;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseEvent(text: string): EventData | undefined {
  const data = safeJson(text) as Partial<EventData> | undefined;
  if (!data || typeof data.seq !== 'number' || typeof data.kind !== 'string' || typeof data.id !== 'string' || typeof data.expiresAt !== 'number') {
    return undefined;
  }
  return { seq: data.seq, kind: data.kind, id: data.id, expiresAt: data.expiresAt, at: typeof data.at === 'number' ? data.at : undefined };
}
