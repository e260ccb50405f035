/**
 * `audit.mode: "strict"`: the gateway answers a call only once its audit record is committed, so a
 * crash (kill -9) can never leave a client holding an answer the trail does not show. Every step
 * writes its answer as it always does; while held, what it writes — status and headers, body
 * chunks, the end — waits here, in order, and goes out on `release()`. Nothing reaches the
 * socket before then (Node sends headers with the first write, never at writeHead). `discard()`
 * drops the held answer so that the caller can answer otherwise (the record could not be made).
 */
import type { ServerResponse } from 'node:http';

const HELD = ['writeHead', 'write', 'end', 'flushHeaders'] as const;

export interface HeldAnswer {
  release(): void;
  /** Drop what was held; true when the answer was complete (so another can be sent instead). */
  discard(): boolean;
}

export function holdAnswer(res: ServerResponse): HeldAnswer {
  const calls: { method: (typeof HELD)[number]; args: unknown[] }[] = [];
  let ended = false;
  const target = res as unknown as Record<string, unknown>;
  for (const method of HELD) {
    target[method] = (...args: unknown[]) => {
      calls.push({ method, args });
      if (method === 'end') ended = true;
      // writeHead and end chain (`res.writeHead(…).end(…)`); write reports room for more.
      return method === 'write' ? true : res;
    };
  }
  // The instance's own methods shadow the prototype's; deleting them restores Node's.
  const restore = () => {
    for (const method of HELD) delete target[method];
  };
  return {
    release() {
      restore();
      try {
        for (const { method, args } of calls) (res[method] as (...a: unknown[]) => unknown).apply(res, args);
      } catch {
        // Two answers were written (a step answered, then threw and the front door answered too):
        // the first has gone; the second cannot.
        res.destroy();
      }
      calls.length = 0;
    },
    discard() {
      restore();
      calls.length = 0;
      if (!ended) res.destroy();
      return ended;
    },
  };
}
