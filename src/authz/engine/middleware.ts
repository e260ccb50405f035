/**
 * The koa middlewares we run around the engine's routes, in order, and the request properties it
 * builds URLs from. Each closes an engine gap or adapts a request or answer for MCP clients.
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ResourceRegistry } from '../../applications/protected-resources.ts';
import { PortcullisError } from '../../core/errors.ts';
import { refusalFor } from '../../http/refusal.ts';
import { devicePolling } from '../device/polling.ts';
import { withRefreshScope } from '../refresh-family.ts';
import { clientLookupsPerRequest } from './client-model.ts';
import { endpointLimits } from './endpoint-limits.ts';
import type { AuthzDeps } from './deps.ts';
import { OIDC_SCOPES, ROUTES } from '../protocol.ts';
import { oauthAcrParams } from '../oauth-acr-params.ts';

type Next = () => Promise<void>;

export function installMiddleware(provider: Provider, deps: AuthzDeps): void {
  pinPublicOrigin(provider, deps.config.publicUrl);
  provider.use(unknownEndpoints);
  provider.use(async (_ctx, next) => withRefreshScope(next));
  provider.use(clientLookupsPerRequest);
  if (deps.endpointLimits) provider.use(endpointLimits(deps.endpointLimits, deps.config.trustProxy));
  // RFC 8628: the polling interval, slow_down and expired_token (authz/device/polling.ts).
  provider.use(devicePolling({ store: deps.store, pepper: deps.secrets.pepper, now: deps.now, nowMs: deps.nowMs }));
  provider.use(defaultScopes(deps.resources, deps.defaultResource, deps.config.publicUrl));
  // RFC 9470 §4 acr_values / max_age from a plain OAuth client (authz/oauth-acr-params.ts).
  provider.use(oauthAcrParams(deps.config.publicUrl));
  provider.use(completeAnswers(deps.resources));
}

function pinPublicOrigin(provider: Provider, publicUrl: string): void {
  // Our cookies are always Secure: the issuer is https, or loopback (which browsers treat as a
  // secure context). koa would otherwise refuse to send a Secure cookie over http://localhost.
  Object.defineProperty(provider.request, 'secure', { get: () => true });
  // Every URL the engine builds (endpoints in discovery, redirects to interactions) starts from the
  // configured public origin, never from the request's Host header or scheme: behind a proxy the
  // process sees http, and a forged Host must not steer discovery elsewhere.
  const publicOrigin = new URL(publicUrl);
  Object.defineProperty(provider.request, 'protocol', { get: () => publicOrigin.protocol.slice(0, -1) });
  Object.defineProperty(provider.request, 'host', { get: () => publicOrigin.host });
  Object.defineProperty(provider.request, 'hostname', { get: () => publicOrigin.hostname });
}

/**
 * An authorization request that names no scope of its resource gets the resource's default
 * scopes: MCP clients omit `scope` when none is advertised, and the engine would otherwise
 * end such a request in access_denied.
 */
function defaultScopes(resources: ResourceRegistry, defaultResource: () => string | undefined, publicUrl: string) {
  // The engine sees paths relative to its mount (the router strips the issuer's path prefix).
  const authorizePath = ROUTES.authorization;
  const mount = new URL(publicUrl).pathname.replace(/\/$/, '');
  return async (ctx: KoaContextWithOIDC, next: Next): Promise<void> => {
    if (ctx.method === 'GET' && ctx.path === authorizePath) {
      const query = new URLSearchParams(ctx.querystring);
      const named = query.get('resource') ?? defaultResource();
      const resource = named ? resources.get(named) : undefined;
      if (resource) {
        const requested = (query.get('scope') ?? '').split(' ').filter(Boolean);
        const own = new Set(resource.scopes.map((s) => s.name));
        if (!requested.some((s) => own.has(s))) {
          query.set('scope', [...requested, ...resource.defaultScopes].join(' '));
          ctx.querystring = query.toString();
          // The engine derives its mount path from originalUrl minus url: keep the two in step.
          (ctx.req as { originalUrl?: string }).originalUrl = `${mount}${ctx.url}`;
        }
      }
    }
    await next();
  };
}

/** What the engine's JSON answers leave out. */
/** A path under /oauth that is no endpoint: 404 in the OAuth error shape (koa would send "Not Found" as text). */
async function unknownEndpoints(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
  await next();
  if (ctx.status !== 404 || ctx.body != null) return;
  const refusal = refusalFor('oauth', new PortcullisError('not_found', 'there is no OAuth endpoint at this address', { rule: 'unknown-endpoint' }));
  ctx.set(refusal.headers);
  ctx.set('cache-control', 'no-store');
  ctx.body = refusal.body;
  // Setting a body makes koa assume 200; the status goes last.
  ctx.status = refusal.status;
}

function completeAnswers(resources: ResourceRegistry) {
  return async (ctx: KoaContextWithOIDC, next: Next): Promise<void> => {
    await next();
    const body = ctx.body && typeof ctx.body === 'object' ? (ctx.body as Record<string, unknown>) : undefined;
    if (!body) return;
    // Discovery: advertise the resource scopes next to the OpenID ones.
    if (ctx.oidc?.route === 'discovery') body.scopes_supported = [...OIDC_SCOPES, ...resources.allScopes()];
    // Token responses always say which scopes were granted, even none (the MCP SDK v2 client turns
    // a missing `scope` into a full re-authorization at every step-up).
    if (ctx.oidc?.route === 'token' && ctx.status === 200 && 'access_token' in body && body.scope === undefined) body.scope = '';
  };
}
