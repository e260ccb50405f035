/**
 * How an error looks on each HTTP surface — one renderer per surface, so no route answers errors
 * its own way: a JSON-RPC error for the gateway (MCP clients parse nothing else), an RFC 6749 §5.2
 * error object for the OAuth endpoints, the admin API's `{error, message, ...detail}`, and a small
 * HTML page for a page whose own layout could not be used. Codes come from core/errors.ts, the
 * status from its table. A dependency outage is 503 with Retry-After everywhere (RFC 9110
 * §15.6.4) — never a 500, never renamed into an authentication failure. Anything that is not a
 * PortcullisError is a bare `internal_error`: no message, stack, SQL or internal address.
 */
import type { ServerResponse } from 'node:http';
import { denialHelpUrl } from '../core/denial-reference.ts';
import { toPublicError, type ErrorCode } from '../core/errors.ts';
import type { Surface } from './body-limits.ts';

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** JSON-RPC error codes for refusals outside any judged message (JSON-RPC 2.0 §5.1). */
const RPC_INVALID_REQUEST = -32600;
/** Server-defined range: the request could not be served right now. */
const RPC_UNAVAILABLE = -32001;
const RPC_INTERNAL = -32603;

/** The RFC 6749 §5.2 / RFC 7009 / RFC 7662 code for one of ours (the denial reference shows it too). */
export function oauthCode(code: ErrorCode): string {
  if (code === 'invalid_client' || code === 'unauthorized_client') return code;
  // A known, authenticated client refused the endpoint itself (403): in OAuth words, not authorized.
  if (code === 'forbidden') return 'unauthorized_client';
  // Over a rate (429, with Retry-After): RFC 6749 has no code for it; "temporarily unavailable"
  // (§4.1.2.1) is the one that tells a client to come back later rather than change its request.
  if (code === 'unavailable' || code === 'rate_limited' || code === 'quota_exceeded') return 'temporarily_unavailable';
  if (code === 'internal_error') return 'server_error';
  return 'invalid_request';
}

/** The front door's JSON-RPC code for one of ours (the gateway makes some more precise: gateway/refusals.ts). */
export function rpcCode(code: ErrorCode): number {
  if (code === 'unavailable') return RPC_UNAVAILABLE;
  if (code === 'internal_error') return RPC_INTERNAL;
  return RPC_INVALID_REQUEST;
}

/** The RFC 7644 §3.12 scimType keywords a SCIM refusal's rule may carry (scim/errors.ts). */
const SCIM_TYPES = new Set(['invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'invalidVers', 'sensitive']);

const escape = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export interface Refusal {
  status: number;
  headers: Record<string, string>;
  /** A JSON value, or the HTML text for pages. */
  body: unknown;
}

/** Where the refusal's explanation lives: the server's public URL (its denial reference, core/denial-reference.ts). */
export interface RefusalOptions {
  publicUrl?: string;
}

/** What `surface` answers for `thrown` (anything thrown: unknown failures become internal_error). */
export function refusalFor(surface: Surface, thrown: unknown, options: RefusalOptions = {}): Refusal {
  const err = toPublicError(thrown);
  const status = err.status;
  const headers: Record<string, string> = {};
  if (err.code === 'unavailable') headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  if (err.code === 'unsupported_media_type' && err.rule === 'content-encoding') headers['accept-encoding'] = 'identity';
  const message = err.code === 'internal_error' ? 'internal error' : err.message;
  const help = options.publicUrl === undefined ? {} : { help: denialHelpUrl(options.publicUrl, err.code) };
  switch (surface) {
    case 'gateway':
      // RFC 6750 §3.1: a malformed request (two Authorization headers) is `invalid_request`.
      if (err.rule === 'duplicate-authorization') headers['www-authenticate'] = 'Bearer error="invalid_request"';
      headers['access-control-allow-origin'] = '*';
      return { status, headers, body: { jsonrpc: '2.0', id: null, error: { code: rpcCode(err.code), message, data: { code: err.code, ...help } } } };
    case 'oauth':
      // RFC 6749 §5.2: a 401 invalid_client names the scheme the client should authenticate with.
      if (err.code === 'invalid_client') headers['www-authenticate'] = 'Basic realm="portcullis"';
      if (typeof err.detail.allow === 'string') headers.allow = err.detail.allow;
      // RFC 6749 §5.2 `error_uri`: a human-readable page about the error (our reference's entry for the finer code).
      return { status, headers, body: { error: oauthCode(err.code), error_description: message, ...(help.help ? { error_uri: help.help } : {}) } };
    case 'admin':
      return { status, headers, body: err.code === 'internal_error' ? { error: 'internal_error' } : err.toJSON() };
    case 'scim':
      // RFC 7644 §3.12: the SCIM error schema; `status` is a string; scimType when one fits.
      return { status, headers, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), ...(SCIM_TYPES.has(err.rule) ? { scimType: err.rule } : {}), detail: message } };
    case 'page':
      return {
        status,
        headers: { ...headers, 'content-security-policy': "default-src 'none'; frame-ancestors 'none'", 'x-content-type-options': 'nosniff' },
        body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Request refused</title></head><body><h1>This request could not be served</h1><p>${escape(message)}</p><p data-code="${escape(err.code)}">Error code: <code>${escape(err.code)}</code></p></body></html>`,
      };
  }
}

/** Send what `surface` answers for `thrown`. Safe to call only before the head was sent. */
export function sendRefusal(res: ServerResponse, surface: Surface, thrown: unknown, options: RefusalOptions = {}): void {
  const { status, headers, body } = refusalFor(surface, thrown, options);
  const html = typeof body === 'string';
  const payload = html ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': html ? 'text/html; charset=utf-8' : surface === 'scim' ? 'application/scim+json; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}
