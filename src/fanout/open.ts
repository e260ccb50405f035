/**
 * Which change feed a process uses: Redis pub/sub when `redisUrl` is configured (instances already
 * share Redis for their limits), else PostgreSQL LISTEN/NOTIFY when the store is PostgreSQL, else —
 * SQLite — the cluster primary's relay for a `--workers` worker, or this process alone.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { ChangeFeed } from './change-feed.ts';
import { createClusterFeed } from './cluster.ts';
import { createInProcessFeed } from './in-process.ts';
import { createPostgresFeed } from './postgres.ts';
import { createRedisFeed } from './redis.ts';
import { changeChannel } from './scope.ts';

export interface FeedOptions {
  databaseUrl?: string;
  /** PostgreSQL schema of the store (part of the channel's name). */
  schema?: string;
  dataDir: string;
  redisUrl?: string;
  log: Logger;
}

export function openChangeFeed(options: FeedOptions): Promise<ChangeFeed> {
  const { log } = options;
  const channel = changeChannel(options.databaseUrl, options.schema, options.dataDir);
  if (options.redisUrl) return createRedisFeed({ url: options.redisUrl, channel, log });
  if (options.databaseUrl) return createPostgresFeed({ url: options.databaseUrl, channel, log });
  const onError = (err: unknown) => log.warn({ err }, 'change feed: a listener failed');
  return Promise.resolve(cluster.isWorker ? createClusterFeed(onError) : createInProcessFeed(onError));
}
