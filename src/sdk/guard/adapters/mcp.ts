/**
 * The guard for MCP SDK v2 servers (`portcullis/guard/mcp`): `protectMcp(guard, factory)` is
 * `createMcpHandler(factory)` from `@modelcontextprotocol/server` with Portcullis in front.
 *
 *   - the Protected Resource Metadata at its RFC 9728 §3.1 path, unauthenticated;
 *   - every MCP request authenticated — `server/discover` and `initialize` included, since an SDK
 *     client must meet the 401 first to find the authorization server (MCP authorization §2.3);
 *   - the verified token handed to the server as `authInfo` (`ctx.authInfo` in the factory,
 *     `ctx.http.authInfo` in tool handlers; `extra.subject` / `extra.actor` name user and actor);
 *   - `tools/call` for a tool beyond the token's scopes → 403 `insufficient_scope` naming every scope
 *     needed, including those held (MCP authorization, "Scope Challenge Handling"), before the
 *     server sees it;
 *   - `tools/list` answers (JSON or SSE) filtered to the tools the token may call.
 *
 * A tool's scope comes from the guard's `toolScopes`, or is declared beside the tool with
 * `toolScope('notes:write')` (spread into `registerTool`'s config): that puts the scope in the
 * tool's `_meta` (so listings can be filtered) and registers the SDK's own `scopeChallenge` (so
 * calls are refused before the handler runs, with the same 403 challenge).
 *
 * `node` serves the same from a node:http server (or as an Express/Connect handler mounted
 * *without* a body parser in front — it reads the body itself).
 */
import type { RequestListener } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import {
  createMcpHandler,
  type CreateMcpHandlerOptions,
  type McpHttpHandler,
  type McpServerFactory,
  type ScopeChallengeHandler,
} from '@modelcontextprotocol/server';
import { sseParser, sseSerializer, type SseEvent } from '../../../shared/sse.ts';
import type { Challenge } from '../../../shared/challenge.ts';
import type { Guard } from '../guard.ts';
import type { GuardIdentity } from '../identity.ts';
import { TOOL_SCOPE_META, type ListedTool } from '../tool-scopes.ts';
import { CORS_HEADERS } from './node.ts';

export interface ProtectMcpOptions extends CreateMcpHandlerOptions {
  /** The path MCP is served at (default: the path of the guard's resource URL). */
  path?: string;
}

export interface ProtectedMcp {
  /** Web-standard face: one HTTP request in, one response out. */
  fetch(request: Request): Promise<Response>;
  /** node:http face of the same. */
  node: RequestListener;
  /** The SDK handler behind it (for `notify`, `bus`). */
  handler: McpHttpHandler;
  /** Stop in-flight exchanges (the guard is closed separately: it may be shared). */
  close(): Promise<void>;
}

const PREFLIGHT = {
  ...CORS_HEADERS,
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, mcp-method, mcp-name',
  'access-control-max-age': '600',
};

/**
 * Declare the scope a tool needs beside the tool:
 * `server.registerTool('delete_note', { description, inputSchema, ...toolScope('notes:delete') }, cb)`.
 * Pass the tool's other `_meta` as `meta`, since this sets `_meta`.
 */
export function toolScope(scope: string, meta: Record<string, unknown> = {}): { _meta: Record<string, unknown>; scopeChallenge: ScopeChallengeHandler } {
  return {
    _meta: { ...meta, [TOOL_SCOPE_META]: scope },
    scopeChallenge: ({ authInfo }) => {
      if (!authInfo || authInfo.scopes.includes(scope)) return undefined;
      // Every scope needed, including those already held: a client that re-authorizes with this
      // set does not lose what it had (MCP authorization, "Scope Challenge Handling").
      const scopes = [...new Set([...authInfo.scopes, scope])] as [string, ...string[]];
      return { scopes, errorDescription: 'the access token lacks a scope this request needs' };
    },
  };
}

function challengeResponse(challenge: Challenge): Response {
  return Response.json(challenge.body, { status: challenge.status, headers: { ...CORS_HEADERS, ...challenge.headers, 'cache-control': 'no-store' } });
}

function rpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', id: null, error: { code, message } }, { status, headers: CORS_HEADERS });
}

/** Ids of the `tools/list` requests in a message or batch: their answers get filtered. */
function toolsListIds(message: unknown): Set<unknown> {
  const ids = new Set<unknown>();
  for (const entry of Array.isArray(message) ? message : [message]) {
    if (entry && typeof entry === 'object' && (entry as { method?: unknown }).method === 'tools/list' && 'id' in entry) ids.add((entry as { id: unknown }).id);
  }
  return ids;
}

