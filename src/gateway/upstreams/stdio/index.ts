/**
 * A stdio MCP server as a gateway upstream: the bridge answers MCP Streamable HTTP exchanges (as
 * the gateway forwards them) with child processes speaking newline-delimited JSON-RPC.
 *
 *   POST    one message or a batch. 2025-era: `initialize` opens a session (answered from the
 *           process's cached initialize result, `Mcp-Session-Id` minted here); everything else
 *           needs that session. 2026-07-28: requests carrying the `_meta` envelope are served
 *           without a session; `server/discover` is answered here. Answers stream as SSE when
 *           the client accepts it, else JSON.
 *   GET     the session's stream of server messages, resumable with `Last-Event-ID` (405 for a
 *           2026-07-28 client, which has no such stream).
 *   DELETE  ends the session.
 *
 * Which process serves a request: `isolation: "per-user"` (default) gives each user (the token's
 * `sub`) a process of their own, started with their identity in its environment (env.ts);
 * `"shared"` runs one process for everyone. Either way every request carries the caller in
 * `_meta["io.portcullis/caller"]` (caller-meta.ts) and never a token. Lifecycle, routing and
 * isolation: slot.ts; cap and idle sweep: pool.ts; protocol eras: eras.ts; server requests for
 * 2026-07-28 clients: input-required.ts.
 *
 * `timeoutMs` bounds the wait for the first message of an answer (a response, or progress,
 * logging or a server request for it): a process on a pipe cannot say sooner that it has started.
 * A tool that works longer than that in silence should report progress, or the application should
 * raise `timeoutMs`. Once an answer has begun it lasts as long as the request does.
 */
import type { Logger } from 'pino';
import type { StdioUpstream } from '../../../core/application.ts';
import type { CallerIdentity } from '../../caller.ts';
import { errorResponse, isNotification, isObject, isRequest, isResponse, RpcError, type JsonRpcId, type JsonRpcRequest } from '../../jsonrpc.ts';
import { UpstreamError, type Upstream, type UpstreamCall } from '../upstream.ts';
import {
  discoverResult,
  envelopeCapabilities,
  envelopeVersion,
  initializeResult,
  isModernVersion,
  MODERN_VERSIONS,
  negotiateVersion,
  UNSUPPORTED_PROTOCOL_VERSION,
} from './eras.ts';
import { Exchange } from './exchange.ts';
import { ProcessPool } from './pool.ts';
import { BridgeSession } from './session.ts';
import { Slot, type BackoffPolicy } from './slot.ts';

export { CALLER_META_KEY } from './caller-meta.ts';
export { IDENTITY_ENV } from './env.ts';

export interface StdioUpstreamOptions {
  /** The application's slug (told to the process, and in log lines). */
  application: string;
  log: Logger;
  /** Restart delays after crashes (default 500 ms doubling to 30 s; reset after 60 s of uptime). */
  backoff?: Partial<BackoffPolicy>;
  /** How often idle processes and stale sessions are looked for (default: a quarter of idleTimeout, 250 ms … 10 s). */
  sweepMs?: number;
  /** A session unused this long is forgotten (default 24 h, as the gateway's own sessions). */
  sessionTtlMs?: number;
  /**
   * How long a new process may take to start and answer `initialize` (default: timeoutMs, at least
   * 30 s — starting can mean a package download, which a request timeout is not meant for).
   */
  startupTimeoutMs?: number;
}

export interface StdioBridge extends Upstream {
  /** The processes running now: their key (`user:<sub>` or `shared`) and pid. */
  processes(): { key: string; pid: number }[];
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };
/** 2025-era Streamable HTTP errors, as the MCP SDK servers word them. */
const BAD_REQUEST = -32000;
const SESSION_NOT_FOUND = -32001;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function rpcError(status: number, id: JsonRpcId, code: number, message: string, data?: unknown): Response {
  return json(status, errorResponse(id, code, message, data));
}

/** The POST's messages, and whether they came as a batch (answered with an array). */
function readMessages(call: UpstreamCall): { messages: unknown[]; batch: boolean } | undefined {
  const body = call.body && call.body.length ? call.body : undefined;
  let batch = false;
  if (body) {
    for (const byte of body) {
      if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
      batch = byte === 0x5b; // '['
      break;
    }
  }
  if (call.messages) return { messages: call.messages.flat(), batch: batch || call.messages.length > 1 };
  if (!body) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(body));
    return Array.isArray(value) ? { messages: value, batch: true } : { messages: [value], batch: false };
  } catch {
    return undefined;
  }
}

