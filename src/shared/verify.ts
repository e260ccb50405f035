/**
 * Access-token verification for resource servers (RFC 9068 JWT access tokens, RFC 6750 bearer).
 *
 * Checked: signature against the issuer's keys (ES256 only — `alg: none`, HS256-with-the-public-key
 * and every other algorithm are refused before any key is used), `typ: at+jwt` (RFC 9068 §4, so an
 * ID token cannot pass as an access token), `iss`, `aud` contains this resource (RFC 8707), `exp` /
 * `nbf` / `iat` with a small clock skew, required claims present, and revocation of the token's
 * grant or of the token itself. Not checked here: scopes (the caller decides per request) and
 * sender constraints (DPoP comes later).
 *
 * Every failure is a denial with a precise code (`invalid_token`, `invalid_audience`,
 * `token_revoked`) for logs and audit, thrown as the caller's own error type (`refuse`);
 * challenge.ts turns all three into RFC 6750 `invalid_token`.
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Denial, Refuse } from './denials.ts';
import { readLevels, type ResourceLevels } from './levels.ts';

export interface VerifiedToken {
  /** The raw token, for forwarding decisions (never for logging). */
  token: string;
  subject: string;
  clientId: string;
  scopes: Set<string>;
  audience: string[];
  grantId: string | undefined;
  jti: string;
  expiresAt: number;
  issuedAt: number;
  authTime: number | undefined;
  acr: string | undefined;
  amr: string[];
  /** The organization the token acts for (claim `org_id`, docs/design/identity.md). */
  orgId: string | undefined;
  /** Resource id → level (claim `res`; `*` for every resource), before inheritance. */
  levels: ResourceLevels | undefined;
  /** Set when the credential is an API key (keys/api-key-resolver.ts), not a JWT. */
  keyId?: string;
  claims: JWTPayload;
}

export interface RevocationCheck {
  /**
   * True when the token's grant or the token itself has been revoked, or its subject (or their
   * membership of the token's organization) since the token was issued.
   */
  isRevoked(token: { grantId: string | undefined; jti: string; subject: string; issuedAt: number; orgId: string | undefined }): boolean;
}

export interface VerifierOptions {
  issuer: string;
  /** This resource server's identifier(s): the token's `aud` must contain one. */
  audience: string | string[];
  keys: JWTVerifyGetKey;
  revocations?: RevocationCheck;
  clockSkewSeconds?: number;
  /** Epoch seconds (tests). */
  now?: () => number;
  /** The error thrown for a refused token (the server's PortcullisError.from, the SDK's GuardError.from). */
  refuse: Refuse;
}

/** How many verified tokens each verifier remembers (a signature check costs far more than a lookup). */
const CACHE_SIZE = 10_000;

const ALGORITHMS = ['ES256'];

function invalid(rule: string, cause?: unknown): Denial {
  return { code: 'invalid_token', message: 'the access token is not valid', rule, cause };
}

/**
 * False when a remembered token's signing key has left the issuer's key set (retired early:
 * signing-keys/key-ring.ts retireSigningKeyNow), so it verifies no more (RFC 7515 §4.1.4). Only
 * "no such key" says so; a key set that cannot be read now leaves the earlier verification standing.
 */
async function keyStillPublished(keys: JWTVerifyGetKey, token: string): Promise<boolean> {
  const [protectedHeader = '', payload = '', signature = ''] = token.split('.');
  try {
    // Remembered, so it verified: its header names an algorithm.
    await keys(decodeProtectedHeader(token) as Parameters<JWTVerifyGetKey>[0], { protected: protectedHeader, payload, signature });
    return true;
  } catch (err) {
    return !(err instanceof joseErrors.JWKSNoMatchingKey);
  }
}

export function createTokenVerifier(options: VerifierOptions) {
  const { refuse } = options;
  const audiences = new Set(Array.isArray(options.audience) ? options.audience : [options.audience]);
  const clockTolerance = options.clockSkewSeconds ?? 5;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  // A token's signature and claims never change, so a successful verification is remembered until
  // the token expires; expiry and revocation are still checked on every use.
  const verifiedTokens = new Map<string, VerifiedToken>();

  function revocationCheck(verified: VerifiedToken): VerifiedToken {
    if (options.revocations?.isRevoked(verified)) {
      throw refuse({ code: 'token_revoked', message: 'the access token has been revoked', rule: 'revocation' });
    }
    return verified;
  }

  return async function verifyAccessToken(token: string): Promise<VerifiedToken> {
    const remembered = verifiedTokens.get(token);
    if (remembered) {
      if (now() - clockTolerance >= remembered.expiresAt) {
        verifiedTokens.delete(token);
        throw refuse(invalid('expired'));
      }
      if (!(await keyStillPublished(options.keys, token))) {
        verifiedTokens.delete(token);
        throw refuse(invalid('unknown-key'));
      }
      return revocationCheck(remembered);
    }
    if (!token || token.length > 8192 || token.split('.').length !== 3) throw refuse(invalid('malformed'));
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, options.keys, {
        issuer: options.issuer,
        currentDate: new Date(now() * 1000),
        algorithms: ALGORITHMS,
        typ: 'at+jwt',
        clockTolerance,
        requiredClaims: ['sub', 'client_id', 'jti', 'exp', 'iat', 'aud'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw refuse(invalid('expired', err));
      if (err instanceof joseErrors.JOSEAlgNotAllowed) throw refuse(invalid('algorithm', err));
      if (err instanceof joseErrors.JWKSNoMatchingKey) throw refuse(invalid('unknown-key', err));
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw refuse(invalid('signature', err));
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw refuse(invalid(`claim-${err.claim}`, err));
      throw refuse(invalid('malformed', err));
    }
    const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud!];
    if (!audience.some((aud) => audiences.has(aud))) {
      throw refuse({ code: 'invalid_audience', message: 'the access token is for another resource', rule: 'audience' });
    }
    const verified: VerifiedToken = {
      token,
      subject: String(payload.sub),
      clientId: String(payload.client_id),
      scopes: new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []),
      audience,
      grantId: typeof payload.grant_id === 'string' ? payload.grant_id : undefined,
      jti: String(payload.jti),
      expiresAt: Number(payload.exp),
      issuedAt: Number(payload.iat),
      authTime: typeof payload.auth_time === 'number' ? payload.auth_time : undefined,
      acr: typeof payload.acr === 'string' ? payload.acr : undefined,
      amr: Array.isArray(payload.amr) ? payload.amr.map(String) : [],
      orgId: typeof payload.org_id === 'string' ? payload.org_id : undefined,
      levels: readLevels(payload.res),
      claims: payload,
    };
    if (verifiedTokens.size >= CACHE_SIZE) verifiedTokens.delete(verifiedTokens.keys().next().value!);
    verifiedTokens.set(token, verified);
    return revocationCheck(verified);
  };
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
