/**
 * The gateway: one protected MCP endpoint per application, in front of any MCP server. A request
 * walks these steps, in order:
 *
 *   CORS preflight → authenticate (token, or API key, for this application; 401 + resource_metadata)
 *   → read and parse the body (413, -32700) → only MCP's JSON-RPC messages (-32600)
 *   → headers agree with body (-32020)
 *   → policy per request (403 insufficient_scope / step-up; policy_denied as a JSON-RPC error)
 *   → tasks, sessions and resumed streams belong to this caller (404 otherwise)
 *   → forward with the gateway's own token (502 unreachable, 504 too slow)
 *   → filter the answer as it streams (tools/list, resources, prompts, tasks; list_changed)
 *
 * Every denial is logged with the rule that produced it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Application } from '../core/application.ts';
import type { ApplicationRegistry } from '../applications/registry.ts';
import { isPortcullisError, PortcullisError } from '../core/errors.ts';
import { bearerChallenge, challengeFor, insufficientScope, type ChallengedError } from '../shared/challenge.ts';
import type { TokenVerifier, VerifiedToken } from '../shared/verify.ts';
import { readBody, sendJson } from '../http/io.ts';
import type { ResourceTree } from '../identity/permissions.ts';
import { evaluate, GATEWAY_RULES, type CallTarget, type Caller, type Decision } from '../policy/index.ts';
import { toolRule } from '../policy/rule.ts';
import type { Bindings } from './bindings.ts';
import { callerFrom, ownerOf, type CallerIdentity } from './caller.ts';
import { errorResponse, isObject, isRequest, parseBody, RpcError, serializeBody, type JsonRpcRequest } from './jsonrpc.ts';
import { checkHeaders } from './steps/check-headers.ts';
import { checkMessages } from './steps/check-messages.ts';
import { endOnRevocation } from './steps/end-on-revocation.ts';
import { requestMethods, type FilterContext } from './steps/filter-response.ts';
import { privateCacheControl } from './steps/private-cache-control.ts';
import { rewriteJsonBody, SseRewriter } from './steps/stream-response.ts';
import { nodeBody, UpstreamError, type StreamedResponse, type Upstream } from './upstreams/upstream.ts';

export interface GatewayDeps {
  registry: ApplicationRegistry;
  bindings: Bindings;
  /**
   * A verifier whose audience is the given application's resource: JWT access tokens, and API keys
   * (`pcs_…`, keys/api-key-resolver.ts) resolved into the same identity.
   */
  verifierFor(app: Application): TokenVerifier;
  /** The resource tree of an organization, from memory (guard/org-trees.ts). */
  orgTree(orgId: string): Promise<ResourceTree>;
  /** An API key was used (last-used time and IP, written at most once a minute per key). */
  keyUsed?(keyId: string, ip: string): void;
  upstreamFor(app: Application): Upstream;
  resourceMetadataUrl(app: Application): string;
  /** Ask the upstream for its tools again (after notifications/tools/list_changed). */
  refreshManifest(app: Application): void;
  clientIp(req: IncomingMessage): string;
  log: Logger;
  now?: () => number;
  maxBodyBytes?: number;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers':
    'authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, mcp-method, mcp-name',
  'access-control-expose-headers': 'www-authenticate, mcp-session-id, mcp-protocol-version',
  'access-control-max-age': '600',
};

/** Request headers an upstream may see. Never Authorization, cookies, or hop-by-hop headers. */
const FORWARD_REQUEST_HEADERS = new Set(['content-type', 'accept', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'user-agent']);
const FORWARD_RESPONSE_HEADERS = new Set(['content-type', 'mcp-protocol-version', 'cache-control', 'retry-after', 'allow']);

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer +([\x21-\x7e]+)$/i.exec(header.trim());
  return match ? match[1] : '';
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** What one request asks for, for policy. */
function targetOf(message: JsonRpcRequest): CallTarget {
  const params = isObject(message.params) ? message.params : {};
  return {
    method: message.method,
    name: typeof params.name === 'string' ? params.name : undefined,
    uri: typeof params.uri === 'string' ? params.uri : undefined,
    arguments: isObject(params.arguments) ? params.arguments : undefined,
  };
}

