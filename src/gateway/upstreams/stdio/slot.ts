/**
 * One stdio process and everything routed through it: a user's own process (isolation
 * "per-user") or everyone's ("shared").
 *
 * Lifecycle. The process is started on demand and initialized once, by the bridge itself, with
 * every capability the bridge can relay (sampling, elicitation, roots); clients' `initialize` are
 * answered from the cached result (see eras.ts) and their `notifications/initialized` go no
 * further. A quiet process — nothing in flight, no client listening on a GET stream — is stopped
 * after `idleTimeout` (sessions survive it: the next request starts it again). One that exits on
 * its own is restarted with exponential back-off (at once when someone is connected, otherwise on
 * the next request); requests meanwhile get an upstream_unavailable error (→ 502), and requests in flight when
 * it died get JSON-RPC errors — never a hang.
 *
 * Routing between the process and its clients (ids, progress, server requests, who gets
 * which notification): router.ts.
 */
import type { Logger } from 'pino';
import type { StdioUpstream } from '../../../core/application.ts';
import type { CallerIdentity } from '../../caller.ts';
import { isObject, isResponse, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../../jsonrpc.ts';
import { upstreamError, isUpstreamFailure } from '../upstream.ts';
import { spawnEnvironment, type SpawnIdentity } from './env.ts';
import { LATEST_LEGACY_VERSION, type ProcessInit } from './eras.ts';
import type { Exchange } from './exchange.ts';
import { StdioProcess } from './process.ts';
import { Router } from './router.ts';
import { REPLAY_KEEP_MS, type BridgeSession } from './session.ts';

/** What the bridge tells the process it can relay (2025-11-25 client capabilities). */
export const BRIDGE_CAPABILITIES = { roots: { listChanged: true }, sampling: {}, elicitation: { form: {}, url: {} } };
export const BRIDGE_CLIENT_INFO = { name: 'portcullis-gateway', title: 'Portcullis gateway (stdio bridge)', version: '1' };

export interface BackoffPolicy {
  /** First delay after a crash; doubles with each crash in a row. */
  initialMs: number;
  maxMs: number;
  /** A process that ran this long before it died starts the count again. */
  resetAfterMs: number;
}

export interface SlotDeps {
  key: string;
  application: string;
  config: StdioUpstream;
  log: Logger;
  backoff: BackoffPolicy;
  /** How long a new process may take to answer the bridge's `initialize`. */
  startupTimeoutMs: number;
  /**
   * Make room for one more process or throw upstream_overloaded; a promise when a quiet
   * process is being stopped to make room (start once it resolves).
   */
  reserve(slot: Slot): Promise<void> | undefined;
  /** A session ended (DELETE, expiry, shutdown). */
  forget(session: BridgeSession): void;
  now(): number;
}

interface Internal {
  resolve(message: JsonRpcResponse): void;
  reject(err: unknown): void;
}

type State = 'idle' | 'starting' | 'ready' | 'stopping' | 'backoff' | 'closed';

export class Slot {
  readonly key: string;
  readonly sessions = new Map<string, BridgeSession>();
  readonly exchanges = new Set<Exchange>();
  lastActivity: number;
  readonly #deps: SlotDeps;
  readonly #log: Logger;
  #state: State = 'idle';
  #proc: StdioProcess | undefined;
  #generation = 0;
  #init: ProcessInit | undefined;
  #starting: Promise<ProcessInit> | undefined;
  #stopping: Promise<unknown> | undefined;
  #identity: SpawnIdentity;
  #crashes = 0;
  #retryAt = 0;
  #startedAt = 0;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #nextId = 1;
  readonly #internal = new Map<number, Internal>();
  readonly #router: Router;

  constructor(deps: SlotDeps) {
    this.#deps = deps;
    this.key = deps.key;
    this.#log = deps.log;
    this.lastActivity = deps.now();
    this.#identity = { application: deps.application, isolation: deps.config.isolation };
    this.#router = new Router({
      isolation: deps.config.isolation,
      log: deps.log,
      sessions: this.sessions,
      running: () => this.#state === 'ready' && this.#proc !== undefined,
      send: (message) => this.#proc?.send(message) ?? false,
      nextId: () => this.#nextId++,
      serverInfo: () => this.#init?.serverInfo ?? {},
      touch: () => this.touch(),
    });
  }

  /** The process id while one runs. */
  get pid(): number | undefined {
    return this.#proc?.running ? this.#proc.pid : undefined;
  }

  get state(): State {
    return this.#state;
  }

  /** Counts against `maxProcesses`. */
  get live(): boolean {
    return this.#state === 'starting' || this.#state === 'ready';
  }

  /** Nothing in flight and nobody listening: may be stopped (idle, or to make room). */
  get quiet(): boolean {
    if (this.exchanges.size || this.#router.busy) return false;
    for (const session of this.sessions.values()) if (session.listening) return false;
    return true;
  }

  touch(): void {
    this.lastActivity = this.#deps.now();
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  /** The running, initialized process (started if need be). `caller` names a per-user process's user. */
  async ready(caller?: CallerIdentity): Promise<ProcessInit> {
    if (this.#state === 'ready') return this.#init!;
    if (this.#state === 'starting') return this.#starting!;
    if (this.#state === 'closed') throw upstreamError('unreachable', 'the stdio upstream is closed');
    if (this.#state === 'stopping') {
      await this.#stopping;
      return this.ready(caller);
    }
    if (this.#state === 'backoff' && this.#deps.now() < this.#retryAt) {
      throw upstreamError('unreachable', 'the stdio MCP server stopped unexpectedly and is being restarted');
    }
    if (caller && this.#deps.config.isolation === 'per-user') {
      this.#identity = { ...this.#identity, subject: caller.subject, clientId: caller.clientId };
    }
    const room = this.#deps.reserve(this); // may throw 'overloaded'
    this.#state = 'starting';
    clearTimeout(this.#restartTimer);
    const starting = this.#start(room);
    this.#starting = starting;
    starting.catch(() => {});
    return starting;
  }

  async #start(room: Promise<void> | undefined): Promise<ProcessInit> {
    const { config } = this.#deps;
    const generation = ++this.#generation;
    await room;
    let proc: StdioProcess;
    try {
      proc = await StdioProcess.start(
        { command: config.command, args: config.args, cwd: config.cwd, env: spawnEnvironment(process.env, config.env, this.#identity) },
        { log: this.#log, onMessage: (message) => generation === this.#generation && this.#onMessage(message) },
      );
    } catch (err) {
      this.#log.error({ err, command: config.command }, 'could not start the stdio MCP server');
      this.#starting = undefined;
      if (this.#state !== 'closed') this.#crashed();
      throw upstreamError('unreachable', 'the stdio MCP server could not be started', { cause: err });
    }
    if (this.#state === 'closed') {
      proc.kill();
      throw upstreamError('unreachable', 'the stdio upstream is closed');
    }
    this.#proc = proc;
    this.#startedAt = this.#deps.now();
    this.#log.info({ serverPid: proc.pid }, 'stdio MCP server started');
    void proc.exited.then((info) => this.#exited(proc, generation, info));

    let init: ProcessInit;
    try {
      const answer = await this.#request(
        proc,
        'initialize',
        { protocolVersion: LATEST_LEGACY_VERSION, capabilities: BRIDGE_CAPABILITIES, clientInfo: BRIDGE_CLIENT_INFO },
        this.#deps.startupTimeoutMs,
      );
      const result = answer.result;
      if (answer.error || !isObject(result) || typeof result.protocolVersion !== 'string') {
        throw upstreamError('unreachable', 'the stdio MCP server refused to initialize', { cause: answer.error });
      }
      init = {
        protocolVersion: result.protocolVersion,
        capabilities: isObject(result.capabilities) ? result.capabilities : {},
        serverInfo: isObject(result.serverInfo) ? result.serverInfo : { name: 'unknown', version: '0' },
        instructions: typeof result.instructions === 'string' ? result.instructions : undefined,
      };
      proc.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    } catch (err) {
      if (this.#proc === proc) {
        this.#log.error({ err, serverPid: proc.pid }, 'the stdio MCP server did not initialize; stopping it');
        proc.kill();
      }
      throw isUpstreamFailure(err) ? err : upstreamError('unreachable', 'the stdio MCP server did not initialize', { cause: err });
    }
    if (this.#proc !== proc || this.#state !== 'starting') throw upstreamError('unreachable', 'the stdio MCP server stopped while starting');
    this.#init = init;
    this.#state = 'ready';
    this.#starting = undefined;
    this.#log.info({ serverPid: proc.pid, protocolVersion: init.protocolVersion, server: init.serverInfo.name }, 'stdio MCP server initialized');
    this.#resubscribe(proc);
    return init;
  }

  /** A request of the bridge's own (initialize, re-subscribing), answered within `timeoutMs`. */
  #request(proc: StdioProcess, method: string, params: Record<string, unknown>, timeoutMs = this.#deps.config.timeoutMs): Promise<JsonRpcResponse> {
    const id = this.#nextId++;
    return new Promise<JsonRpcResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#internal.delete(id);
        reject(upstreamError('timeout', `the stdio MCP server did not answer ${method} in time`));
      }, timeoutMs);
      timer.unref();
      this.#internal.set(id, {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      if (!proc.send({ jsonrpc: '2.0', id, method, params })) {
        this.#internal.delete(id);
        clearTimeout(timer);
        reject(upstreamError('unreachable', 'the stdio MCP server is not running'));
      }
    });
  }

  #exited(proc: StdioProcess, generation: number, info: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (generation !== this.#generation || this.#proc !== proc) return;
    this.#proc = undefined;
    this.#init = undefined;
    this.#starting = undefined;
    const expected = this.#state === 'stopping' || this.#state === 'closed';
    this.#failInFlight();
    if (expected) {
      if (this.#state === 'stopping') this.#state = 'idle';
      this.#log.info({ serverPid: proc.pid, code: info.code, signal: info.signal }, 'stdio MCP server stopped');
      return;
    }
    proc.reapGroup();
    if (this.#deps.now() - this.#startedAt > this.#deps.backoff.resetAfterMs) this.#crashes = 0;
    const delay = this.#crashed();
    this.#log.warn({ serverPid: proc.pid, code: info.code, signal: info.signal, crashes: this.#crashes, restartInMs: delay }, 'stdio MCP server exited unexpectedly');
  }

  /** Count a crash, wait before the next start, and restart by then if someone is connected. */
  #crashed(): number {
    const { initialMs, maxMs } = this.#deps.backoff;
    this.#crashes++;
    const delay = Math.min(initialMs * 2 ** (this.#crashes - 1), maxMs);
    this.#retryAt = this.#deps.now() + delay;
    this.#state = 'backoff';
    clearTimeout(this.#restartTimer);
    if (this.#wanted()) {
      this.#restartTimer = setTimeout(() => {
        if (this.#state !== 'backoff' || !this.#wanted()) return;
        // Timers and the wall clock disagree by a millisecond now and then: the wait is over.
        this.#retryAt = 0;
        this.ready().catch(() => {});
      }, delay);
      this.#restartTimer.unref();
    }
    return delay;
  }

  /** Is someone around who would want the process back? */
  #wanted(): boolean {
    const recent = this.#deps.now() - this.#deps.config.idleTimeout * 1000;
    for (const session of this.sessions.values()) if (session.listening || session.lastUsed >= recent) return true;
    return false;
  }

  /** Everything waiting on the process gets an answer: JSON-RPC errors, or a failed exchange. */
  #failInFlight(): void {
    for (const internal of this.#internal.values()) internal.reject(upstreamError('unreachable', 'the stdio MCP server stopped'));
    this.#internal.clear();
    this.#router.failAll();
  }

  /** Stop the process (idle, evicted, or shutting down); sessions stay unless closing. */
  async stop(reason: 'idle' | 'evicted' | 'closed'): Promise<void> {
    clearTimeout(this.#restartTimer);
    const proc = this.#proc;
    if (reason === 'closed') this.#state = 'closed';
    if (!proc) {
      if (reason !== 'closed' && this.#state === 'ready') this.#state = 'idle';
      return;
    }
    if (reason !== 'closed') this.#state = 'stopping';
    this.#log.info({ serverPid: proc.pid, reason }, 'stopping the stdio MCP server');
    const stopping = proc.stop();
    this.#stopping = stopping;
    await stopping;
    if (this.#stopping === stopping) this.#stopping = undefined;
  }

  async close(): Promise<void> {
    await this.stop('closed');
    for (const session of [...this.sessions.values()]) this.endSession(session);
    for (const exchange of [...this.exchanges]) exchange.fail('unreachable', []);
  }

  /**
   * Housekeeping: forget sessions unused for `sessionTtlMs`, stop a process quiet for
   * `idleTimeout`. True when nothing is left and the slot can be dropped.
   */
  sweep(sessionTtlMs: number): boolean {
    const now = this.#deps.now();
    for (const session of [...this.sessions.values()]) {
      if (!session.listening && now - session.lastUsed > sessionTtlMs) this.endSession(session);
      else session.trimReplay(REPLAY_KEEP_MS, now);
    }
    if (this.#state === 'ready' && this.quiet && now - this.lastActivity >= this.#deps.config.idleTimeout * 1000) {
      void this.stop('idle').catch((err) => this.#log.warn({ err }, 'could not stop an idle stdio MCP server'));
    }
    // A crashed slot is kept while its back-off matters, so a crash loop cannot restart unchecked.
    const forgettable = this.#state === 'idle' || (this.#state === 'backoff' && now - this.#retryAt > this.#deps.backoff.resetAfterMs);
    return forgettable && !this.sessions.size && !this.exchanges.size;
  }

  // -------------------------------------------------------------------------------------------
  // Client → process

  /** Forward one request of `exchange` (router.ts). */
  forward(exchange: Exchange, message: JsonRpcRequest): void {
    this.#router.forward(exchange, message);
  }

  /** A client notification (router.ts). */
  notify(session: BridgeSession | undefined, message: JsonRpcNotification, modern: boolean): void {
    this.#router.notify(session, message, modern);
  }

  /** A client's answer to a server request (router.ts). */
  reply(session: BridgeSession | undefined, message: JsonRpcResponse): void {
    this.#router.reply(session, message);
  }

  /** resources/subscribe is the process's; who subscribed is ours (for resources/updated). */
  subscribe(session: BridgeSession, uri: string): void {
    session.subscriptions.add(uri);
  }

  /**
   * resources/unsubscribe: forget it for this session; true when the process should hear it (no
   * other session here still wants that URI).
   */
  unsubscribe(session: BridgeSession, uri: string): boolean {
    session.subscriptions.delete(uri);
    for (const other of this.sessions.values()) if (other.subscriptions.has(uri)) return false;
    return true;
  }

  /** Cancel what `exchange` forwarded (it timed out, or its client went away). */
  cancel(exchange: Exchange, reason: string): void {
    this.#router.cancel(exchange, reason);
  }

  endSession(session: BridgeSession): void {
    if (!this.sessions.delete(session.id)) return;
    session.end();
    this.#deps.forget(session);
    const proc = this.#proc;
    this.#router.dropSession(session);
    for (const uri of session.subscriptions) {
      if (this.unsubscribe(session, uri) && proc && this.#state === 'ready') {
        this.#request(proc, 'resources/unsubscribe', { uri }).catch(() => {});
      }
    }
    this.touch();
  }

  /** After a restart, subscriptions sessions still hold are made again. */
  #resubscribe(proc: StdioProcess): void {
    const uris = new Set<string>();
    for (const session of this.sessions.values()) for (const uri of session.subscriptions) uris.add(uri);
    for (const uri of uris) this.#request(proc, 'resources/subscribe', { uri }).catch(() => {});
  }

  /** From stdout: answers to the bridge's own requests here, the rest to the router. */
  #onMessage(value: unknown): void {
    if (isResponse(value) && typeof value.id === 'number') {
      const internal = this.#internal.get(value.id);
      if (internal) {
        this.#internal.delete(value.id);
        internal.resolve(value);
        return;
      }
    }
    this.#router.onMessage(value);
  }
}
