/**
 * Every fetch the authorization server makes on a client's say-so (Client ID Metadata Documents,
 * a client's `jwks_uri`) goes through here. The engine already attaches a dispatcher that drops
 * connections to special-use addresses (loopback, private, link-local…), caps bodies, and times
 * out after 2.5 s; on top of that we require https and never follow redirects (a redirect to an
 * internal address is the classic SSRF bypass).
 *
 * `allowPrivateAddresses` (PORTCULLIS_CIMD_ALLOW_PRIVATE, development and tests only) removes the
 * address check so documents can be served from loopback, still over https.
 */
import { PortcullisError } from '../core/errors.ts';

export interface OutboundFetchOptions {
  allowPrivateAddresses: boolean;
}

/** A URL we will not fetch (the engine turns it into a refusal of the client it was for). */
function refused(message: string): PortcullisError {
  return new PortcullisError('forbidden', message, { rule: 'outbound-fetch' });
}

export function createOutboundFetch(options: OutboundFetchOptions) {
  return async function outboundFetch(url: string | URL, init: RequestInit & { dispatcher?: unknown }): Promise<Response> {
    const target = new URL(url);
    if (target.protocol !== 'https:') throw refused(`refusing to fetch a non-https URL: ${target.protocol}`);
    if (target.username || target.password) throw refused('refusing to fetch a URL with credentials');
    const request: RequestInit & { dispatcher?: unknown } = { ...init, redirect: 'manual' };
    if (options.allowPrivateAddresses) delete request.dispatcher;
    return fetch(target, request);
  };
}
