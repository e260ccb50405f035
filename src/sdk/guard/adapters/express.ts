/**
 * The guard as Express middleware (`portcullis/guard/express`), written against Express's types
 * only: Express is the application's dependency, not ours.
 *
 *   app.use(express.json());          // optional: then tools/call scopes are checked here too
 *   app.use(guardExpress(guard));     // PRM route, 401/403 challenges, req.auth
 *   app.post('/mcp', (req, res) => …) // req.auth: MCP authInfo; res.locals.identity: GuardIdentity
 *
 * Mount it at the application level (not on the /mcp route alone): the Protected Resource
 * Metadata lives at /.well-known/oauth-protected-resource/<path> (RFC 9728 §3.1), and the
 * middleware answers it itself. CORS preflights pass through unauthenticated.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Challenge } from '../../../shared/challenge.ts';
import type { Guard } from '../guard.ts';
import type { GuardIdentity, McpAuthInfo } from '../identity.ts';
import { CORS_HEADERS } from './node.ts';

/**
 * `req.auth` is where MCP SDK transports look for authInfo. Not declared as a module augmentation
 * of Express's Request: the MCP SDK declares the same property with its own type, and two
 * declarations would clash in an application that imports both.
 */
export type GuardedExpressRequest = Request & { auth?: McpAuthInfo };

export interface ExpressLocals {
  identity: GuardIdentity;
}

function send(res: Response, challenge: Challenge): void {
  res.status(challenge.status).set({ ...CORS_HEADERS, ...challenge.headers, 'cache-control': 'no-store' }).json(challenge.body);
}

export function guardExpress(guard: Guard): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const run = async () => {
      if (req.path === guard.resourceMetadataPath && (req.method === 'GET' || req.method === 'HEAD')) {
        res.status(200).set({ ...CORS_HEADERS, 'cache-control': 'public, max-age=300' }).json(guard.resourceMetadata);
        return;
      }
      if (req.method === 'OPTIONS') return next();
      const auth = await guard.authenticate(req.headers.authorization);
      if (!auth.ok) return send(res, auth.challenge);
      // A body parser ran before us: every tools/call in it must be within the token's scopes.
      if (req.body !== undefined && typeof req.body === 'object' && req.body !== null) {
        const decision = guard.authorizeMessage(auth.identity, req.body);
        if (!decision.ok) return send(res, decision.challenge);
      }
      (req as GuardedExpressRequest).auth = guard.authInfo(auth.identity);
      (res.locals as ExpressLocals).identity = auth.identity;
      next();
    };
    run().catch(next);
  };
}
