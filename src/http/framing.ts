/**
 * Checks on a request's framing that hold for every route, made by the front door before any
 * handler runs (and before any body byte is read):
 *
 * - a body declared larger than the route's limit: 413 (RFC 9110 §15.5.14) — the rest is never read;
 * - a `Content-Encoding` other than identity: 415 (RFC 9110 §15.5.16). No route decodes compressed
 *   bodies, and reading gzip bytes as if they were JSON or a form is never what the sender meant;
 * - more than one `Authorization` header: 400. Node keeps only the first, so a gateway and a
 *   proxy in front of it could each judge a different credential (RFC 6750 §3.1 invalid_request).
 */
import type { IncomingMessage } from 'node:http';
import { PortcullisError } from '../core/errors.ts';

export function framingError(req: IncomingMessage, maxBodyBytes: number): PortcullisError | undefined {
  let authorizations = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.length === 13 && req.rawHeaders[i]!.toLowerCase() === 'authorization') authorizations++;
  }
  if (authorizations > 1) return new PortcullisError('invalid_request', 'send one Authorization header', { rule: 'duplicate-authorization' });
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    return new PortcullisError('unsupported_media_type', 'compressed request bodies are not accepted; send the body uncompressed', { rule: 'content-encoding' });
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) {
    return new PortcullisError('payload_too_large', `the request body is larger than ${maxBodyBytes} bytes`, { rule: 'body-limit' });
  }
  return undefined;
}