/** Remove from a JSON-RPC response (or batch of them) the tools this identity may not call. */
function filterMessage(guard: Guard, identity: GuardIdentity, ids: Set<unknown>, message: unknown): unknown {
  if (Array.isArray(message)) return message.map((m) => filterMessage(guard, identity, ids, m));
  if (!message || typeof message !== 'object') return message;
  const { id, result } = message as { id?: unknown; result?: { tools?: unknown } };
  if (!ids.has(id) || !result || !Array.isArray(result.tools)) return message;
  const tools = result.tools.filter((t): t is ListedTool => t !== null && typeof t === 'object' && typeof (t as ListedTool).name === 'string');
  return { ...message, result: { ...result, tools: guard.filterTools(tools, identity) } };
}

async function filterResponse(guard: Guard, identity: GuardIdentity, ids: Set<unknown>, response: Response): Promise<Response> {
  const type = response.headers.get('content-type') ?? '';
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(CORS_HEADERS)) headers.set(name, value);
  if (ids.size === 0 || !response.body) return new Response(response.body, { status: response.status, headers });
  if (type.startsWith('application/json')) {
    const text = await response.text();
    let out = text;
    try {
      out = JSON.stringify(filterMessage(guard, identity, ids, JSON.parse(text)));
    } catch {
      // not JSON after all: as it came
    }
    headers.delete('content-length');
    return new Response(out, { status: response.status, headers });
  }
  if (type.startsWith('text/event-stream')) {
    // Event by event, as it arrives: a stream is never held back whole.
    const filtered = response.body
      .pipeThrough(sseParser())
      .pipeThrough(
        new TransformStream<SseEvent, SseEvent>({
          transform(event, controller) {
            if (event.data && (event.event === undefined || event.event === 'message')) {
              try {
                event.data = JSON.stringify(filterMessage(guard, identity, ids, JSON.parse(event.data)));
              } catch {
                // not a JSON-RPC message: forwarded unchanged
              }
            }
            controller.enqueue(event);
          },
        }),
      )
      .pipeThrough(sseSerializer());
    return new Response(filtered, { status: response.status, headers });
  }
  return new Response(response.body, { status: response.status, headers });
}

export function protectMcp(guard: Guard, factory: McpServerFactory, options: ProtectMcpOptions = {}): ProtectedMcp {
  const { path: pathOption, ...handlerOptions } = options;
  const path = pathOption ?? new URL(guard.resource).pathname;
  const limit = handlerOptions.maxRequestBodySize ?? 4 * 1024 * 1024;
  const handler = createMcpHandler(factory, handlerOptions);

  async function serve(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === guard.resourceMetadataPath) {
      if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: PREFLIGHT });
      if (request.method !== 'GET' && request.method !== 'HEAD') return Response.json({ error: 'method_not_allowed' }, { status: 405, headers: { allow: 'GET, HEAD, OPTIONS' } });
      return Response.json(guard.resourceMetadata, { headers: { ...CORS_HEADERS, 'cache-control': 'public, max-age=300' } });
    }
    if (url.pathname !== path) return Response.json({ error: 'not_found' }, { status: 404 });
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: PREFLIGHT });

    const auth = await guard.authenticate(request.headers.get('authorization'));
    if (!auth.ok) return challengeResponse(auth.challenge);
    const { identity } = auth;

    let body: string | undefined;
    let message: unknown;
    if (request.method === 'POST') {
      const declared = Number(request.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > limit) return rpcError(413, -32600, 'request body too large');
      body = await request.text();
      if (Buffer.byteLength(body) > limit) return rpcError(413, -32600, 'request body too large');
      try {
        message = JSON.parse(body);
      } catch {
        message = undefined; // the SDK answers -32700
      }
      const decision = guard.authorizeMessage(identity, message);
      if (!decision.ok) return challengeResponse(decision.challenge);
    }

    const forwarded = new Request(request.url, {
      method: request.method,
      headers: request.headers,
      body,
      signal: request.signal,
    });
    const response = await handler.fetch(forwarded, { authInfo: guard.authInfo(identity) });
    return filterResponse(guard, identity, toolsListIds(message), response);
  }

  return {
    fetch: serve,
    node: getRequestListener(serve) as RequestListener,
    handler,
    close: () => handler.close(),
  };
}
