/**
 * Rates on the engine's token endpoint (per client address, and per client id) and on dynamic
 * client registration (per client address), counted by the limiter (limits/service.ts: in Redis,
 * shared by every instance, when configured). Over a rate the request is answered 429 with
 * Retry-After (RFC 6585 §4, RFC 9110 §10.2.3) in the RFC 6749 §5.2 error shape, before the engine
 * does any work for it.
 *
 * The address is known before the engine runs. The client id of a public client is in the body,
 * which only the engine reads (its body parser refuses a body read before it), so the per-client
 * rate is taken where the engine looks the client up: the first Client.find of a token request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { PortcullisError } from '../../core/errors.ts';
import { requestIp } from '../../http/io.ts';
import { refusalFor } from '../../http/refusal.ts';
import type { EndpointRate } from '../../limits/service.ts';
import { ROUTES } from '../protocol.ts';

export interface EndpointLimits {
  tokenIp: EndpointRate;
  tokenClient: EndpointRate;
  registrationIp: EndpointRate;
}

interface TokenRequest {
  tokenClient: EndpointRate;
  checked: boolean;
  /** Seconds to wait, once the client's rate refused the request. */
  wait?: number;
}

const tokenRequests = new AsyncLocalStorage<TokenRequest>();

/** The per-client rate, taken at the token request's first client lookup. */
export function limitTokenClients(provider: Provider): void {
  const Client = provider.Client as unknown as { find(id: unknown, ...rest: unknown[]): Promise<unknown> };
  const find = Client.find.bind(Client);
  Client.find = async (id, ...rest) => {
    const request = tokenRequests.getStore();
    if (request && !request.checked && typeof id === 'string') {
      request.checked = true;
      const wait = await request.tokenClient.take(id);
      if (wait > 0) {
        request.wait = wait;
        const refused = new errors.CustomOIDCProviderError('temporarily_unavailable', 'too many token requests from this client');
        Object.assign(refused, { status: 429, statusCode: 429 });
        throw refused;
      }
    }
    return find(id, ...rest);
  };
}

function answerTooMany(ctx: KoaContextWithOIDC, wait: number, message: string): void {
  const refusal = refusalFor('oauth', new PortcullisError('rate_limited', message, { rule: 'endpoint-rate' }));
  ctx.set(refusal.headers);
  ctx.set('retry-after', String(wait));
  ctx.set('cache-control', 'no-store');
  ctx.body = refusal.body;
  // Setting a body makes koa assume 200; the status goes last.
  ctx.status = 429;
}

/** The koa middleware: address rates before the engine, the client's rate around it. */
export function endpointLimits(limits: EndpointLimits, trustProxy: boolean) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    if (ctx.method !== 'POST') return next();
    const ip = () => requestIp(ctx.req, trustProxy);
    if (ctx.path === ROUTES.registration) {
      const wait = await limits.registrationIp.take(ip());
      return wait > 0 ? answerTooMany(ctx, wait, 'too many client registrations from this address') : next();
    }
    if (ctx.path !== ROUTES.token) return next();
    const wait = await limits.tokenIp.take(ip());
    if (wait > 0) return answerTooMany(ctx, wait, 'too many token requests from this address');
    const request: TokenRequest = { tokenClient: limits.tokenClient, checked: false };
    await tokenRequests.run(request, next);
    if (request.wait !== undefined) answerTooMany(ctx, request.wait, 'too many token requests from this client');
  };
}
