/**
 * Who gets what, between one stdio process and the clients it serves (MCP 2025-11-25
 * basic/transports §stdio and §Streamable HTTP; 2026-07-28 basic/patterns/mrtr).
 *
 * Every request forwarded gets an id of the bridge's, so requests of different sessions never
 * collide and each response goes back to the exchange that asked, under the id the client chose;
 * progress tokens are rewritten the same way, and every request carries its caller in `_meta`.
 * Messages a stdio server sends on its own carry no hint of the request they belong to, so:
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
 * nobody ever receives another caller's messages. Answers to server requests are taken only
 * from the session that was asked, cancellations only from the session that sent the request.
 */
import type { Logger } from 'pino';
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
import { CALLER_META_KEY, callerMeta, rewriteMeta } from './caller-meta.ts';
import { modernResult, withoutEnvelope } from './eras.ts';
import type { Exchange } from './exchange.ts';
import { INPUT_REQUIRED_METHODS, inputRequiredResult, InputRequests, type ParkedInput } from './input-required.ts';
import type { BridgeSession } from './session.ts';

const METHOD_NOT_FOUND = -32601;
/** How long a 2026-07-28 client has to come back with the input a process asked for. */
const INPUT_TTL_MS = 10 * 60 * 1000;

export interface RouterDeps {
  isolation: 'per-user' | 'shared';
  log: Logger;
  /** The sessions on this process. */
  sessions: Map<string, BridgeSession>;
  /** Is the process up and initialized? */
  running(): boolean;
  /** Write to the process; false when it cannot take it. */
  send(message: unknown): boolean;
  /** A fresh id for a message to the process (shared with the bridge's own requests). */
  nextId(): number;
  serverInfo(): Record<string, unknown>;
  /** Something happened (for idleness). */
  touch(): void;
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

export class Router {
  readonly #deps: RouterDeps;
  readonly #log: Logger;
  #nextOutbound = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #outbound = new Map<number, Outbound>();
  readonly #inputs = new InputRequests(INPUT_TTL_MS, (input) => this.#inputExpired(input));

  constructor(deps: RouterDeps) {
    this.#deps = deps;
    this.#log = deps.log;
  }

  /** Requests in flight either way. */
  get busy(): boolean {
    return this.#pending.size > 0 || this.#outbound.size > 0;
  }

