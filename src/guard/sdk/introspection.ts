/**
 * Token introspection (RFC 7662) as the guard's fallback when its revocation list cannot be
 * trusted (the stream has been down too long), or as its only revocation check when no stream is
 * configured. The guard authenticates as its resource-server client (`client_secret_basic`,
 * RFC 6749 §2.3.1) and asks whether the token is still `active` (§2.2).
 *
 * Answers are cached briefly per token (`cacheMs`, never past the token's expiry), so a busy
 * client costs one round trip per few seconds, not one per request. A failure (unreachable, not
 * 200, not JSON) is thrown as IntrospectionUnavailable and never cached: the guard refuses the
 * request (fail closed) and asks again next time.
 */
import { createHash } from 'node:crypto';
import type { GuardFetch } from './outbound.ts';

export interface IntrospectorOptions {
  endpoint: () => Promise<string>;
  clientId: string;
  clientSecret: string;
  fetch: GuardFetch;
  /** How long an answer is reused (default 5 s). */
  cacheMs?: number;
  now?: () => number;
}

export class IntrospectionUnavailable extends Error {
  override readonly name = 'IntrospectionUnavailable';
}

const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
const MAX_ENTRIES = 10_000;

export type Introspector = (token: string, expiresAt: number) => Promise<boolean>;

export function createIntrospector(options: IntrospectorOptions): Introspector {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 5000;
  const cache = new Map<string, { active: boolean; until: number }>();
  const authorization = `Basic ${Buffer.from(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`).toString('base64')}`;

  return async function isActive(token, expiresAt) {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.active;

    let body: unknown;
    try {
      const response = await options.fetch(await options.endpoint(), {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        throw new IntrospectionUnavailable(`introspection answered ${response.status}`);
      }
      body = await response.json();
    } catch (err) {
      throw err instanceof IntrospectionUnavailable ? err : new IntrospectionUnavailable('introspection failed', { cause: err });
    }
    if (!body || typeof body !== 'object' || typeof (body as { active?: unknown }).active !== 'boolean') {
      throw new IntrospectionUnavailable('introspection answered something other than an RFC 7662 response');
    }
    const active = (body as { active: boolean }).active;
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(key, { active, until: Math.min(now() + cacheMs, expiresAt * 1000) });
    return active;
  };
}
