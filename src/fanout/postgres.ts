/**
 * The change feed on PostgreSQL LISTEN/NOTIFY (https://www.postgresql.org/docs/current/sql-notify.html):
 * one dedicated connection per process LISTENs on the deployment's channel and also sends its
 * NOTIFYs (pg_notify). PostgreSQL delivers a notification to every listening session, the sender's
 * too, after the sending transaction commits.
 *
 * The connection is watched: on an error, its end, or a ping that fails (a network that drops
 * packets never says so), it is replaced with back-off (250 ms doubling to 5 s), and every
 * connection made says `resumed` — whatever was sent while it was down is found by the caches'
 * own polling, at once. Messages published while disconnected are dropped (the store has them).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { encodeChange, Listeners, type ChangeFeed } from './change-feed.ts';

export interface PostgresFeedOptions {
  url: string;
  /** The channel: one per deployment (fanout/scope.ts). */
  channel: string;
  log: Logger;
  /** How often the connection is checked (default 10 s). */
  pingMs?: number;
}

/** How the feed's connection shows in pg_stat_activity. */
export const APPLICATION_NAME = 'portcullis-change-feed';
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/** One query at a time on the connection: pg wants no overlapping queries on one client. */
function oneAtATime(): <T>(run: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return (run) => {
    const next = queue.then(run, run);
    queue = next.catch(() => {});
    return next;
  };
}

export async function createPostgresFeed(options: PostgresFeedOptions): Promise<ChangeFeed> {
  const { url, channel, log } = options;
  const listeners = new Listeners((err) => log.warn({ err }, 'change feed: a listener failed'));
  let client: pg.Client | undefined;
  /** `client` is listening (publish and ping only then). */
  let listening = false;
  let closed = false;
  let retryMs = FIRST_RETRY_MS;
  let retryTimer: NodeJS.Timeout | undefined;
  let lost = false;
  const serially = oneAtATime();

  /** Drop this connection (once) and schedule the next one. */
  function replace(from: pg.Client, err?: unknown): void {
    if (client !== from) return;
    client = undefined;
    listening = false;
    from.removeAllListeners('notification');
    void from.end().catch(() => {});
    if (closed) return;
    if (!lost) log.warn({ err }, 'change feed: the PostgreSQL LISTEN connection was lost; reconnecting (caches poll meanwhile)');
    lost = true;
    retryTimer = setTimeout(() => void connect(), retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, keepAlive: true, query_timeout: 5000, application_name: APPLICATION_NAME });
    next.on('error', (err) => replace(next, err));
    next.on('end', () => replace(next));
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) listeners.deliver(message.payload);
    });
    client = next;
    try {
      await next.connect();
      await next.query(`LISTEN "${channel}"`);
    } catch (err) {
      replace(next, err);
      return;
    }
    if (closed || client !== next) return void next.end().catch(() => {});
    listening = true;
    if (lost) log.info('change feed: PostgreSQL LISTEN connection re-established');
    lost = false;
    retryMs = FIRST_RETRY_MS;
    listeners.resume();
  }

  const ping = setInterval(() => {
    const current = client;
    if (current && listening) void serially(() => current.query('SELECT 1')).catch((err: unknown) => replace(current, err));
  }, options.pingMs ?? 10_000);
  ping.unref();

  await connect();
  return {
    kind: 'postgres',
    publish(topic, payload) {
      const current = client;
      if (!current || !listening || closed) return;
      void serially(() => current.query('SELECT pg_notify($1, $2)', [channel, encodeChange(topic, payload)])).catch((err: unknown) => log.warn({ err, topic }, 'change feed: could not notify'));
    },
    subscribe: (topic, listener) => listeners.subscribe(topic, listener),
    onResume: (listener) => listeners.onResume(listener),
    async close() {
      closed = true;
      clearInterval(ping);
      clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}
