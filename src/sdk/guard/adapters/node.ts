/**
 * The guard for plain node:http servers (`portcullis/guard/node`). `protectNode(guard, handler)`
 * wraps a request handler the way a middleware would:
 *
 *   - serves the Protected Resource Metadata at its RFC 9728 §3.1 path (no token needed);
 *   - lets CORS preflights through unauthenticated (browsers send them without credentials);
 *   - authenticates every other request (401 + `WWW-Authenticate: Bearer resource_metadata=…`);
 *   - reads a JSON body once and checks every `tools/call` in it (403 insufficient_scope naming every
 *     scope needed) — a malformed body is answered with JSON-RPC -32700 here, since it was consumed;
 *   - calls `handler(req, res, { identity, body })` with `req.auth` set to MCP `authInfo`, so an MCP
 *     SDK v1 transport can be handed the request and `body` as its parsed body.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Challenge } from '../../../shared/challenge.ts';
import type { Guard } from '../guard.ts';
import type { GuardIdentity, McpAuthInfo } from '../identity.ts';

export interface GuardedContext {
  identity: GuardIdentity;
  /** The parsed JSON body of a POST with a JSON content type, else undefined (the stream is then unread). */
  body: unknown;
}

export type GuardedRequest = IncomingMessage & { auth?: McpAuthInfo };
export type GuardedHandler = (req: GuardedRequest, res: ServerResponse, context: GuardedContext) => unknown;

export interface ProtectNodeOptions {
  /** Largest JSON body read (default 4 MiB); larger ones get 413. */
  maxBodyBytes?: number;
}

/** CORS: browser-based MCP clients must be able to read the challenge (MCP authorization §2.3). */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'www-authenticate, mcp-session-id, mcp-protocol-version',
};

const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = {
  ...CORS_HEADERS,
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, mcp-method, mcp-name',
  'access-control-max-age': '600',
};

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/** Answer with a guard challenge (401, 403 or 503). */
export function sendChallenge(res: ServerResponse, challenge: Challenge): void {
  sendJson(res, challenge.status, challenge.body, { ...CORS_HEADERS, ...challenge.headers });
}

/** Serve the RFC 9728 document if `req` asks for it; returns whether it did. */
export function serveResourceMetadata(guard: Guard, req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== guard.resourceMetadataPath) return false;
  if (req.method === 'OPTIONS') {
    res.writeHead(204, PREFLIGHT_HEADERS).end();
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD, OPTIONS' });
    return true;
  }
  sendJson(res, 200, guard.resourceMetadata, { ...CORS_HEADERS, 'cache-control': 'public, max-age=300' });
  return true;
}

class BodyTooLarge extends Error {}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<{ text: string } | BodyTooLarge> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return new BodyTooLarge();
    chunks.push(chunk);
  }
  return { text: Buffer.concat(chunks).toString('utf8') };
}

function isJson(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

export function protectNode(guard: Guard, handler: GuardedHandler, options: ProtectNodeOptions = {}): RequestListener {
  const limit = options.maxBodyBytes ?? 4 * 1024 * 1024;
  return (req, res) => {
    const run = async () => {
      if (serveResourceMetadata(guard, req, res)) return;
      if (req.method === 'OPTIONS') return void res.writeHead(204, PREFLIGHT_HEADERS).end();
      const auth = await guard.authenticate(req.headers.authorization);
      if (!auth.ok) return sendChallenge(res, auth.challenge);
      let body: unknown;
      if (req.method === 'POST' && isJson(req)) {
        const read = await readJsonBody(req, limit);
        if (read instanceof BodyTooLarge) return sendJson(res, 413, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'request body too large' } }, CORS_HEADERS);
        try {
          body = JSON.parse(read.text);
        } catch {
          return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }, CORS_HEADERS);
        }
        const decision = guard.authorizeMessage(auth.identity, body);
        if (!decision.ok) return sendChallenge(res, decision.challenge);
      }
      const guarded = req as GuardedRequest;
      guarded.auth = guard.authInfo(auth.identity);
      await handler(guarded, res, { identity: auth.identity, body });
    };
    run().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error' });
      else res.destroy(err instanceof Error ? err : undefined);
    });
  };
}
