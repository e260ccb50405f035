/**
 * /readyz and /healthz as an orchestrator sees them while a dependency goes away: 503 with
 * Retry-After naming the failing check by its code (and /healthz still 200: the process is alive,
 * do not restart it), 200 again once the dependency is back — without a restart. A PostgreSQL that
 * hangs rather than refuses must not hang the probe; a configured Redis counts too.
 *
 * Private PostgreSQL and Redis servers on ports of their own (never the shared ones); the hanging
 * database is the shared PostgreSQL behind a TCP relay the test freezes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { postgresUrl, TEST_DATABASE_URL } from '../helpers/databases.ts';
import { waitFor } from '../helpers/gateway.ts';
import { freePort, privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { skipUnless } from '../helpers/prerequisites.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { parseExposition, valueOf } from '../metrics/exposition.ts';

const TOKEN = 'metrics-token-for-the-tests-0123456789';

interface Probe {
  status: number;
  retryAfter: string | null;
  body: { status: string; checks: Record<string, string> };
}

async function readyz(server: TestServer): Promise<Probe> {
  const res = await fetch(`${server.url}/readyz`);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Probe['body'] };
}

async function dependencyUp(server: TestServer, dependency: string): Promise<number | undefined> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return valueOf(parseExposition(await res.text()), 'portcullis_dependency_up', { dependency });
}

describe('/readyz while PostgreSQL goes away and comes back', { skip: skipUnless(privatePostgresUnavailable()) }, () => {
  let database: PrivatePostgres;
  let server: TestServer;
  before(async () => {
    database = await startPrivatePostgres();
    server = await startTestServer({ databaseUrl: database.url, metrics: { token: TOKEN } });
  });
  after(async () => {
    await server?.stop();
    await database?.destroy();
  });

  it('503 with Retry-After and store_unreachable while it is down, /healthz still 200; 200 once it is back', async () => {
    const up = await readyz(server);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.checks.store, 'ok');
    assert.equal(await dependencyUp(server, 'store'), 1);

    await database.stop();
    try {
      const down = await waitFor(async () => {
        const probe = await readyz(server);
        return probe.status === 503 && probe;
      }, 'readiness to notice PostgreSQL is down');
      assert.equal(down.body.status, 'not_ready');
      assert.equal(down.body.checks.store, 'store_unreachable');
      assert.equal(down.body.checks.signing_keys, 'ok', 'only what failed is named as failing');
      assert.ok(Number(down.retryAfter) > 0, 'Retry-After');
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200, 'alive: the orchestrator must not restart the process for this');
      assert.equal(await waitFor(async () => (await dependencyUp(server, 'store')) === 0 && 0, 'the store gauge to say down'), 0);
    } finally {
      await database.start();
    }
    const back = await waitFor(async () => {
      const probe = await readyz(server);
      return probe.status === 200 && probe;
    }, 'readiness after PostgreSQL is back', 15_000);
    assert.deepEqual(back.body.checks, { store: 'ok', migrations: 'ok', signing_keys: 'ok' });
  });
});

/** A TCP relay to `target` that the test can freeze: bytes are held back both ways, connections stay open. */
async function freezableRelay(target: URL): Promise<{ port: number; freeze(): void; thaw(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const held: (() => void)[] = [];
  let frozen = false;
  const forward = (from: Socket, to: Socket) =>
    from.on('data', (chunk: Buffer) => {
      if (frozen) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const write of held.splice(0)) write();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('/readyz while PostgreSQL hangs', { skip: skipUnless(TEST_DATABASE_URL ? undefined : 'PORTCULLIS_TEST_DATABASE_URL is not set') }, () => {
  let relay: Awaited<ReturnType<typeof freezableRelay>>;
  let server: TestServer;
  const schema = `pct_${randomBytes(6).toString('hex')}`;
  before(async () => {
    const target = new URL(postgresUrl());
    relay = await freezableRelay(target);
    const through = new URL(target);
    through.host = `127.0.0.1:${relay.port}`;
    server = await startTestServer({ databaseUrl: through.toString() }, { schema });
  });
  after(async () => {
    relay?.thaw();
    await server?.stop();
    await relay?.close();
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('answers 503 within the check timeout, for a flood of probes too; 200 again once it answers', async () => {
    assert.equal((await readyz(server)).status, 200);
    relay.freeze();
    try {
      // Past the last cached result (1 s), so the probes below run the checks against the hung database.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const started = performance.now();
      const probes = await Promise.all(Array.from({ length: 50 }, () => readyz(server)));
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 4000, `every probe answered within the timeout (took ${Math.round(elapsed)} ms)`);
      for (const probe of probes) {
        assert.equal(probe.status, 503);
        assert.equal(probe.body.checks.store, 'store_unreachable');
        assert.equal(probe.body.checks.migrations, 'migrations_unknown');
      }
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      relay.thaw();
    }
    await waitFor(async () => (await readyz(server)).status === 200, 'readiness once the database answers again', 15_000);
  });
});

function redisUnavailable(): string | undefined {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error ? 'no redis-server on this machine' : undefined;
}

/** A Redis of the test's own on a free port, without persistence, that the test stops and starts again. */
async function privateRedis(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void> }> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
          socket.on('error', () => resolve(false));
        }),
      'the private Redis to listen',
    );
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, stop, start };
}

describe('/readyz with redisUrl configured', { skip: skipUnless(redisUnavailable()) }, () => {
  let redis: Awaited<ReturnType<typeof privateRedis>>;
  let server: TestServer;
  before(async () => {
    redis = await privateRedis();
    server = await startTestServer({ redisUrl: redis.url, metrics: { token: TOKEN } });
  });
  after(async () => {
    await server?.stop();
    await redis?.stop();
  });

  it('counts Redis: redis_unreachable while it is away, ok again once it is back', async () => {
    const up = await readyz(server);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.checks.redis, 'ok');
    assert.equal(await dependencyUp(server, 'redis'), 1);

    await redis.stop();
    try {
      const down = await waitFor(async () => {
        const probe = await readyz(server);
        return probe.status === 503 && probe;
      }, 'readiness to notice Redis is away');
      assert.equal(down.body.checks.redis, 'redis_unreachable');
      assert.equal(down.body.checks.store, 'ok');
      assert.equal(await dependencyUp(server, 'redis'), 0);
    } finally {
      await redis.start();
    }
    await waitFor(async () => (await readyz(server)).status === 200, 'readiness once Redis is back', 15_000);
  });
});
