/**
 * One stdio process and everything routed through it: a user's own process (isolation
 * "per-user") or everyone's ("shared").
 *
 * Lifecycle. The process is started on demand and initialized once, by the bridge itself, with
 * every capability the bridge can relay (sampling, elicitation, roots); clients' `initialize` are
 * answered from the cached result (see eras.ts) and their `notifications/initialized` go no
 * further. A quiet process — nothing in flight, no client listening on a GET stream — is stopped
 * after `idleTimeout` (sessions survive it: the next request starts it again). One that exits on its own is restarted with exponential back-off (restarted
 * at once when someone is connected, otherwise on the next request); requests meanwhile get an
 * UpstreamError (→ 502), and requests in flight when it died get JSON-RPC errors — never a hang.
 *
 * Routing (MCP 2025-11-25 basic/transports §stdio and §Streamable HTTP). Every request forwarded
 * gets an id of the bridge's, so requests of different sessions never collide and each response
 * goes back to the exchange that asked, under the id the client chose; progress tokens are
 * rewritten the same way. Messages a stdio server sends on its own carry no hint of the request
 * they belong to, so:
 *  - server requests (sampling, elicitation, roots/list) go to the client of the request in
 *    flight (on its POST stream while open, else its session's GET stream; a 2026-07-28 client
 *    gets them as an InputRequiredResult, see input-required.ts); with none in flight, per-user
 *    asks the user's most recently active session, shared refuses (-32601). A client that did not
 *    declare the capability is never asked (-32601 on its behalf);
 *  - notifications (logging, task status…) likewise, except that per-user with nothing in flight
 *    tells all the user's sessions, and shared drops what it cannot place;
 *  - list_changed notifications concern everyone and go to every session; resources/updated to
 *    the sessions subscribed to that URI.
 * In shared mode, anything that could belong to more than one caller is refused or dropped:
 * nobody ever receives another caller's messages.
 */
import type { Logger } from 'pino';
import type { StdioUpstream } from '../../../apps/definition.ts';
import type { CallerIdentity } from '../../caller.ts';
import {
  errorResponse,
  isNotification,
  isObject,
  isRequest,
  isResponse,
  RpcError,
  type JsonRpcId,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../../jsonrpc.ts';
import { UpstreamError } from '../upstream.ts';
import { CALLER_META_KEY, callerMeta, rewriteMeta } from './caller-meta.ts';
import { spawnEnvironment, type SpawnIdentity } from './env.ts';
import { LATEST_LEGACY_VERSION, modernResult, withoutEnvelope, type ProcessInit } from './eras.ts';
import type { Exchange } from './exchange.ts';
import { INPUT_REQUIRED_METHODS, inputRequiredResult, InputRequests, type ParkedInput } from './input-required.ts';
import { StdioProcess } from './process.ts';
import { REPLAY_KEEP_MS, type BridgeSession } from './session.ts';

/** What the bridge tells the process it can relay (2025-11-25 client capabilities). */
export const BRIDGE_CAPABILITIES = { roots: { listChanged: true }, sampling: {}, elicitation: { form: {}, url: {} } };
export const BRIDGE_CLIENT_INFO = { name: 'portcullis-gateway', title: 'Portcullis gateway (stdio bridge)', version: '1' };

const METHOD_NOT_FOUND = -32601;
/** How long a 2026-07-28 client has to come back with the input a process asked for. */
const INPUT_TTL_MS = 10 * 60 * 1000;

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
   * Make room for one more process or throw UpstreamError 'overloaded'; a promise when a quiet
   * process is being stopped to make room (start once it resolves).
   */
  reserve(slot: Slot): Promise<void> | undefined;
  /** A session ended (DELETE, expiry, shutdown). */
  forget(session: BridgeSession): void;
  now(): number;
}

interface Pending {
  exchange: Exchange;
  originalId: JsonRpcId;
  method: string;
  /** The client's own progress token, when it asked for progress. */
  progressToken: unknown;
  /** Waiting for a 2026-07-28 client to retry with the input the process asked for. */
  parked?: boolean;
}

