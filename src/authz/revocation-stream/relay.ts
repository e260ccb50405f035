/**
 * One open stream: every event after the listener's position, then `ready`, then each new event
 * as the watcher announces it, with a keep-alive comment when nothing was written for a while.
 */
import type { ServerResponse } from 'node:http';
import type { Store } from '../../store/store.ts';
import { KEEP_ALIVE_FRAME, readyFrame, RETRY_FRAME, revocationFrame, write } from './sse.ts';
import { PAGE, type SequenceWatcher } from './watcher.ts';

export interface Relay {
  res: ServerResponse;
  store: Pick<Store, 'revocations'>;
  watcher: SequenceWatcher;
  keepAliveMs: number;
  /** True once the listener went away. */
  closed: () => boolean;
}

/** Relay events from `after` until the listener goes away; a store error ends it (thrown). */
export async function relayEvents(relay: Relay, after: number): Promise<void> {
  const { res, keepAliveMs, closed } = relay;
  await write(res, RETRY_FRAME);
  let seq = after;
  let announced = false;
  let lastWrite = Date.now();
  while (!closed()) {
    // Register interest before reading, so an event recorded during the read still wakes us.
    const woken = relay.watcher.wait(Math.max(50, keepAliveMs - (Date.now() - lastWrite)));
    const read = await writeEventsSince(relay, seq);
    seq = read.seq;
    lastWrite = read.wroteAt ?? lastWrite;
    if (!announced) {
      announced = true;
      await write(res, readyFrame(seq, keepAliveMs));
      lastWrite = Date.now();
    }
    await woken;
    if (!closed() && Date.now() - lastWrite >= keepAliveMs - 5) {
      await write(res, KEEP_ALIVE_FRAME);
      lastWrite = Date.now();
    }
  }
}

/** Write every event recorded after `seq`, a page at a time: the last seq written, and when (if any was). */
async function writeEventsSince(relay: Relay, seq: number): Promise<{ seq: number; wroteAt: number | undefined }> {
  let wroteAt: number | undefined;
  for (;;) {
    const events = await relay.store.revocations.since(seq, PAGE);
    for (const event of events) {
      await write(relay.res, revocationFrame(event));
      seq = Number(event.seq);
    }
    if (events.length) wroteAt = Date.now();
    if (events.length < PAGE || relay.closed()) return { seq, wroteAt };
  }
}
