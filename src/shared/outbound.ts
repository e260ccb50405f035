/**
 * Every request the guard makes (authorization-server metadata, JWKS, the revocation stream,
 * introspection) goes through here. Tokens are only as trustworthy as the keys and answers they
 * are checked against, so those must come over TLS: https only, never a redirect (a redirect could
 * hand us someone else's keys, RFC 8414 §3.3 / RFC 7517 §5 leave that to us), and no credentials in
 * the URL. Plain http is accepted for loopback hosts only (RFC 8252 §7.3 sense: localhost,
 * 127.0.0.0/8, ::1), and only when the guard allows it — by default outside production
 * (`NODE_ENV !== 'production'`), so a developer can run an authorization server on localhost.
 */
import { SharedError } from './errors.ts';
import { isLoopbackUrl } from './net.ts';

export type GuardFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** Whether the guard may speak plain http to loopback hosts, when not told: outside production. */
export function defaultAllowHttpLoopback(): boolean {
  return process.env.NODE_ENV !== 'production';
}

/** Throws SharedError `outbound_refused` unless `url` is one the guard may fetch. */
export function checkOutboundUrl(url: string | URL, allowHttpLoopback: boolean): URL {
  const target = new URL(url);
  if (target.username || target.password) throw new SharedError('outbound_refused', 'refusing a URL with credentials in it');
  if (target.protocol === 'https:') return target;
  if (target.protocol === 'http:' && allowHttpLoopback && isLoopbackUrl(target)) return target;
  throw new SharedError('outbound_refused', `refusing to fetch ${target.protocol}//${target.host}: https is required (http only for loopback in development)`);
}

/**
 * A fetch that refuses what `checkOutboundUrl` refuses, never follows redirects (a 3xx is
 * returned as is, and callers treat anything but their expected status as a failure), and gives
 * up after `timeoutMs` unless the caller brings its own signal (the revocation stream does).
 */
export function createGuardFetch(options: { allowHttpLoopback: boolean; timeoutMs?: number }): GuardFetch {
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (url, init = {}) => {
    const target = checkOutboundUrl(url, options.allowHttpLoopback);
    return fetch(target, { ...init, redirect: 'manual', signal: init.signal ?? AbortSignal.timeout(timeoutMs) });
  };
}
