/** The stream's Server-Sent Events framing (WHATWG HTML §9.2), written with back-pressure. */
import type { ServerResponse } from 'node:http';
import type { RevocationEvent } from '../../store/revocations.ts';

/** Start the event stream: 200, never cached, never buffered by a proxy. */
export function openEventStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  res.flushHeaders();
}

export function write(res: ServerResponse, text: string): Promise<void> {
  // Respect back-pressure: a consumer that does not read cannot make us buffer without bound.
  if (res.write(text)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** One revocation: its sequence number as the event id, so a reconnecting consumer misses nothing. */
export function revocationFrame(event: RevocationEvent): string {
  const seq = Number(event.seq);
  const data = JSON.stringify({ seq, kind: event.kind, id: event.id, at: Number(event.at), expiresAt: Number(event.expiresAt) });
  return `id: ${seq}\nevent: revocation\ndata: ${data}\n\n`;
}

/** Reconnect hint for EventSource consumers (WHATWG HTML §9.2.6 `retry`). */
export const RETRY_FRAME = `retry: 1000\n\n`;

/** The consumer has every event up to `seq`: it is now current. */
export function readyFrame(seq: number, keepAliveMs: number): string {
  return `event: ready\ndata: ${JSON.stringify({ seq, keepAliveMs })}\n\n`;
}

export const KEEP_ALIVE_FRAME = ': keep-alive\n\n';
