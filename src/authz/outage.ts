/**
 * A store outage inside the protocol engine. The engine turns any error it did not raise itself
 * into 500 `server_error` ("oops! something went wrong"); for an outage the right answer is 503
 * with Retry-After and `temporarily_unavailable` — the RFC 6749 §4.1.2.1 code for "cannot handle
 * the request right now", and the body every OAuth client parses (§5.2 shape). The engine tells
 * us which request failed how ('server_error' event); this middleware, outside the engine's
 * routes, rewrites that request's answer once the engine has built it:
 *
 * - a JSON error body → 503 `{ error: 'temporarily_unavailable', error_description }`;
 * - an error page → 503, our page with the same code;
 * - an authorization error redirected to the client (query or fragment) → the same redirect with
 *   `error=temporarily_unavailable` (the client, not the browser, decides when to retry).
 *
 * Not rewritten: a `form_post` response (an auto-submitting form to the client) keeps
 * `server_error`; its status is 200 by design of the response mode.
 */
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { isUnavailable } from '../core/errors.ts';
import { RETRY_AFTER_SECONDS } from '../http/refusal.ts';
import { renderEngineError } from './views.ts';

const DESCRIPTION = 'the authorization server cannot reach its database right now; try again shortly';

type KoaContext = Parameters<Parameters<Provider['use']>[0]>[0];

export function answerOutagesWith503(provider: Provider, log: Logger): void {
  const failed = new WeakSet<object>();
  provider.on('server_error', (ctx: object, err: unknown) => {
    if (isUnavailable(err)) {
      failed.add(ctx);
      log.warn({ err }, 'authorization server: a dependency is unavailable');
    } else {
      log.error({ err }, 'authorization server error');
    }
  });
  provider.use(async (ctx, next) => {
    await next();
    if (failed.has(ctx)) rewrite(ctx);
  });
}

function rewrite(ctx: KoaContext): void {
  ctx.set('retry-after', String(RETRY_AFTER_SECONDS));
  if (ctx.status >= 300 && ctx.status < 400) {
    const location = ctx.response.get('location');
    if (location) ctx.set('location', withTemporarilyUnavailable(location));
    return;
  }
  if (ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) {
    ctx.status = 503;
    ctx.body = { error: 'temporarily_unavailable', error_description: DESCRIPTION };
    return;
  }
  if (typeof ctx.body === 'string') {
    ctx.status = 503;
    ctx.type = 'html';
    ctx.body = renderEngineError({ error: 'temporarily_unavailable', error_description: DESCRIPTION });
  }
}

/** The redirect's `error=server_error` (query, or fragment for implicit-style modes) as temporarily_unavailable. */
function withTemporarilyUnavailable(location: string): string {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return location;
  }
  if (url.searchParams.get('error') === 'server_error') {
    url.searchParams.set('error', 'temporarily_unavailable');
    url.searchParams.set('error_description', DESCRIPTION);
  } else if (url.hash) {
    const fragment = new URLSearchParams(url.hash.slice(1));
    if (fragment.get('error') !== 'server_error') return location;
    fragment.set('error', 'temporarily_unavailable');
    fragment.set('error_description', DESCRIPTION);
    url.hash = fragment.toString();
  }
  return url.href;
}
