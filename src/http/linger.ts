/**
 * Answering before the body has arrived, without losing the answer.
 *
 * When a handler answers early (413, 401 before the body is read), part of the body is still on
 * its way. Closing the socket at once makes the kernel answer the client's next bytes with a
 * reset, and a client that has not read our answer yet loses it: it sees "connection reset"
 * instead of the 413. So, as web servers do ("lingering close"), the rest is read and thrown
 * away, up to a bound: a body that ends within it leaves the connection usable (keep-alive);
 * beyond it, or after a short time, our side of the connection is ended first (FIN, after the
 * answer), and the socket is destroyed a moment later. Nothing read here is kept in memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bytes of an unread body thrown away before the connection is ended. */
export const LINGER_BYTES = 1024 * 1024;
/** How long the rest of an unread body may take before the connection is ended. */
export const LINGER_MS = 2000;

/** Call once per request: after the answer, an unread rest of the body is drained or the connection ended. */
export function drainAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.once('finish', () => {
    if (req.complete || req.socket.destroyed) return;
    linger(req);
  });
}

function linger(req: IncomingMessage): void {
  const socket = req.socket;
  let drained = 0;
  let ending = false;
  const end = () => {
    if (ending) return;
    ending = true;
    // FIN after the answer: the client reads the answer, then sees the end of the stream.
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  const timer = setTimeout(end, LINGER_MS);
  timer.unref();
  const declared = Number(req.headers['content-length']);
  // A declared rest larger than the bound will not be read: end our side now, still reading.
  if (Number.isFinite(declared) && declared > LINGER_BYTES) end();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > LINGER_BYTES) end();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('error', () => socket.destroy());
  req.resume();
}
