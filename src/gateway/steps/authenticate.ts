/**
 * Who is calling: the bearer credential — an access token whose audience is this application's
 * resource, or an API key (`pcs_…`) — verified into one identity (GatewayDeps `verifierFor`).
 * Without one, or with a bad one, the answer is a Bearer challenge naming the application's
 * resource metadata and default scopes, so a client that (re-)authorizes asks for what it needs,
 * not for everything.
 *
 * An answer given before the body has been read (401 here, 413 next) leaves its rest unread: the
 * front door drains it or ends the connection after the answer (http/linger.ts).
 */
import type { IncomingMessage } from 'node:http';
import { isPortcullisError, PortcullisError } from '../../core/errors.ts';
import type { VerifiedToken } from '../../shared/verify.ts';
import { callerFrom, ownerOf } from '../caller.ts';
import type { AuthenticatedRequest, GatewayRequest, StepDeps } from '../context.ts';
import { challenge } from '../refusals.ts';

/** The rule of a request that carried no credential at all: how every client discovers the authorization server. */
export const NO_CREDENTIALS = 'no-credentials';

/** RFC 6750 §2.1; an Authorization header of another form is a bad token (''), not a missing one. */
function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer +([\x21-\x7e]+)$/i.exec(header.trim());
  return match ? match[1] : '';
}

/** The request with its caller, or undefined when it has been answered with a challenge. */
export async function authenticate(ctx: GatewayRequest, deps: StepDeps): Promise<AuthenticatedRequest | undefined> {
  const scope = ctx.app.defaultScopes.join(' ') || undefined;
  const bearer = bearerToken(ctx.req);
  if (bearer === undefined) {
    challenge(ctx, deps, new PortcullisError('invalid_token', 'authentication required', { rule: NO_CREDENTIALS }), { tokenPresented: false, scope });
    return undefined;
  }
  let token: VerifiedToken;
  try {
    token = await deps.verifierFor(ctx.app)(bearer);
  } catch (err) {
    const denial = isPortcullisError(err) ? err : new PortcullisError('invalid_token', 'the access token is not valid', { cause: err });
    challenge(ctx, deps, denial, { tokenPresented: true, scope });
    return undefined;
  }
  const caller = callerFrom(token, deps.clientIp(ctx.req));
  if (token.keyId !== undefined) deps.keyUsed?.(token.keyId, caller.ip);
  return Object.assign(ctx, { token, caller, owner: ownerOf(caller) });
}
