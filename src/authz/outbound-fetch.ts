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
export interface OutboundFetchOptions {
  allowPrivateAddresses: boolean;
}

export class OutboundFetchRefused extends Error {}

export function createOutboundFetch(options: OutboundFetchOptions) {
  return async function outboundFetch(url: string | URL, init: RequestInit & { dispatcher?: unknown }): Promise<Response> {
    const target = new URL(url);
    if (target.protocol !== 'https:') throw new OutboundFetchRefused(`refusing to fetch a non-https URL: ${target.protocol}`);
    if (target.username || target.password) throw new OutboundFetchRefused('refusing to fetch a URL with credentials');
    const request: RequestInit & { dispatcher?: unknown } = { ...init, redirect: 'manual' };
    if (options.allowPrivateAddresses) delete request.dispatcher;
    return fetch(target, request);
  };
}