  /** The process is gone: every request in flight gets a JSON-RPC error (or its exchange fails). */
  failAll(): void {
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

  // -------------------------------------------------------------------------------------------
  // Client → process

  /** Forward one request of `exchange` under a bridge id, with the caller in `_meta`. */
  forward(exchange: Exchange, message: JsonRpcRequest): void {
    if (!this.#deps.running()) {
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
    const bridgeId = this.#deps.nextId();
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
    this.#deps.touch();
    if (!this.#deps.send({ ...rewritten, id: bridgeId })) {
      this.#pending.delete(bridgeId);
      exchange.answer(errorResponse(message.id, RpcError.UPSTREAM, 'the MCP server is not running'));
    }
  }

  /** A client notification. Its `initialized` is the bridge's business; cancellations are mapped. */
  notify(session: BridgeSession | undefined, message: JsonRpcNotification, modern: boolean): void {
    this.#deps.touch();
    if (message.method === 'notifications/initialized') return;
    if (message.method === 'notifications/cancelled') {
      const params = isObject(message.params) ? message.params : {};
      for (const [bridgeId, pending] of this.#pending) {
        if (pending.exchange.sessionId === undefined || pending.exchange.sessionId !== session?.id || pending.originalId !== params.requestId) continue;
        this.#pending.delete(bridgeId);
        this.#deps.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: bridgeId, ...(typeof params.reason === 'string' ? { reason: params.reason } : {}) } });
        pending.exchange.skip();
        return;
      }
      return;
    }
    if (!this.#deps.running()) return;
    this.#deps.send(rewriteMeta(message as unknown as Record<string, unknown>, (meta) => (modern ? withoutEnvelope(meta) : meta)));
  }

  /** A client's answer to a server request: back to the process under the id it used. */
  reply(session: BridgeSession | undefined, message: JsonRpcResponse): void {
    this.#deps.touch();
    const entry = typeof message.id === 'number' ? this.#outbound.get(message.id) : undefined;
    // Only the session that was asked may answer.
    if (!entry || entry.sessionId === undefined || entry.sessionId !== session?.id) return;
    this.#outbound.delete(message.id as number);
    this.#deps.send({ ...rewriteMeta(message as unknown as Record<string, unknown>), id: entry.processId });
  }

  /**
   * Cancel what `exchange` forwarded (it timed out, or its client went away): the process is told
   * (2025-11-25 basic/utilities/cancellation) and the exchange expects no answer to it any more.
   */
  cancel(exchange: Exchange, reason: string): void {
    for (const [bridgeId, pending] of this.#pending) {
      if (pending.exchange !== exchange) continue;
      this.#pending.delete(bridgeId);
      this.#deps.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: bridgeId, reason } });
      exchange.skip();
    }
  }

  /** A session ended: what it forwarded is cancelled, what it was asked is answered for it. */
  dropSession(session: BridgeSession): void {
    for (const [bridgeId, pending] of this.#pending) {
      if (pending.exchange.sessionId !== session.id) continue;
      this.#pending.delete(bridgeId);
      this.#deps.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: bridgeId, reason: 'the client session ended' } });
      pending.exchange.answer(errorResponse(pending.originalId, RpcError.INVALID_REQUEST, 'the session ended'));
    }
    for (const [id, entry] of this.#outbound) {
      if (entry.sessionId !== session.id) continue;
      this.#outbound.delete(id);
      this.#deps.send(errorResponse(entry.processId, RpcError.INTERNAL, 'the client session ended'));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Process → clients

  /** A message the process wrote (responses to the bridge's own requests never get here). */
  onMessage(value: unknown): void {
    if (Array.isArray(value)) {
      for (const message of value) this.onMessage(message);
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
    const pending = this.#pending.get(message.id);
    if (!pending) return; // cancelled, timed out, or its session ended
    this.#pending.delete(message.id);
    if (pending.parked) this.#inputs.dropFor(message.id);
    this.#deps.touch();
    const answer: Record<string, unknown> = { ...message, id: pending.originalId };
    if ('result' in answer && pending.exchange.modern) answer.result = modernResult(pending.method, answer.result, this.#deps.serverInfo());
    pending.exchange.answer(answer);
  }

  #onServerRequest(message: JsonRpcRequest): void {
    if (message.method === 'ping') {
      this.#deps.send({ jsonrpc: '2.0', id: message.id, result: {} });
      return;
    }
    const refuse = (why: string) => {
      this.#log.debug({ method: message.method, why }, 'server request refused on behalf of the client');
      this.#deps.send(errorResponse(message.id, METHOD_NOT_FOUND, why));
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
    const result = modernResult(pending.method, inputRequiredResult(key, message, requestState), this.#deps.serverInfo());
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
    this.#deps.send(isObject(answer) ? { jsonrpc: '2.0', id: input.serverRequestId, result: answer } : errorResponse(input.serverRequestId, RpcError.INTERNAL, 'the client gave no answer'));
    // The retry now receives what the original request was going to.
    const meta = isObject(params._meta) ? params._meta : {};
    pending.exchange = exchange;
    pending.originalId = message.id;
    pending.progressToken = meta.progressToken;
    pending.parked = false;
    this.#deps.touch();
  }

  /** Nobody came back with the input: the process's question gets an error, its request is cancelled. */
  #inputExpired(input: ParkedInput): void {
    this.#deps.send(errorResponse(input.serverRequestId, RpcError.INTERNAL, 'the client did not provide the input in time'));
    if (this.#pending.delete(input.bridgeId)) {
      this.#deps.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: input.bridgeId, reason: 'the client did not come back with the input' } });
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
          this.#deliver({ exchange: entry.exchange, session: entry.sessionId ? this.#deps.sessions.get(entry.sessionId) : undefined }, { ...message, params: { ...params, requestId: id } });
          return;
        }
        return;
      }
      case 'notifications/tools/list_changed':
      case 'notifications/prompts/list_changed':
      case 'notifications/resources/list_changed':
        // Says nothing about anyone: every session hears it (and the gateway refreshes its manifest).
        for (const session of this.#deps.sessions.values()) session.push(message);
        return;
      case 'notifications/resources/updated':
        for (const session of this.#deps.sessions.values()) if (typeof params.uri === 'string' && session.subscriptions.has(params.uri)) session.push(message);
        return;
      default: {
        const target = this.#targetFor(false);
        if (target) this.#deliver(target, message);
        else if (this.#deps.isolation === 'per-user') for (const session of this.#deps.sessions.values()) session.push(message);
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
    return exchange.sessionId !== undefined ? this.#deps.sessions.get(exchange.sessionId) : undefined;
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
    if (this.#deps.isolation === 'shared') {
      if (owners.size !== 1 || !latest) return undefined;
      return { exchange: latest, session: this.#sessionOf(latest) };
    }
    if (latest) return { exchange: latest, session: this.#sessionOf(latest) };
    if (!request) return undefined;
    let recent: BridgeSession | undefined;
    for (const session of this.#deps.sessions.values()) if (!recent || session.lastUsed >= recent.lastUsed) recent = session;
    return recent ? { session: recent } : undefined;
  }
}
