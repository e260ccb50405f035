/**
 * The feed of a process alone (SQLite, no workers): a message reaches this process's listeners on
 * the next tick. Other processes on the same SQLite file (the CLI) are still seen by polling.
 */
import { encodeChange, Listeners, type ChangeFeed } from './change-feed.ts';

export function createInProcessFeed(onError: (err: unknown) => void = () => {}): ChangeFeed {
  const listeners = new Listeners(onError);
  let closed = false;
  return {
    kind: 'in-process',
    publish(topic, payload) {
      if (closed) return;
      // Encoded and decoded like any other feed's, so listeners never share the caller's object.
      const raw = encodeChange(topic, payload);
      queueMicrotask(() => listeners.deliver(raw));
    },
    subscribe: (topic, listener) => listeners.subscribe(topic, listener),
    onResume: (listener) => listeners.onResume(listener),
    async close() {
      closed = true;
    },
  };
}
