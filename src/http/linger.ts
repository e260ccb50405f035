/**
 * Answering before the body has arrived, without losing the answer.
 *
 * When a handler answers early (413, a 401 before the body is read), part of the body is still on
 * its way. Such an answer says `Connection: close` (RFC 9112 §9.6): the client must not send its
 * next request down this connection, whose rest of a body nobody reads any more. But closing the
 * socket at once makes the kernel answer the client's next bytes with a reset, and a client that
 * has not read our answer yet loses it: it sees "connection reset" instead of the 413. So, as web
 * servers do ("lingering close"), our side is ended first (FIN, after the answer) and the rest of
 * the body is read and thrown away, up to a bound in bytes and time; then the socket is destroyed.
 * Nothing read here is kept in memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Bytes of an unread body thrown away before the connection is destroyed. */
export const LINGER_BYTES = 1024 * 1024;
/** How long the rest of an unread body may take before the connection is destroyed. */
export const LINGER_MS = 2000;

/** Call once per request, before any handler: an answer given before the body ended closes gently. */
export function drainAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead;
  // Every answer goes through writeHead (Node's implicit headers call it too): the moment to decide.
  res.writeHead = function writeHeadThenLinger(this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    if (!req.complete && !this.headersSent && !req.socket.destroyed) {
      this.setHeader('connection', 'close');
      lingerWhenClosing(req);
    }
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
}

/**
 * Node ends a `Connection: close` answer's socket with `destroySoon()` — FIN, then destroy as soon
 * as the answer is written, resetting a client still sending. For this socket only, closing means
 * lingering instead.
 */
function lingerWhenClosing(req: IncomingMessage): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > LINGER_BYTES) socket.destroy();
  });
  req.once('error', () => socket.destroy());
  req.resume();
  socket.destroySoon = () => {
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}