interface Outbound {
  processId: JsonRpcId;
  sessionId: string | undefined;
  exchange: Exchange | undefined;
}

interface Internal {
  resolve(message: JsonRpcResponse): void;
  reject(err: unknown): void;
}

type State = 'idle' | 'starting' | 'ready' | 'stopping' | 'backoff' | 'closed';

interface Target {
  exchange?: Exchange;
  session?: BridgeSession;
}

/** Does a client with `caps` handle this server request? (2025-11-25 client capabilities) */
function supports(caps: Record<string, unknown>, request: JsonRpcRequest): boolean {
  switch (request.method) {
    case 'sampling/createMessage':
      return isObject(caps.sampling);
    case 'roots/list':
      return isObject(caps.roots);
    case 'elicitation/create': {
      const elicitation = caps.elicitation;
      if (!isObject(elicitation)) return false;
      const mode = isObject(request.params) ? request.params.mode : undefined;
      if (mode === 'url') return isObject(elicitation.url);
      // `{}` is form mode (the capability before modes existed).
      return Object.keys(elicitation).length === 0 || isObject(elicitation.form);
    }
    default:
      return true;
  }
}

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
  #nextOutbound = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #outbound = new Map<number, Outbound>();
  readonly #internal = new Map<number, Internal>();
  readonly #inputs = new InputRequests(INPUT_TTL_MS, (input) => this.#inputExpired(input));

  constructor(deps: SlotDeps) {
    this.#deps = deps;
    this.key = deps.key;
    this.#log = deps.log;
    this.lastActivity = deps.now();
    this.#identity = { application: deps.application, isolation: deps.config.isolation };
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
    if (this.exchanges.size || this.#pending.size || this.#outbound.size) return false;
    for (const session of this.sessions.values()) if (session.listening) return false;
    return true;
  }

  /** The process's answer to the bridge's `initialize`, while it runs. */
  get init(): ProcessInit | undefined {
    return this.#init;
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
    if (this.#state === 'closed') throw new UpstreamError('unreachable', 'the stdio upstream is closed');
    if (this.#state === 'stopping') {
      await this.#stopping;
      return this.ready(caller);
    }
    if (this.#state === 'backoff' && this.#deps.now() < this.#retryAt) {
      throw new UpstreamError('unreachable', 'the stdio MCP server stopped unexpectedly and is being restarted');
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
      throw new UpstreamError('unreachable', 'the stdio MCP server could not be started', { cause: err });
    }
    if (this.#state === 'closed') {
      proc.kill();
      throw new UpstreamError('unreachable', 'the stdio upstream is closed');
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
        throw new UpstreamError('unreachable', 'the stdio MCP server refused to initialize', { cause: answer.error });
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
      throw err instanceof UpstreamError ? err : new UpstreamError('unreachable', 'the stdio MCP server did not initialize', { cause: err });
    }
    if (this.#proc !== proc || this.#state !== 'starting') throw new UpstreamError('unreachable', 'the stdio MCP server stopped while starting');
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
        reject(new UpstreamError('timeout', `the stdio MCP server did not answer ${method} in time`));
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
        reject(new UpstreamError('unreachable', 'the stdio MCP server is not running'));
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
    for (const internal of this.#internal.values()) internal.reject(new UpstreamError('unreachable', 'the stdio MCP server stopped'));
    this.#internal.clear();
    const answers = new Map<Exchange, unknown[]>();
    for (const pending of this.#pending.values()) {
      const list = answers.get(pending.exchange) ?? [];
      list.push(errorResponse(pending.originalId, RpcError.UPSTREAM, 'the MCP server stopped before it answered'));
      answers.set(pending.exchange, list);
    }
    this.#pending.clear();
    this.#outbound.clear();
    this.#inputs.clear();
    for (const [exchange, list] of answers) exchange.fail('unreachable', list);
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

  /** Forward one request of `exchange` under a bridge id, with the caller in `_meta`. */
  forward(exchange: Exchange, message: JsonRpcRequest): void {
    const proc = this.#proc;
    if (!proc || this.#state !== 'ready') {
      exchange.answer(errorResponse(message.id, RpcError.UPSTREAM, 'the MCP server is not running'));
      return;
    }
    if (message.params !== undefined && !isObject(message.params)) {
      exchange.answer(errorResponse(message.id, RpcError.INVALID_PARAMS, 'params must be an object'));
      return;
    }
    if (exchange.modern && typeof message.params?.requestState === 'string') {
      this.#resume(exchange, message);
      return;
    }
    const bridgeId = this.#nextId++;
    let progressToken: unknown;
    const rewritten = rewriteMeta(message as unknown as Record<string, unknown>, (meta) => {
      const next = exchange.modern ? withoutEnvelope(meta) : meta;
      if (next.progressToken !== undefined) {
        progressToken = next.progressToken;
        next.progressToken = bridgeId;
      }
      next[CALLER_META_KEY] = callerMeta(exchange.caller);
      return next;
    });
    this.#pending.set(bridgeId, { exchange, originalId: message.id, method: message.method, progressToken });
    this.touch();
    if (!proc.send({ ...rewritten, id: bridgeId })) {
      this.#pending.delete(bridgeId);
      exchange.answer(errorResponse(message.id, RpcError.UPSTREAM, 'the MCP server is not running'));
    }
  }

  /** A client notification. Its `initialized` is the bridge's business; cancellations are mapped. */
  notify(session: BridgeSession | undefined, message: JsonRpcNotification, modern: boolean): void {
    this.touch();
    if (message.method === 'notifications/initialized') return;
    const proc = this.#proc;
    if (message.method === 'notifications/cancelled') {
      const params = isObject(message.params) ? message.params : {};
      for (const [bridgeId, pending] of this.#pending) {
        if (pending.exchange.sessionId === undefined || pending.exchange.sessionId !== session?.id || pending.originalId !== params.requestId) continue;
        this.#pending.delete(bridgeId);
        proc?.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: bridgeId, ...(typeof params.reason === 'string' ? { reason: params.reason } : {}) } });
        pending.exchange.skip();
        return;
      }
      return;
    }
    if (!proc || this.#state !== 'ready') return;
    proc.send(rewriteMeta(message as unknown as Record<string, unknown>, (meta) => (modern ? withoutEnvelope(meta) : meta)));
  }

  /** A client's answer to a server request: back to the process under the id it used. */
  reply(session: BridgeSession | undefined, message: JsonRpcResponse): void {
    this.touch();
    const entry = typeof message.id === 'number' ? this.#outbound.get(message.id) : undefined;
    // Only the session that was asked may answer.
    if (!entry || entry.sessionId === undefined || entry.sessionId !== session?.id) return;
    this.#outbound.delete(message.id as number);
    this.#proc?.send({ ...rewriteMeta(message as unknown as Record<string, unknown>), id: entry.processId });
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

  /**
   * Cancel what `exchange` forwarded (it timed out, or its client went away): the process is told
   * (2025-11-25 basic/utilities/cancellation) and the exchange expects no answer to it any more.
   */
  cancel(exchange: Exchange, reason: string): void {
    for (const [bridgeId, pending] of this.#pending) {
      if (pending.exchange !== exchange) continue;
      this.#pending.delete(bridgeId);
      this.#proc?.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: bridgeId, reason } });
      exchange.skip();
    }
  }

  endSession(session: BridgeSession): void {
    if (!this.sessions.delete(session.id)) return;
    session.end();
    this.#deps.forget(session);
    const proc = this.#proc;
    for (const [bridgeId, pending] of this.#pending) {
      if (pending.exchange.sessionId !== session.id) continue;
      this.#pending.delete(bridgeId);
      proc?.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: bridgeId, reason: 'the client session ended' } });
      pending.exchange.answer(errorResponse(pending.originalId, RpcError.INVALID_REQUEST, 'the session ended'));
    }
    for (const [id, entry] of this.#outbound) {
      if (entry.sessionId !== session.id) continue;
      this.#outbound.delete(id);
      proc?.send(errorResponse(entry.processId, RpcError.INTERNAL, 'the client session ended'));
    }
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

  // -------------------------------------------------------------------------------------------
  // Process → clients

  #onMessage(value: unknown): void {
    if (Array.isArray(value)) {
      for (const message of value) this.#onMessage(message);
      return;
    }
    if (isResponse(value)) this.#onResponse(value);
    else if (isRequest(value)) this.#onServerRequest(value);
    else if (isNotification(value)) this.#onServerNotification(value);
    else this.#log.debug('dropped a stdout line that is not a JSON-RPC message');
  }

  #onResponse(message: JsonRpcResponse): void {
    if (typeof message.id !== 'number') {
      this.#log.warn({ error: message.error }, 'the stdio MCP server answered a request it could not read');
      return;
    }
    const internal = this.#internal.get(message.id);
    if (internal) {
      this.#internal.delete(message.id);
      internal.resolve(message);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return; // cancelled, timed out, or its session ended
    this.#pending.delete(message.id);
    if (pending.parked) this.#inputs.dropFor(message.id);
    this.touch();
    const answer: Record<string, unknown> = { ...message, id: pending.originalId };
    if ('result' in answer && pending.exchange.modern) answer.result = modernResult(pending.method, answer.result, this.#init?.serverInfo ?? {});
    pending.exchange.answer(answer);
  }

  #onServerRequest(message: JsonRpcRequest): void {
    const proc = this.#proc;
    if (message.method === 'ping') {
      proc?.send({ jsonrpc: '2.0', id: message.id, result: {} });
      return;
    }
    const refuse = (why: string) => {
      this.#log.debug({ method: message.method, why }, 'server request refused on behalf of the client');
      proc?.send(errorResponse(message.id, METHOD_NOT_FOUND, why));
    };
    const target = this.#targetFor(true);
    if (!target) return refuse('no client session can take this request');
    if (target.exchange?.modern) return this.#askModern(target.exchange, message, refuse);
    const caps = target.session?.capabilities ?? target.exchange?.capabilities ?? {};
    if (!supports(caps, message)) return refuse(`the client does not support ${message.method}`);
    const id = this.#nextOutbound++;
    this.#outbound.set(id, { processId: message.id, sessionId: target.session?.id, exchange: target.exchange });
    this.#deliver(target, { ...message, id });
  }

  /** A server request during a 2026-07-28 request: answer that request with input_required (input-required.ts). */
  #askModern(exchange: Exchange, message: JsonRpcRequest, refuse: (why: string) => void): void {
    let found: [number, Pending] | undefined;
    for (const entry of this.#pending) if (entry[1].exchange === exchange) found = entry;
    if (!found || !INPUT_REQUIRED_METHODS.has(found[1].method)) return refuse(`a 2026-07-28 client can be asked for input only during ${[...INPUT_REQUIRED_METHODS].join(', ')}`);
    if (!supports(exchange.capabilities, message)) return refuse(`the client does not support ${message.method}`);
    const [bridgeId, pending] = found;
    const { requestState, key } = this.#inputs.park({
      serverRequestId: message.id,
      bridgeId,
      subject: exchange.caller.subject,
      clientId: exchange.caller.clientId,
      method: pending.method,
    });
    pending.parked = true;
    const result = modernResult(pending.method, inputRequiredResult(key, message, requestState), this.#init?.serverInfo ?? {});
    exchange.answer({ jsonrpc: '2.0', id: pending.originalId, result });
  }

  /** A 2026-07-28 retry carrying `requestState`: the client's input goes to the waiting process. */
  #resume(exchange: Exchange, message: JsonRpcRequest): void {
    const params = message.params as Record<string, unknown>;
    const input = this.#inputs.take(params.requestState as string, exchange.caller, message.method);
    const pending = input && this.#pending.get(input.bridgeId);
    if (!input || !pending) {
      exchange.answer(errorResponse(message.id, RpcError.INVALID_PARAMS, 'requestState is unknown, used or expired'));
      return;
    }
    const responses = isObject(params.inputResponses) ? params.inputResponses : {};
    const answer = responses[input.key];
    this.#proc?.send(isObject(answer) ? { jsonrpc: '2.0', id: input.serverRequestId, result: answer } : errorResponse(input.serverRequestId, RpcError.INTERNAL, 'the client gave no answer'));
    // The retry now receives what the original request was going to.
    const meta = isObject(params._meta) ? params._meta : {};
    pending.exchange = exchange;
    pending.originalId = message.id;
    pending.progressToken = meta.progressToken;
    pending.parked = false;
    this.touch();
  }

  /** Nobody came back with the input: the process's question gets an error, its request is cancelled. */
  #inputExpired(input: ParkedInput): void {
    const proc = this.#proc;
    proc?.send(errorResponse(input.serverRequestId, RpcError.INTERNAL, 'the client did not provide the input in time'));
    if (this.#pending.delete(input.bridgeId)) {
      proc?.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: input.bridgeId, reason: 'the client did not come back with the input' } });
    }
  }

  #onServerNotification(message: JsonRpcNotification): void {
    const params = isObject(message.params) ? message.params : {};
    switch (message.method) {
      case 'notifications/progress': {
        const pending = typeof params.progressToken === 'number' ? this.#pending.get(params.progressToken) : undefined;
        if (!pending || pending.progressToken === undefined) return;
        this.#deliver({ exchange: pending.exchange, session: this.#sessionOf(pending.exchange) }, { ...message, params: { ...params, progressToken: pending.progressToken } });
        return;
      }
      case 'notifications/cancelled': {
        // The server gave up on a request it sent a client.
        for (const [id, entry] of this.#outbound) {
          if (entry.processId !== params.requestId) continue;
          this.#outbound.delete(id);
          this.#deliver({ exchange: entry.exchange, session: entry.sessionId ? this.sessions.get(entry.sessionId) : undefined }, { ...message, params: { ...params, requestId: id } });
          return;
        }
        return;
      }
      case 'notifications/tools/list_changed':
      case 'notifications/prompts/list_changed':
      case 'notifications/resources/list_changed':
        // Says nothing about anyone: every session hears it (and the gateway refreshes its manifest).
        for (const session of this.sessions.values()) session.push(message);
        return;
      case 'notifications/resources/updated':
        for (const session of this.sessions.values()) if (typeof params.uri === 'string' && session.subscriptions.has(params.uri)) session.push(message);
        return;
      default: {
        const target = this.#targetFor(false);
        if (target) this.#deliver(target, message);
        else if (this.#deps.config.isolation === 'per-user') for (const session of this.sessions.values()) session.push(message);
        else this.#log.debug({ method: message.method }, 'dropped a notification that belongs to no single caller');
      }
    }
  }

  /** On the exchange's stream while it is open, else on the session's GET stream. */
  #deliver(target: Target, message: unknown): void {
    if (target.exchange?.push(message)) return;
    target.session?.push(message);
  }

  #sessionOf(exchange: Exchange): BridgeSession | undefined {
    return exchange.sessionId !== undefined ? this.sessions.get(exchange.sessionId) : undefined;
  }

  /** Whose is a message the process sent on its own? See the module comment. */
  #targetFor(request: boolean): Target | undefined {
    // Requests in flight, by owner; `latest` is the exchange of the most recently forwarded one.
    const owners = new Set<string>();
    let latest: Exchange | undefined;
    for (const pending of this.#pending.values()) {
      if (!pending.exchange.open) continue;
      owners.add(pending.exchange.sessionId ?? `exchange ${pending.exchange.id}`);
      latest = pending.exchange;
    }
    if (this.#deps.config.isolation === 'shared') {
      if (owners.size !== 1 || !latest) return undefined;
      return { exchange: latest, session: this.#sessionOf(latest) };
    }
    if (latest) return { exchange: latest, session: this.#sessionOf(latest) };
    if (!request) return undefined;
    let recent: BridgeSession | undefined;
    for (const session of this.sessions.values()) if (!recent || session.lastUsed >= recent.lastUsed) recent = session;
    return recent ? { session: recent } : undefined;
  }
}
