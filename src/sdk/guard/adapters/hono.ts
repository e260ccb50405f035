/**
 * The guard as Hono middleware (`portcullis/guard/hono`). The guard's core uses node:crypto, so
 * this is Hono on Node (@hono/node-server), not on every runtime Hono supports.
 *
 *   const app = new Hono<GuardEnv>();
 *   app.use(guardHono(guard));
 *   app.post('/mcp', (c) => … c.get('identity') … c.get('authInfo') …);
 *
 * Serves the Protected Resource Metadata (RFC 9728 §3.1), lets CORS preflights through, answers
 * 401/403/503 challenges, and checks every `tools/call` in a JSON body against the token's scopes.
 * The body is read from a clone, so the handler can still pass `c.req.raw` on untouched (for
 * example to an MCP SDK v2 handler's `fetch`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Challenge } from '../../../shared/challenge.ts';
import type { Guard } from '../guard.ts';
import type { GuardIdentity, McpAuthInfo } from '../identity.ts';
import { CORS_HEADERS } from './node.ts';

export interface GuardEnv {
  Variables: {
    identity: GuardIdentity;
    authInfo: McpAuthInfo;
  };
}

function answer(challenge: Challenge): Response {
  return Response.json(challenge.body, {
    status: challenge.status,
    headers: { ...CORS_HEADERS, ...challenge.headers, 'cache-control': 'no-store' },
  });
}

function isJson(c: Context): boolean {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

export function guardHono(guard: Guard): MiddlewareHandler<GuardEnv> {
  return async (c, next) => {
    if (c.req.path === guard.resourceMetadataPath && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
      return Response.json(guard.resourceMetadata, { headers: { ...CORS_HEADERS, 'cache-control': 'public, max-age=300' } });
    }
    if (c.req.method === 'OPTIONS') return next();
    const auth = await guard.authenticate(c.req.header('authorization'));
    if (!auth.ok) return answer(auth.challenge);
    if (c.req.method === 'POST' && isJson(c)) {
      let body: unknown;
      try {
        body = await c.req.raw.clone().json();
      } catch {
        body = undefined; // not JSON after all: the handler answers that
      }
      const decision = guard.authorizeMessage(auth.identity, body);
      if (!decision.ok) return answer(decision.challenge);
    }
    c.set('identity', auth.identity);
    c.set('authInfo', guard.authInfo(auth.identity));
    await next();
  };
}
