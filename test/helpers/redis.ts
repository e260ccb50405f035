/**
 * Redis for tests, as databases.ts does PostgreSQL: the shared one at PORTCULLIS_TEST_REDIS_URL
 * (.ci/run sets it; without it the tests that need it are registered with `{ skip }`, and with
 * CI=true they run anyway and fail), a key prefix of each test's own so runs never collide, and a
 * PRIVATE redis-server on a free port of its own that an outage test may stop and start again
 * (never the shared one).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { skipUnless } from './prerequisites.ts';
import { freePort } from './private-postgres.ts';

export const TEST_REDIS_URL: string | undefined = process.env.PORTCULLIS_TEST_REDIS_URL || undefined;

const NO_URL = 'PORTCULLIS_TEST_REDIS_URL is not set (Redis at redis://127.0.0.1:6379, as .ci/run sets it)';

/** `skip` for tests that need the shared Redis. */
export const redisSkip: string | false = TEST_REDIS_URL ? false : skipUnless(NO_URL);

/** The shared Redis URL, or the failure a test must end in without one (CI). */
export function redisUrl(): string {
  if (!TEST_REDIS_URL) throw new Error(NO_URL);
  return TEST_REDIS_URL;
}

/** A key prefix no other test run uses. */
export function uniquePrefix(what = 'test'): string {
  return `portcullis-test:${what}:${randomBytes(6).toString('hex')}:`;
}

/** Delete every key under `prefix` (a test's own), then disconnect. */
export async function dropKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** Why a private redis-server cannot run here, or undefined when it can. */
export function privateRedisUnavailable(): string | undefined {
  return spawnSync('redis-server', ['--version']).status === 0 ? undefined : 'no redis-server binary on this machine';
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Stop the server (SIGKILL: gone at once, as a crash would leave it). */
  stop(): Promise<void>;
  /** Start it again on the same port (empty: nothing was saved). */
  start(): Promise<void>;
  /** Stop it for good and remove its directory. */
  close(): Promise<void>;
}

async function waitForPing(url: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      await redis.connect();
      if ((await redis.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis at ${url} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      redis.disconnect();
    }
  }
}

/** A redis-server of the test's own (no persistence), on a free loopback port. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    await waitForPing(url);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await start();
  return {
    url,
    port,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
