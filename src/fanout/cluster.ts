/**
 * The change feed of node:cluster workers on one SQLite file (`portcullis start --workers N`
 * without PostgreSQL): a worker sends its message to the primary over the IPC channel, and the
 * primary (`relayChanges`) sends it to every worker, the sender included. IPC between a worker and
 * its primary is ordered and loses nothing while both live; a restarted worker loads everything
 * afresh anyway.
 */
import type { Cluster } from 'node:cluster';
import { encodeChange, Listeners, type ChangeFeed } from './change-feed.ts';

/** The envelope on the IPC channel (other messages on it are not ours). */
interface ChangeEnvelope {
  portcullisChange: string;
}

function isChange(message: unknown): message is ChangeEnvelope {
  return typeof message === 'object' && message !== null && typeof (message as ChangeEnvelope).portcullisChange === 'string';
}

/** A worker's feed: needs `process.send` (a worker of a cluster, or any child with an IPC channel). */
export function createClusterFeed(onError: (err: unknown) => void = () => {}): ChangeFeed {
  if (!process.send) throw new Error('the cluster change feed needs an IPC channel to the primary');
  const listeners = new Listeners(onError);
  const onMessage = (message: unknown) => {
    if (isChange(message)) listeners.deliver(message.portcullisChange);
  };
  process.on('message', onMessage);
  let closed = false;
  return {
    kind: 'cluster',
    publish(topic, payload) {
      if (closed || !process.connected) return;
      const envelope: ChangeEnvelope = { portcullisChange: encodeChange(topic, payload) };
      process.send!(envelope, undefined, undefined, (err: Error | null) => {
        if (err) onError(err);
      });
    },
    subscribe: (topic, listener) => listeners.subscribe(topic, listener),
    onResume: (listener) => listeners.onResume(listener),
    async close() {
      closed = true;
      process.off('message', onMessage);
    },
  };
}

/** In the primary: pass every worker's change to every worker. */
export function relayChanges(cluster: Cluster): void {
  cluster.on('message', (_from, message: unknown) => {
    if (!isChange(message)) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker?.isConnected()) worker.send(message);
    }
  });
}