/** What policy knows of the caller. */
function policyCaller(caller: CallerIdentity, token: VerifiedToken): Caller {
  return {
    subject: caller.subject,
    clientId: caller.clientId,
    scopes: token.scopes,
    authTime: caller.authTime,
    ip: caller.ip,
    orgId: caller.orgId,
    levels: caller.levels,
    credential: caller.credential,
  };
}

/** Does any tools/call in the body name a tool with arguments mapped to resources? */
function needsTree(app: Application, messages: unknown[]): boolean {
  return messages.some((m) => {
    if (!isRequest(m) || m.method !== 'tools/call' || !isObject(m.params) || typeof m.params.name !== 'string') return false;
    return toolRule(app, m.params.name)?.arguments !== undefined;
  });
}

const TASK_METHODS = new Set(['tasks/get', 'tasks/result', 'tasks/cancel', 'tasks/update']);

export function createGateway(deps: GatewayDeps) {
  const now = deps.now ?? (() => Date.now());
  const maxBody = deps.maxBodyBytes ?? 4 * 1024 * 1024;

  function deny(res: ServerResponse, app: Application, err: ChallengedError | undefined, tokenPresented: boolean, scope?: string, extra?: string): void {
    const challenge = challengeFor(err, { resourceMetadataUrl: deps.resourceMetadataUrl(app), tokenPresented, scope });
    const headers: Record<string, string> = { ...CORS, ...challenge.headers };
    if (extra) headers['www-authenticate'] = `${headers['www-authenticate']}, ${extra}`;
    sendJson(res, challenge.status, challenge.body, headers);
  }

  function rpcError(res: ServerResponse, status: number, id: unknown, code: number, message: string, data?: unknown): void {
    sendJson(res, status, errorResponse((id ?? null) as never, code, message, data), CORS);
  }

  async function authenticate(req: IncomingMessage, res: ServerResponse, app: Application): Promise<VerifiedToken | undefined> {
    const token = bearerToken(req);
    if (token === undefined) {
      deny(res, app, undefined, false, app.defaultScopes.join(' ') || undefined);
      return undefined;
    }
    try {
      return await deps.verifierFor(app)(token);
    } catch (err) {
      const denial = isPortcullisError(err) ? err : new PortcullisError('invalid_token', 'the access token is not valid');
      deps.log.info({ event: 'access.denied', app: app.slug, code: denial.code, rule: denial.rule }, 'token refused');
      // Name the default scopes, so a client that re-authorizes asks for what it needs, not for everything.
      deny(res, app, denial, true, app.defaultScopes.join(' ') || undefined);
      return undefined;
    }
  }

  /** Judge every request of the body. The first HTTP-level denial (scope, step-up) answers for all. */
  function judge(app: Application, caller: CallerIdentity, token: VerifiedToken, messages: unknown[], tree: ResourceTree | undefined) {
    const denials = new Map<unknown, Extract<Decision, { allow: false }>>();
    for (const message of messages) {
      if (!isRequest(message)) continue;
      const target = targetOf(message);
      const decision = evaluate(GATEWAY_RULES, {
        app,
        caller: policyCaller(caller, token),
        target,
        tool: target.method === 'tools/call' && target.name ? deps.registry.tool(app.slug, target.name) : undefined,
        now: now(),
        tree,
      });
      if (!decision.allow) denials.set(message, decision);
    }
    return denials;
  }

  return async function handle(req: IncomingMessage, res: ServerResponse, app: Application): Promise<void> {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS).end();
      return;
    }
    if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
      return sendJson(res, 405, errorResponse(null, RpcError.INVALID_REQUEST, 'method not allowed'), { ...CORS, allow: 'GET, POST, DELETE' });
    }
    // An answer given before the body has been read (401, 413) leaves its rest unread: the front
    // door drains it or ends the connection after the answer (http/linger.ts).
    const token = await authenticate(req, res, app);
    if (!token) return;
    const caller = callerFrom(token, deps.clientIp(req));
    if (token.keyId !== undefined) deps.keyUsed?.(token.keyId, caller.ip);
    const owner = ownerOf(caller);

    if (req.method !== 'POST') {
      // The GET stream and DELETE carry no JSON-RPC request, but the application's own conditions
      // (network, hours) still apply: outside them nobody opens a stream or ends a session.
      const decision = evaluate(GATEWAY_RULES, {
        app,
        caller: policyCaller(caller, token),
        target: { method: `http/${req.method}` },
        now: now(),
      });
      if (!decision.allow) {
        deps.log.info({ event: 'access.denied', app: app.slug, sub: caller.subject, code: decision.code, rule: decision.rule, ...decision.detail }, 'policy denied');
        return rpcError(res, 403, null, RpcError.POLICY, `denied by policy (${decision.rule})`, { code: decision.code, rule: decision.rule, resource: decision.detail.resource });
      }
    }

    let body: Buffer | undefined;
    let messages: unknown[] = [];
    let batch = false;
    if (req.method === 'POST') {
      try {
        body = await readBody(req, maxBody);
      } catch (err) {
        if (isPortcullisError(err) && err.code === 'payload_too_large') return rpcError(res, 413, null, RpcError.INVALID_REQUEST, err.message);
        throw err;
      }
      const parsed = parseBody(body.toString('utf8'));
      if (!parsed) return rpcError(res, 400, null, RpcError.PARSE, 'Parse error');
      ({ messages, batch } = parsed);
      if (messages.length === 0) return rpcError(res, 400, null, RpcError.INVALID_REQUEST, 'empty batch');
      // Only MCP's JSON-RPC messages go on: a tools/call sent as a notification, a nested batch,
      // or anything else policy does not judge is refused here (steps/check-messages.ts).
      const malformed = checkMessages(messages);
      if (malformed) {
        deps.log.info({ event: 'access.denied', app: app.slug, rule: 'invalid-message' }, malformed.message);
        return rpcError(res, 400, malformed.id, malformed.code, malformed.message);
      }
      // The upstream reads what was judged, not the client's bytes (duplicate keys, escapes).
      body = serializeBody(parsed);
      const mismatch = checkHeaders({ method: header(req, 'mcp-method'), name: header(req, 'mcp-name') }, messages);
      if (mismatch) {
        deps.log.info({ event: 'access.denied', app: app.slug, rule: 'header-mismatch', ...mismatch.data.mismatch }, 'headers disagree with body');
        const first = messages[0];
        return rpcError(res, 400, isObject(first) ? first.id : null, mismatch.code, mismatch.message, mismatch.data);
      }

      // The organization's resource tree, from memory (argument-level constraints need it).
      const tree = caller.orgId !== undefined && needsTree(app, messages) ? await deps.orgTree(caller.orgId) : undefined;
      const denials = judge(app, caller, token, messages, tree);
      for (const [, decision] of denials) {
        if (decision.code === 'insufficient_scope') {
          const { denial, scope } = insufficientScope([decision.detail.scope!], token.scopes);
          deps.log.info({ event: 'access.denied', app: app.slug, sub: caller.subject, code: decision.code, rule: decision.rule, needed: decision.detail.scope }, 'scope refused');
          return deny(res, app, denial, true, scope);
        }
        if (decision.code === 'step_up_required') {
          deps.log.info({ event: 'access.denied', app: app.slug, sub: caller.subject, code: decision.code, rule: decision.rule, tool: decision.detail.resource }, 'step-up required');
          const description = 'a more recent sign-in is required';
          if (token.scopes.has(decision.detail.scope!)) {
            // The token holds the step-up scope but its sign-in is older than the tool's max age:
            // 401 insufficient_user_authentication, as RFC 9470 §3 says. Both SDKs answer a 401 by
            // refreshing, and a refresh never carries the step-up scope (authz/step-up.ts), so their
            // retry meets the 403 below and re-authorizes. (A 403 here made the v2 SDK refresh, retry
            // once with the same answer and give up: found by test/gateway/step-up-sdk.test.ts.)
            const challenge = bearerChallenge({
              error: 'insufficient_user_authentication',
              error_description: description,
              max_age: decision.detail.max_age,
              scope: [...token.scopes].join(' '),
              resource_metadata: deps.resourceMetadataUrl(app),
            });
            return sendJson(res, 401, { error: 'insufficient_user_authentication', error_description: description }, { ...CORS, 'www-authenticate': challenge });
          }
          // Both SDKs answer 403 insufficient_scope by re-authorizing with the union of scopes; the
          // step-up scope is granted only after a fresh sign-in (authz/step-up.ts). RFC 9470's
          // challenge follows for clients that understand it.
          const { denial, scope } = insufficientScope([decision.detail.scope!], token.scopes);
          const rfc9470 = bearerChallenge({ error: 'insufficient_user_authentication', error_description: description, max_age: decision.detail.max_age });
          return deny(res, app, denial, true, scope, rfc9470);
        }
      }
      if (denials.size) {
        // Policy denials are JSON-RPC errors (a bare 403 is a transport failure to MCP SDKs). In a
        // batch, nothing is forwarded if any request is denied.
        const answers = messages.filter(isRequest).map((message) => {
          const decision = denials.get(message);
          if (!decision) return errorResponse(message.id, RpcError.POLICY, 'not forwarded: another request in this batch was denied', { code: 'batch_refused' });
          deps.log.info({ event: 'access.denied', app: app.slug, sub: caller.subject, code: decision.code, rule: decision.rule, ...decision.detail }, 'policy denied');
          return errorResponse(message.id, RpcError.POLICY, `denied by policy (${decision.rule})`, { code: decision.code, rule: decision.rule, resource: decision.detail.resource });
        });
        return sendJson(res, 200, batch ? answers : answers[0], CORS);
      }

      for (const message of messages) {
        if (!isRequest(message) || !TASK_METHODS.has(message.method)) continue;
        const taskId = isObject(message.params) ? message.params.taskId : undefined;
        if (typeof taskId !== 'string' || (await deps.bindings.taskOwner(app.slug, taskId)) !== owner) {
          return rpcError(res, 404, message.id, RpcError.INVALID_PARAMS, 'task not found');
        }
      }
    }

    // Sessions and resumed streams belong to their opener.
    const forward = new Headers();
    for (const name of FORWARD_REQUEST_HEADERS) {
      const value = header(req, name);
      if (value !== undefined) forward.set(name, value);
    }
    const sessionId = header(req, 'mcp-session-id');
    if (sessionId !== undefined) {
      const upstreamSession = await deps.bindings.resolveSession(app.slug, owner, sessionId);
      if (upstreamSession === undefined) return rpcError(res, 404, null, RpcError.INVALID_REQUEST, 'session not found');
      forward.set('mcp-session-id', upstreamSession);
    }
    const lastEventId = header(req, 'last-event-id');
    if (lastEventId !== undefined) {
      const upstreamEvent = deps.bindings.openEventId(app.slug, owner, lastEventId);
      if (upstreamEvent === undefined) return rpcError(res, 404, null, RpcError.INVALID_REQUEST, 'stream not found');
      forward.set('last-event-id', upstreamEvent);
    }

    const abort = new AbortController();
    // Release the upstream request when the client goes away — not after a normal finish (an abort
    // builds a DOMException and tears down the upstream exchange for nothing).
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let response: Response | StreamedResponse;
    try {
      response = await deps.upstreamFor(app).send({ method: req.method!, headers: forward, body, signal: abort.signal, caller, messages });
    } catch (err) {
      if (abort.signal.aborted) return;
      const kind = err instanceof UpstreamError ? err.kind : 'unreachable';
      deps.log.warn({ err, app: app.slug, kind }, 'upstream failed');
      const status = kind === 'timeout' ? 504 : kind === 'overloaded' ? 503 : 502;
      const first = messages[0];
      return rpcError(res, status, isObject(first) ? first.id : null, RpcError.UPSTREAM, kind === 'timeout' ? 'the MCP server did not answer in time' : 'the MCP server is unavailable');
    }

    // Take the body now and listen for its errors at once: the client may leave (and the upstream
    // request be aborted) while the steps below await, and an unheard stream error would crash.
    const answer = nodeBody(response);
    answer?.on('error', () => {
      if (!res.writableEnded) res.destroy();
    });

    if (response.status >= 500) {
      // An upstream that fails is the gateway's 502 to the client (503 stays 503 with its
      // Retry-After, so clients back off), as a JSON-RPC error with the request's id — never the
      // upstream's error page, which may carry stack traces or internal names.
      answer?.destroy();
      deps.log.warn({ app: app.slug, status: response.status }, 'the upstream answered with a server error');
      const first = messages[0];
      const retryAfter = response.headers.get('retry-after');
      return sendJson(res, response.status === 503 ? 503 : 502, errorResponse((isObject(first) ? first.id : null) as never, RpcError.UPSTREAM, 'the MCP server failed'), {
        ...CORS,
        ...(retryAfter ? { 'retry-after': retryAfter } : {}),
      });
    }

    if (req.method === 'DELETE' && sessionId !== undefined && response.status >= 200 && response.status < 300) await deps.bindings.endSession(app.slug, sessionId);

    const outHeaders: Record<string, string> = { ...CORS };
    response.headers.forEach((value, name) => {
      if (FORWARD_RESPONSE_HEADERS.has(name)) outHeaders[name] = name === 'cache-control' ? privateCacheControl(value) : value;
    });
    const upstreamSession = response.headers.get('mcp-session-id');
    if (upstreamSession) {
      outHeaders['mcp-session-id'] =
        sessionId !== undefined ? sessionId : await deps.bindings.adoptSession(app.slug, owner, upstreamSession);
    }

    const ctx: FilterContext = {
      app,
      registry: deps.registry,
      bindings: deps.bindings,
      owner,
      scopes: token.scopes,
      methods: requestMethods(messages),
      onToolsChanged: () => deps.refreshManifest(app),
    };
    const contentType = response.headers.get('content-type') ?? '';
    if (!answer) {
      res.writeHead(response.status, outHeaders).end();
      return;
    }
    if (contentType.startsWith('application/json')) {
      const chunks: Buffer[] = [];
      for await (const chunk of answer) chunks.push(chunk as Buffer);
      const payload = await rewriteJsonBody(ctx, Buffer.concat(chunks).toString('utf8'));
      outHeaders['content-length'] = String(Buffer.byteLength(payload));
      res.writeHead(response.status, outHeaders).end(payload);
      return;
    }
    if (contentType.startsWith('text/event-stream')) {
      res.writeHead(response.status, outHeaders);
      // Headers go with the first event; a stream that stays quiet gets them after a moment, so
      // the client knows the stream is open (most answers are one event and one write).
      const flush = setTimeout(() => {
        if (!res.destroyed && !res.writableEnded) res.flushHeaders();
      }, 25);
      res.once('close', () => clearTimeout(flush));
      // A stream outlives its request: cut it when the token's grant is revoked (the upstream
      // request is released with it, by the 'close' handler above).
      endOnRevocation(res, () => deps.verifierFor(app)(token.token), () => {
        deps.log.info({ event: 'access.denied', app: app.slug, sub: caller.subject, code: 'token_revoked', rule: 'revocation' }, 'open stream cut: its grant was revoked');
        res.destroy();
      });
      const rewriter = new SseRewriter(ctx, (id) => deps.bindings.sealEventId(app.slug, owner, id));
      answer
        .on('error', () => res.destroy())
        .pipe(rewriter)
        .on('error', () => res.destroy())
        .pipe(res);
      return;
    }
    res.writeHead(response.status, outHeaders);
    answer.on('error', () => res.destroy()).pipe(res);
  };
}

export type Gateway = ReturnType<typeof createGateway>;
