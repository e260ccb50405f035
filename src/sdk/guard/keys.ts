/**
 * The issuer's signing keys, fetched from its JWKS (RFC 7517 §5) and cached by jose's
 * createRemoteJWKSet: refetched when the cache is older than `cacheMaxAgeMs`, and at once when a
 * token names a `kid` the cache does not hold (a key rotation: Portcullis signs with a new key
 * from the moment `keys rotate` runs), at most once per `cooldownMs` so forged `kid`s cannot make
 * us hammer the authorization server. All fetches go through the guard's https-only fetch.
 */
import { createRemoteJWKSet, customFetch, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import type { GuardFetch } from '../../shared/outbound.ts';
import { GuardError } from './errors.ts';

export interface KeySourceOptions {
  /** The JWKS URL, or how to find it (the authorization server's metadata). */
  jwksUri: () => Promise<string>;
  fetch: GuardFetch;
  /** Minimum time between two fetches caused by unknown `kid`s (default 5 s). */
  cooldownMs?: number;
  /** Refetch the set when it is older than this (default 10 minutes). */
  cacheMaxAgeMs?: number;
}

/** The rule of the error thrown when the keys cannot be had (see keysUnavailable). */
export const KEYS_UNAVAILABLE = 'keys-unavailable';

/**
 * The keys could not be had (metadata or JWKS unreachable, not JSON, timed out). Not the token's
 * fault: the guard answers 503, not 401, so a client does not throw its tokens away for it.
 */
function keysUnavailable(cause: unknown): GuardError {
  return new GuardError('unavailable', 'the signing keys could not be fetched', { rule: KEYS_UNAVAILABLE, cause });
}

/** Errors that are about the token (its `kid`, its header), not about reaching the keys. */
function aboutTheToken(err: unknown): boolean {
  return (
    err instanceof joseErrors.JWKSNoMatchingKey ||
    err instanceof joseErrors.JWKSMultipleMatchingKeys ||
    err instanceof joseErrors.JOSENotSupported ||
    err instanceof joseErrors.JWSInvalid
  );
}

export function createKeySource(options: KeySourceOptions): JWTVerifyGetKey {
  let remote: Promise<JWTVerifyGetKey> | undefined;
  const build = async (): Promise<JWTVerifyGetKey> => {
    const url = new URL(await options.jwksUri());
    return createRemoteJWKSet(url, {
      cooldownDuration: options.cooldownMs ?? 5000,
      cacheMaxAge: options.cacheMaxAgeMs ?? 10 * 60 * 1000,
      timeoutDuration: 5000,
      [customFetch]: (input: string, init: RequestInit) => options.fetch(input, init),
    });
  };
  return async (header, token) => {
    remote ??= build().catch((err: unknown) => {
      remote = undefined; // metadata could not be read: try again on the next token
      throw err;
    });
    try {
      return await (await remote)(header, token);
    } catch (err) {
      if (aboutTheToken(err)) throw err;
      throw keysUnavailable(err);
    }
  };
}