export function createStdioUpstream(config: StdioUpstream, options: StdioUpstreamOptions): StdioBridge {
  const log = options.log;
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const idleMs = config.idleTimeout * 1000;
  const pool = new ProcessPool({
    maxProcesses: config.maxProcesses,
    sweepMs: options.sweepMs ?? Math.min(10_000, Math.max(250, idleMs / 4)),
    sessionTtlMs: options.sessionTtlMs ?? 24 * 3600 * 1000,
  });
  const sessions = new Map<string, BridgeSession>();
  let nextExchange = 1;
  let closed = false;

  const keyFor = (caller: CallerIdentity) => (config.isolation === 'shared' ? 'shared' : `user:${caller.subject}`);

  function slotFor(caller: CallerIdentity): Slot {
    const key = keyFor(caller);
    return pool.slot(
      key,
      () =>
        new Slot({
          key,
          application: options.application,
          config,
          log: log.child(config.isolation === 'shared' ? { isolation: 'shared' } : { isolation: 'per-user', sub: caller.subject }),
          backoff,
          startupTimeoutMs: options.startupTimeoutMs ?? Math.max(config.timeoutMs, 30_000),
          reserve: (slot) => pool.reserve(slot),
          forget: (session) => sessions.delete(session.id),
          now: Date.now,
        }),
    );
  }

  /** The caller's session `id` and its slot; undefined when unknown or someone else's. */
  function sessionFor(id: string | null, caller: CallerIdentity): { session: BridgeSession; slot: Slot } | undefined {
    const session = id ? sessions.get(id) : undefined;
    if (!session || session.subject !== caller.subject || session.clientId !== caller.clientId) return undefined;
    const slot = pool.get(session.slotKey);
    if (!slot?.sessions.has(session.id)) return undefined;
    session.lastUsed = Date.now();
    return { session, slot };
  }

  function exchangeFor(call: UpstreamCall, slot: Slot, init: { session?: BridgeSession; modern: boolean; capabilities: Record<string, unknown>; batch: boolean }): Exchange {
    const exchange = new Exchange({
      id: nextExchange++,
      caller: call.caller,
      sessionId: init.session?.id,
      modern: init.modern,
      capabilities: init.capabilities,
      sse: (call.headers.get('accept') ?? '').includes('text/event-stream'),
      batch: init.batch,
      timeoutMs: config.timeoutMs,
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

  /** 2026-07-28: stateless requests, each carrying its protocol version and capabilities. */
  async function postModern(call: UpstreamCall, messages: unknown[], batch: boolean): Promise<Response> {
    for (const message of messages) {
      const version = envelopeVersion(message)!;
      if (!isModernVersion(version)) {
        const id = isObject(message) && 'id' in message ? (message.id as JsonRpcId) : null;
        return rpcError(400, id, UNSUPPORTED_PROTOCOL_VERSION, 'Unsupported protocol version', { supported: [...MODERN_VERSIONS], requested: version });
      }
    }
    const slot = slotFor(call.caller);
    const requests = messages.filter(isRequest);
    if (!requests.length) {
      for (const message of messages) if (isNotification(message)) slot.notify(undefined, message, true);
      return new Response(null, { status: 202 });
    }
    const init = await slot.ready(call.caller);
    const exchange = exchangeFor(call, slot, { modern: true, capabilities: envelopeCapabilities(requests[0]!), batch });
    exchange.expect(requests.length);
    for (const message of messages) {
      if (isRequest(message)) {
        if (message.method === 'server/discover') exchange.answer({ jsonrpc: '2.0', id: message.id, result: discoverResult(init) });
        else if (message.method === 'initialize') exchange.answer(errorResponse(message.id, RpcError.INVALID_REQUEST, 'initialize is not part of protocol 2026-07-28'));
        else slot.forward(exchange, message);
      } else if (isNotification(message)) slot.notify(undefined, message, true);
    }
    return exchange.response;
  }

  /** 2025-era `initialize`: a new session on the caller's process. */
  async function initialize(call: UpstreamCall, message: JsonRpcRequest): Promise<Response> {
    const slot = slotFor(call.caller);
    const init = await slot.ready(call.caller);
    const params = isObject(message.params) ? message.params : {};
    const version = negotiateVersion(params.protocolVersion, init.protocolVersion);
    const session = new BridgeSession({
      slotKey: slot.key,
      subject: call.caller.subject,
      clientId: call.caller.clientId,
      protocolVersion: version,
      capabilities: isObject(params.capabilities) ? params.capabilities : {},
      now: Date.now(),
    });
    slot.sessions.set(session.id, session);
    sessions.set(session.id, session);
    slot.touch();
    return json(200, { jsonrpc: '2.0', id: message.id, result: initializeResult(init, version) }, { 'mcp-session-id': session.id });
  }

  /** 2025-era messages on a session. */
  async function postLegacy(call: UpstreamCall, messages: unknown[], batch: boolean): Promise<Response> {
    const init = messages.find((m): m is JsonRpcRequest => isRequest(m) && m.method === 'initialize');
    if (init) {
      if (messages.length > 1) return rpcError(400, init.id, RpcError.INVALID_REQUEST, 'initialize must be sent on its own');
      return initialize(call, init);
    }
    const sessionId = call.headers.get('mcp-session-id');
    if (!sessionId) return rpcError(400, null, BAD_REQUEST, 'Bad Request: Mcp-Session-Id header is required');
    const found = sessionFor(sessionId, call.caller);
    if (!found) return rpcError(404, null, SESSION_NOT_FOUND, 'Session not found');
    const { session, slot } = found;
    const requests = messages.filter(isRequest);
    if (!requests.length) {
      // Responses to server requests and notifications: nothing to wait for, no process to start.
      for (const message of messages) {
        if (isResponse(message)) slot.reply(session, message);
        else if (isNotification(message)) slot.notify(session, message, false);
      }
      return new Response(null, { status: 202 });
    }
    await slot.ready(call.caller);
    const exchange = exchangeFor(call, slot, { session, modern: false, capabilities: session.capabilities, batch });
    exchange.expect(requests.length);
    for (const message of messages) {
      if (isRequest(message)) {
        const uri = isObject(message.params) && typeof message.params.uri === 'string' ? message.params.uri : undefined;
        if (message.method === 'resources/subscribe' && uri !== undefined) slot.subscribe(session, uri);
        if (message.method === 'resources/unsubscribe' && uri !== undefined && !slot.unsubscribe(session, uri)) {
          // Another session on this process still wants updates for it: the process keeps the subscription.
          exchange.answer({ jsonrpc: '2.0', id: message.id, result: {} });
          continue;
        }
        slot.forward(exchange, message);
      } else if (isResponse(message)) slot.reply(session, message);
      else if (isNotification(message)) slot.notify(session, message, false);
    }
    return exchange.response;
  }

  async function post(call: UpstreamCall): Promise<Response> {
    const read = readMessages(call);
    if (!read) return rpcError(400, null, RpcError.PARSE, 'Parse error');
    const { messages, batch } = read;
    if (!messages.length) return rpcError(400, null, RpcError.INVALID_REQUEST, 'empty batch');
    const modern = messages.filter((m) => envelopeVersion(m) !== undefined).length;
    if (modern && modern !== messages.length) return rpcError(400, null, RpcError.INVALID_REQUEST, 'a batch cannot mix protocol eras');
    if (modern) return postModern(call, messages, batch);
    const header = call.headers.get('mcp-protocol-version');
    if (header && isModernVersion(header) && messages.some((m) => isRequest(m) && m.method !== 'initialize')) {
      return rpcError(400, null, RpcError.INVALID_PARAMS, 'a 2026-07-28 request must carry its _meta envelope');
    }
    return postLegacy(call, messages, batch);
  }

  function get(call: UpstreamCall): Response {
    const sessionId = call.headers.get('mcp-session-id');
    const header = call.headers.get('mcp-protocol-version');
    if (!sessionId && header && isModernVersion(header)) return rpcError(405, null, BAD_REQUEST, 'Method not allowed.');
    if (!(call.headers.get('accept') ?? '').includes('text/event-stream')) return rpcError(406, null, BAD_REQUEST, 'Not Acceptable: the client must accept text/event-stream');
    if (!sessionId) return rpcError(400, null, BAD_REQUEST, 'Bad Request: Mcp-Session-Id header is required');
    const found = sessionFor(sessionId, call.caller);
    if (!found) return rpcError(404, null, SESSION_NOT_FOUND, 'Session not found');
    const { session, slot } = found;
    slot.touch();
    const stream = session.listen(call.headers.get('last-event-id') ?? undefined, () => slot.touch());
    if (call.signal.aborted) stream.close();
    else call.signal.addEventListener('abort', () => stream.close(), { once: true });
    return new Response(stream.body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
  }

  function del(call: UpstreamCall): Response {
    const sessionId = call.headers.get('mcp-session-id');
    if (!sessionId) return rpcError(400, null, BAD_REQUEST, 'Bad Request: Mcp-Session-Id header is required');
    const found = sessionFor(sessionId, call.caller);
    if (!found) return rpcError(404, null, SESSION_NOT_FOUND, 'Session not found');
    found.slot.endSession(found.session);
    return new Response(null, { status: 200 });
  }

  return {
    async send(call) {
      if (closed) throw new UpstreamError('unreachable', 'the stdio upstream is closed');
      switch (call.method) {
        case 'POST':
          return post(call);
        case 'GET':
          return get(call);
        case 'DELETE':
          return del(call);
        default:
          return rpcError(405, null, BAD_REQUEST, 'Method not allowed.');
      }
    },
    processes() {
      return pool.slots().flatMap((slot) => (slot.pid !== undefined ? [{ key: slot.key, pid: slot.pid }] : []));
    },
    async close() {
      closed = true;
      await pool.close();
      sessions.clear();
    },
  };
}
