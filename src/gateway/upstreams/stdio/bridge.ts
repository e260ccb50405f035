/**
 * What one stdio upstream holds: its processes (one slot per user, or one shared: pool.ts) and
 * the 2025-era sessions opened on them, by id. Requests find their slot, their session — only
 * their own —, and open an exchange (exchange.ts) that collects the answers to one POST.
 */
import type { Logger } from 'pino';
import type { StdioUpstream } from '../../../core/application.ts';
import type { CallerIdentity } from '../../caller.ts';
import type { UpstreamCall } from '../upstream.ts';
import { Exchange } from './exchange.ts';
import { ProcessPool } from './pool.ts';
import type { BridgeSession } from './session.ts';
import { Slot, type BackoffPolicy } from './slot.ts';

export interface BridgeOptions {
  /** The application's slug (told to the process, and in log lines). */
  application: string;
  log: Logger;
  backoff: BackoffPolicy;
  sweepMs: number;
  sessionTtlMs: number;
  startupTimeoutMs: number;
}

/** What an exchange starts with: the session (2025-era), the protocol era, the client's capabilities. */
export interface ExchangeInit {
  session?: BridgeSession;
  modern: boolean;
  capabilities: Record<string, unknown>;
  batch: boolean;
}

export class Bridge {
  readonly config: StdioUpstream;
  readonly pool: ProcessPool;
  readonly sessions = new Map<string, BridgeSession>();
  closed = false;
  readonly #options: BridgeOptions;
  #nextExchange = 1;

  constructor(config: StdioUpstream, options: BridgeOptions) {
    this.config = config;
    this.#options = options;
    this.pool = new ProcessPool({ maxProcesses: config.maxProcesses, sweepMs: options.sweepMs, sessionTtlMs: options.sessionTtlMs });
  }

  /** The caller's process slot: their own (`per-user`), or everyone's (`shared`). */
  slotFor(caller: CallerIdentity): Slot {
    const shared = this.config.isolation === 'shared';
    const key = shared ? 'shared' : `user:${caller.subject}`;
    return this.pool.slot(
      key,
      () =>
        new Slot({
          key,
          application: this.#options.application,
          config: this.config,
          log: this.#options.log.child(shared ? { isolation: 'shared' } : { isolation: 'per-user', sub: caller.subject }),
          backoff: this.#options.backoff,
          startupTimeoutMs: this.#options.startupTimeoutMs,
          reserve: (slot) => this.pool.reserve(slot),
          forget: (session) => this.sessions.delete(session.id),
          now: Date.now,
        }),
    );
  }

  /** A new session on `slot`. */
  addSession(slot: Slot, session: BridgeSession): void {
    slot.sessions.set(session.id, session);
    this.sessions.set(session.id, session);
    slot.touch();
  }

  /** The caller's session `id` and its slot; undefined when unknown or someone else's. */
  sessionFor(id: string | null, caller: CallerIdentity): { session: BridgeSession; slot: Slot } | undefined {
    const session = id ? this.sessions.get(id) : undefined;
    if (!session || session.subject !== caller.subject || session.clientId !== caller.clientId) return undefined;
    const slot = this.pool.get(session.slotKey);
    if (!slot?.sessions.has(session.id)) return undefined;
    session.lastUsed = Date.now();
    return { session, slot };
  }

  /** An exchange for one POST on `slot`, cancelled at the process when it times out or the client leaves. */
  openExchange(call: UpstreamCall, slot: Slot, init: ExchangeInit): Exchange {
    const exchange = new Exchange({
      id: this.#nextExchange++,
      caller: call.caller,
      sessionId: init.session?.id,
      modern: init.modern,
      capabilities: init.capabilities,
      sse: (call.headers.get('accept') ?? '').includes('text/event-stream'),
      batch: init.batch,
      timeoutMs: this.config.timeoutMs,
      signal: call.signal,
      onTimeout: (e) => slot.cancel(e, 'no answer in time: the gateway stopped waiting'),
      onDetach: (e) => slot.cancel(e, 'the client went away'),
      onEnd: (e) => {
        slot.exchanges.delete(e);
        slot.touch();
      },
    });
    slot.exchanges.add(exchange);
    return exchange;
  }

  processes(): { key: string; pid: number }[] {
    return this.pool.slots().flatMap((slot) => (slot.pid !== undefined ? [{ key: slot.key, pid: slot.pid }] : []));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
    this.sessions.clear();
  }
}
