/**
 * The built-in demo MCP server behind the guard, at /mcp. The order reads like the request's
 * path: CORS preflight → authenticate the bearer token (401 + resource_metadata) → read the body
 * → per-tool scope check (403 insufficient_scope) → hand the verified identity to the MCP server
 * → stream its answer back as it is produced (SSE included).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { isPortcullisError, PortcullisError } from '../core/errors.ts';
import { challengeFor, insufficientScope } from '../guard/challenge.ts';
import { missingScopes } from '../guard/tool-scopes.ts';
import type { TokenVerifier, VerifiedToken } from '../guard/verify.ts';
import { readBody, sendJson } from '../http/io.ts';
import type { ProtectedResource } from '../authz/resources.ts';

export interface McpEndpointDeps {
  resource: ProtectedResource;
  resourceMetadataUrl: string;
  verify: TokenVerifier;
  mcp: { fetch(request: Request, options: { authInfo: AuthInfo }): Promise<Response> };
  log: Logger;
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

/** Hop-by-hop and credential headers never forwarded to the MCP server. */
const DROP = new Set(['authorization', 'cookie', 'host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer +([\x21-\x7e]+)$/i.exec(header.trim());
  return match ? match[1] : '';
}

export function createMcpEndpoint(deps: McpEndpointDeps) {
  const maxBody = deps.maxBodyBytes ?? 4 * 1024 * 1024;
  const defaultScope = deps.resource.defaultScopes.join(' ') || undefined;

  function deny(res: ServerResponse, err: PortcullisError | undefined, tokenPresented: boolean, scope?: string): void {
    const challenge = challengeFor(err, { resourceMetadataUrl: deps.resourceMetadataUrl, tokenPresented, scope });
    sendJson(res, challenge.status, challenge.body, { ...CORS, ...challenge.headers });
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS);
      res.end();
      return;
    }
    const token = bearer(req);
    if (token === undefined) return deny(res, undefined, false, defaultScope);
    let verified: VerifiedToken;
    try {
      verified = await deps.verify(token);
    } catch (err) {
      const denial = isPortcullisError(err) ? err : new PortcullisError('invalid_token', 'the access token is not valid');
      deps.log.info({ event: 'access.denied', code: denial.code, rule: denial.rule, resource: deps.resource.url }, 'token refused');
      // The default scopes go in this challenge too: without `scope`, MCP SDK clients that must
      // re-authorize (refresh refused, grant revoked) ask for every scope in the resource metadata
      // (SEP-835 fallback), so a revoked client would come back asking for demo:delete.
      return deny(res, denial, true, defaultScope);
    }

    let body: Buffer | undefined;
    if (req.method === 'POST') {
      try {
        body = await readBody(req, maxBody);
      } catch (err) {
        if (isPortcullisError(err) && err.code === 'payload_too_large') {
          return sendJson(res, 413, { jsonrpc: '2.0', id: null, error: { code: -32600, message: err.message } }, CORS);
        }
        throw err;
      }
      let message: unknown;
      try {
        message = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }, CORS);
      }
      const missing = missingScopes(message, deps.resource.toolScopes, verified.scopes);
      if (missing.length) {
        const { error, scope } = insufficientScope(missing, verified.scopes);
        deps.log.info({ event: 'access.denied', code: 'insufficient_scope', needed: missing, sub: verified.subject }, 'scope refused');
        return deny(res, error, true, scope);
      }
    }

    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || DROP.has(name)) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const request = new Request(new URL(req.url ?? '/', deps.resource.url), {
      method: req.method,
      headers,
      body: body && body.length ? new Uint8Array(body) : undefined,
      signal: abort.signal,
    });
    const authInfo: AuthInfo = {
      token: verified.token,
      clientId: verified.clientId,
      scopes: [...verified.scopes],
      expiresAt: verified.expiresAt,
      resource: new URL(deps.resource.url),
      extra: { sub: verified.subject, grantId: verified.grantId },
    };
    const response = await deps.mcp.fetch(request, { authInfo });
    const outHeaders: Record<string, string> = { ...CORS };
    response.headers.forEach((value, name) => {
      outHeaders[name] = value;
    });
    res.writeHead(response.status, outHeaders);
    if (!response.body) {
      res.end();
      return;
    }
    // Streamed chunk by chunk: an SSE response reaches the client as events are produced.
    Readable.fromWeb(response.body as never).on('error', () => res.destroy()).pipe(res);
  };
}
