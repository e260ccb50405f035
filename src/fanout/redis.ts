/**
 * The change feed on Redis pub/sub (https://redis.io/docs/latest/develop/interact/pubsub/): one
 * connection subscribed to the deployment's channel, one to publish on. ioredis reconnects both
 * and subscribes again by itself; every time the subscriber is ready it says `resumed`, so caches
 * catch up on what was published while it was away. Redis down: nothing is published (no
 * offline queue to replay stale hints later), the caches poll, and nothing fails.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { encodeChange, Listeners, type ChangeFeed } from './change-feed.ts';

export interface RedisFeedOptions {
  url: string;
  /** The channel: one per deployment (fanout/scope.ts). */
  channel: string;
  log: Logger;
}

/** Reconnect after 100 ms, doubling to 5 s (ioredis calls this for each attempt). */
const retryStrategy = (attempt: number) => Math.min(100 * 2 ** Math.min(attempt, 6), 5000);

export async function createRedisFeed(options: RedisFeedOptions): Promise<ChangeFeed> {
  const { url, channel, log } = options;
  const listeners = new Listeners((err) => log.warn({ err }, 'change feed: a listener failed'));
  const connection = { retryStrategy, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
  // The subscriber queues its SUBSCRIBE until connected, however long that takes.
  const subscriber = new Redis(url, { ...connection, enableOfflineQueue: true, maxRetriesPerRequest: null });
  const publisher = new Redis(url, connection);
  let lost = false;
  const onError = (err: unknown) => {
    if (!lost) log.warn({ err }, 'change feed: Redis is out of reach; reconnecting (caches poll meanwhile)');
    lost = true;
  };
  subscriber.on('error', onError);
  publisher.on('error', () => {}); // the subscriber reports the outage once
  subscriber.on('message', (from: string, message: string) => {
    if (from === channel) listeners.deliver(message);
  });
  subscriber.on('ready', () => {
    if (lost) log.info('change feed: Redis subscription re-established');
    lost = false;
    // ioredis subscribes again on reconnection before `ready` (autoResubscribe).
    listeners.resume();
  });
  const subscribed = subscriber.subscribe(channel).catch(onError);
  // Out of reach now: ioredis keeps trying (retryStrategy); the caches poll until it succeeds.
  await Promise.race([subscribed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  let closed = false;
  return {
    kind: 'redis',
    publish(topic, payload) {
      if (closed || publisher.status !== 'ready') return;
      publisher.publish(channel, encodeChange(topic, payload)).catch((err: unknown) => log.warn({ err, topic }, 'change feed: could not publish'));
    },
    subscribe: (topic, listener) => listeners.subscribe(topic, listener),
    onResume: (listener) => listeners.onResume(listener),
    async close() {
      closed = true;
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}
