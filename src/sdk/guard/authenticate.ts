/**
 * `authenticate(Authorization header)`: the caller's identity, or the challenge to answer with.
 *
 * A JWT access token is verified against the issuer's keys (shared/verify.ts), then checked
 * against revocations: the revocation list is trusted while current or recently current; else
 * introspection (RFC 7662) answers; else the guard refuses — fail closed, 503. An API key
 * (`pcs_…`) is described by introspection, for this resource only; without introspection it is
 * refused with 401 invalid_token.
 */
import { isApiKeyShaped } from '../../shared/api-key-shape.ts';
import type { Challenge } from '../../shared/challenge.ts';
import type { TokenVerifier } from '../../shared/verify.ts';
import { GuardError, isGuardError, unavailable } from './errors.ts';
import { audienceOf, identityOfApiKey, identityOfToken, type GuardIdentity } from './identity.ts';
import type { IntrospectionAnswer } from './introspection.ts';
import { KEYS_UNAVAILABLE } from './keys.ts';
import type { GuardSources } from './sources.ts';

export type AuthResult = { ok: true; identity: GuardIdentity } | { ok: false; error: GuardError; challenge: Challenge };

/** RFC 6750 §2.1: `Bearer <b64token>`; undefined when there is no header, '' when it is malformed. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (authorization === undefined || authorization === null) return undefined;
  const match = /^Bearer +([\x21-\x7e]+)$/i.exec(authorization.trim());
  return match ? match[1] : '';
}

export interface AuthenticatorDeps {
  resource: string;
  verify: TokenVerifier;
  sources: GuardSources;
  /** Scopes named in a 401 challenge (RFC 6750 §3 `scope`), if any. */
  defaultScope: string | undefined;
  challenge(error: GuardError | undefined, tokenPresented: boolean, scope?: string): Challenge;
}

/** An API key, as the authorization server's introspection describes it for this resource. */
async function authenticateKey(key: string, { resource, sources: { introspect, feed } }: AuthenticatorDeps): Promise<GuardIdentity> {
  if (!introspect) throw new GuardError('invalid_token', 'API keys need introspection', { rule: 'api-key-no-introspection' });
  let answer: IntrospectionAnswer;
  try {
    answer = await introspect.describe(key, resource);
  } catch (err) {
    throw unavailable('introspection-unavailable', err);
  }
  if (answer.active !== true) throw new GuardError('invalid_token', 'the API key is not valid', { rule: 'api-key-inactive' });
  if (!audienceOf(answer).includes(resource)) throw new GuardError('invalid_audience', 'the API key is for another resource', { rule: 'audience' });
  const identity = identityOfApiKey(key, answer);
  if (feed && feed.freshness() !== 'stale' && (feed.has('key', identity.keyId!) || feed.isSubjectRevoked(identity.subject, identity.orgId, identity.issuedAt))) {
    throw new GuardError('token_revoked', 'the API key has been revoked', { rule: 'revocation' });
  }
  return identity;
}

/** The revocation list is trusted while current or recently current; else introspection; else refuse. */
async function confirmNotRevoked(identity: GuardIdentity, { feed, introspect, startupWaitLeft }: GuardSources): Promise<void> {
  if (feed) {
    let freshness = feed.freshness();
    const waitLeft = startupWaitLeft();
    if (freshness === 'stale' && waitLeft > 0 && (await feed.whenSettled(waitLeft))) freshness = feed.freshness();
    if (freshness !== 'stale') {
      // verify() consulted the list already, but maybe before the wait above filled it. A token
      // the gateway minted for a caller with an API key names it as the client (`key:<id>`).
      const viaKey = identity.clientId.startsWith('key:') && feed.has('key', identity.clientId.slice(4));
      if (viaKey || feed.isRevoked(identity)) throw new GuardError('token_revoked', 'the access token has been revoked', { rule: 'revocation' });
      return;
    }
  }
  if (introspect) {
    let active: boolean;
    try {
      active = await introspect(identity.token, identity.expiresAt);
    } catch (err) {
      throw unavailable('introspection-unavailable', err);
    }
    if (!active) throw new GuardError('token_revoked', 'the access token is no longer active', { rule: 'introspection' });
    return;
  }
  if (feed) throw unavailable('revocations-stale');
}

/** Anything thrown on the way, as the GuardError to answer with (keys out of reach: 503, not 401). */
function refusalFor(err: unknown): GuardError {
  const error = isGuardError(err) ? err : unavailable('internal', err);
  // verify() reports every failure of the key source as an invalid token; unreachable keys are not the token's fault.
  const cause = error.cause;
  if (isGuardError(cause) && cause.rule === KEYS_UNAVAILABLE) return unavailable(KEYS_UNAVAILABLE, cause);
  return error;
}

export function createAuthenticator(deps: AuthenticatorDeps): (authorization: string | null | undefined) => Promise<AuthResult> {
  const { verify, sources, defaultScope, challenge } = deps;
  return async (authorization) => {
    const token = bearerToken(authorization);
    if (token === undefined) {
      return { ok: false, error: new GuardError('invalid_token', 'authentication required', { rule: 'no-token' }), challenge: challenge(undefined, false, defaultScope) };
    }
    try {
      if (isApiKeyShaped(token)) return { ok: true, identity: await authenticateKey(token, deps) };
      const identity = identityOfToken(await verify(token));
      await confirmNotRevoked(identity, sources);
      return { ok: true, identity };
    } catch (err) {
      const error = refusalFor(err);
      return { ok: false, error, challenge: challenge(error, true, defaultScope) };
    }
  };
}
