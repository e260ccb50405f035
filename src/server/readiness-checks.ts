/**
 * What "ready" means for one Portcullis process (metrics/readiness.ts runs the checks): the store
 * answers a trivial query, every migration this build knows is applied, the engine holds a current
 * signing key, and — when `redisUrl` is set — Redis answers PING.
 *
 * Redis is asked over a connection of its own that never queues a command while disconnected, so a
 * Redis that is away fails its check at once instead of holding the probe.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { Readiness, type ReadinessCheck } from '../metrics/readiness.ts';
import type { Store } from '../store/store.ts';
import type { AuthzEngine } from './authz-engine.ts';

export interface ReadinessParts {
  config: Config;
  store: Store;
  engine: AuthzEngine;
  log: Logger;
  /** The longest one check may take (default 2000 ms). */
  timeoutMs?: number;
}

export function readinessChecks(parts: ReadinessParts): { readiness: Readiness; close(): void } {
  const { config, store, engine, log } = parts;
  const checks: ReadinessCheck[] = [
    { name: 'store', code: 'store_unreachable', dependency: 'store', probe: () => store.ping().then(() => true) },
    // Cannot be read (the store is away): unknown; read and some missing: pending.
    { name: 'migrations', code: 'migrations_unknown', probe: async () => (await store.pendingMigrations()).length === 0 || 'migrations_pending' },
    // The first private key is the one the engine signs with; a retired key only verifies (key_ops).
    { name: 'signing_keys', code: 'signing_key_missing', probe: () => engine.keyRing.privateJwks[0] !== undefined && engine.keyRing.privateJwks[0].key_ops === undefined },
  ];
  const redis = config.redisUrl ? redisConnection(config.redisUrl, log) : undefined;
  if (redis) checks.push({ name: 'redis', code: 'redis_unreachable', dependency: 'redis', probe: async () => (await redis.ping()) === 'PONG' });
  const readiness = new Readiness(checks, {
    timeoutMs: parts.timeoutMs,
    onFailure: (check, reason) => log.warn({ check: check.name, code: check.code, err: reason }, 'readiness check failed'),
  });
  return { readiness, close: () => redis?.disconnect() };
}

function redisConnection(url: string, log: Logger): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: (times) => Math.min(100 * times, 2000) });
  // Connection errors repeat while Redis is away; the failing check is what is logged.
  redis.on('error', (err) => log.debug({ err }, 'readiness: Redis connection error'));
  return redis;
}
