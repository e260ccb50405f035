/**
 * Token introspection (RFC 7662) as the guard's fallback when its revocation list cannot be
 * trusted (the stream has been down too long), or as its only revocation check when no stream is
 * configured. The guard authenticates as its resource-server client (`client_secret_basic`,
 * RFC 6749 §2.3.1) and asks whether the token is still `active` (§2.2).
 *
 * Answers are cached briefly per token (`cacheMs`, never past the token's expiry), so a busy
 * client costs one round trip per few seconds, not one per request. A failure (unreachable, not
 * 200, not JSON) is thrown as GuardError `unavailable` and never cached: the guard refuses the
 * request (fail closed) and asks again next time.
 *
 * API keys (`pcs_…`) are not JWTs: the guard learns everything about one from its introspection
 * answer (`describe`, sent with `resource` = this server so the authorization server checks the
 * key may be used here). Those answers are dropped as soon as the revocation feed reports a key,
 * user or member revocation (`forgetKeys`).
 */
import { createHash } from 'node:crypto';
import type { GuardFetch } from '../../shared/outbound.ts';
import { GuardError } from './errors.ts';
import { basicAuthorization } from './client-secret.ts';

export interface IntrospectorOptions {
  endpoint: () => Promise<string>;
  clientId: string;
  clientSecret: string;
  fetch: GuardFetch;
  /** How long an answer is reused (default 5 s). */
  cacheMs?: number;
  now?: () => number;
}

function introspectionUnavailable(message: string, cause?: unknown): GuardError {
  return new GuardError('unavailable', message, { rule: 'introspection-unavailable', cause });
}

const MAX_ENTRIES = 10_000;

/** An RFC 7662 answer, as far as the guard reads it. */
export type IntrospectionAnswer = Record<string, unknown> & { active: boolean };

export interface Introspector {
  /** Is the token still active? (`expiresAt`: the token's own expiry, epoch seconds.) */
  (token: string, expiresAt: number): Promise<boolean>;
  /** The whole answer (API keys: the identity they resolve into), cached like the rest. */
  describe(token: string, resource: string): Promise<IntrospectionAnswer>;
  /** Drop every cached answer for an API key (a key, user or member revocation arrived). */
  forgetKeys(): void;
}

export function createIntrospector(options: IntrospectorOptions): Introspector {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 5000;
  const cache = new Map<string, { answer: IntrospectionAnswer; until: number }>();
  const keyEntries = new Set<string>();
  const authorization = basicAuthorization(options.clientId, options.clientSecret);

  /** One RFC 7662 §2.1 request; anything but a 200 with a JSON `active` boolean is a failure. */
  async function post(token: string, params: Record<string, string>): Promise<IntrospectionAnswer> {
    let response: Response;
    let body: unknown;
    try {
      response = await options.fetch(await options.endpoint(), {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, ...params }).toString(),
      });
      if (response.status === 200) body = await response.json();
    } catch (err) {
      throw introspectionUnavailable('introspection failed', err);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw introspectionUnavailable(`introspection answered ${response.status}`);
    }
    if (!body || typeof body !== 'object' || typeof (body as { active?: unknown }).active !== 'boolean') {
      throw introspectionUnavailable('introspection answered something other than an RFC 7662 response');
    }
    return body as IntrospectionAnswer;
  }

  async function ask(token: string, params: Record<string, string>, untilMs: (answer: IntrospectionAnswer) => number): Promise<IntrospectionAnswer> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.answer;

    const answer = await post(token, params);
    if (cache.size >= MAX_ENTRIES) {
      cache.clear();
      keyEntries.clear();
    }
    cache.set(key, { answer, until: untilMs(answer) });
    if (params.token_type_hint === 'api_key') keyEntries.add(key);
    return answer;
  }

  const isActive = async (token: string, expiresAt: number) =>
    (await ask(token, { token_type_hint: 'access_token' }, () => Math.min(now() + cacheMs, expiresAt * 1000))).active;

  return Object.assign(isActive, {
    describe: (token: string, resource: string) =>
      ask(token, { token_type_hint: 'api_key', resource }, (answer) =>
        Math.min(now() + cacheMs, typeof answer.exp === 'number' ? answer.exp * 1000 : Number.MAX_SAFE_INTEGER),
      ),
    forgetKeys() {
      for (const key of keyEntries) cache.delete(key);
      keyEntries.clear();
    },
  });
}
