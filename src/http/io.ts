/** Small node:http helpers: bounded body reading and JSON answers that never leak internals. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PortcullisError } from '../core/errors.ts';

/** Read the whole body, refusing more than `limit` bytes (413) without buffering the excess. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new PortcullisError('payload_too_large', `request body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  // Not destroyed on the early exit: the answer (413) must still reach the client, and
  // http/linger.ts drains or ends the connection after it.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new PortcullisError('payload_too_large', `request body exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/** The `media type` part of Content-Type, lower-cased. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The client's address: the socket peer, or — when a proxy is trusted — the X-Forwarded-For entry
 * that proxy appended, which is the LAST one. Earlier entries come from the client itself (a proxy
 * appends to whatever header it received), so taking the first let any caller choose its address
 * and walk through an IP allow-list (policy/rules/ip-allow.ts) or another user's sign-in throttle.
 * One trusted proxy hop is assumed; several headers count as one comma-separated list (RFC 9110 §5.3).
 */
export function requestIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').at(-1)?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}
