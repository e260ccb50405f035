/**
 * HTTP/1.1 by hand over a TCP socket, for tests about framing and connections: what exactly the
 * server sends back, when, and whether it ends or resets the connection — things a fetch client
 * hides. The socket is always read (so the kernel never discards an answer), and every byte
 * received is kept.
 */
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves once the received text matches, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Write; resolves false if the write failed (the peer reset or closed the connection). */
  write(data: string | Buffer): Promise<boolean>;
  /** How the connection ended: 'end' (the server's FIN), 'error:<code>' (reset…), or undefined while open. */
  ending(): string | undefined;
  /** Resolves when the connection has ended or failed, or with undefined after `timeoutMs`. */
  closed(timeoutMs: number): Promise<string | undefined>;
  destroy(): void;
}

export async function rawConnect(port: number, options: { localAddress?: string; host?: string } = {}): Promise<RawConnection> {
  // Half-open allowed: like curl, the client may go on sending after the server's FIN.
  const socket = connect({ port, host: options.host ?? '127.0.0.1', allowHalfOpen: true, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
  let text = '';
  let ended: string | undefined;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    wake();
  });
  socket.on('end', () => {
    ended ??= 'end';
    wake();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    ended ??= `error:${err.code ?? err.message}`;
    wake();
  });
  socket.on('close', () => {
    ended ??= 'close';
    wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string, orUndefined = false): Promise<T> =>
    new Promise((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value !== undefined) {
          done();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        done();
        if (orUndefined) resolve(undefined as T);
        else reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${JSON.stringify(text.slice(0, 300))}, ended: ${ended}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(attempt);
      };
      waiters.add(attempt);
      attempt();
    });
  return {
    socket,
    received: () => text,
    waitFor: (pattern, timeoutMs = 5000) => until(() => text.match(pattern) ?? undefined, timeoutMs, String(pattern)),
    write: (data) =>
      new Promise((resolve) => {
        if (socket.destroyed || socket.writableEnded) return resolve(false);
        socket.write(data, (err) => resolve(!err));
      }),
    ending: () => ended,
    closed: (timeoutMs) => until(() => ended, timeoutMs, 'the connection to end', true),
    destroy: () => socket.destroy(),
  };
}

/** The head of a request, CRLF-terminated, with the given headers. */
export function requestHead(method: string, path: string, headers: Record<string, string | number | (string | number)[]>): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: localhost'];
  for (const [name, value] of Object.entries(headers)) for (const one of [value].flat()) lines.push(`${name}: ${one}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The status code of the first answer received, if any. */
export function statusOf(received: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
  return match ? Number(match[1]) : undefined;
}
