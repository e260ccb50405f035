/**
 * Redis going away costs shared counting, never an answer: a private redis-server (a port of the
 * test's own; the shared one is never touched) is stopped mid-test. Calls are still answered — at
 * once, limited in this process, never a 5xx — with one warning and the backend reported as
 * `memory` (what the metrics engineer's gauge reads); when Redis is back the limiter counts there
 * again by itself and two instances share one count again.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/core/log.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { BackendName } from '../../src/limits/backend.ts';
import type { LimitedCall } from '../../src/limits/call-limits.ts';
import { Limits } from '../../src/limits/service.ts';
import { appUrl, callTool, exchange, httpApp, startFixtureMcp, startGateway, tokenFor, waitFor, type FixtureMcp } from '../helpers/gateway.ts';
import { skipUnless } from '../helpers/prerequisites.ts';
import { privateRedisUnavailable, startPrivateRedis, uniquePrefix, type PrivateRedis } from '../helpers/redis.ts';
import type { TestServer } from '../helpers/server.ts';

const skip = skipUnless(privateRedisUnavailable());

/** A logger whose lines the test reads. */
function capturedLog() {
  const lines: { level: number; msg: string; event?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

const CALL: LimitedCall = { application: 'app', subject: 'user-1', clientId: 'client-1', targets: ['echo'] };

describe('the limiter when Redis goes away and comes back', { skip }, () => {
  let redis: PrivateRedis;
  let a: Limits;
  let b: Limits;
  const { log, lines } = capturedLog();
  const changes: BackendName[] = [];

  before(async () => {
    redis = await startPrivateRedis();
    const prefix = uniquePrefix('outage');
    const make = (logger = silentLogger()) =>
      new Limits({ redisUrl: redis.url, keyPrefix: prefix, server: { application: { limit: 2, window: 60 } }, orgs: { get: async () => undefined }, now: () => Date.now() / 1000, nowMs: Date.now, log: logger }).start();
    a = await make(log);
    b = await make();
    a.onBackendChange((backend) => changes.push(backend));
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await redis?.close();
  });

  it('counts in Redis, shared by both instances', async () => {
    assert.equal(a.backend, 'redis');
    assert.equal((await a.calls.check(CALL)).allowed, true);
    assert.equal((await b.calls.check(CALL)).allowed, true);
    assert.equal((await a.calls.check(CALL)).allowed, false, 'the third call, across both, is over 2');
  });

  it('with Redis stopped: answers at once, limited in this process, with a warning and the backend reported', async () => {
    await redis.stop();
    await waitFor(() => a.backend === 'memory', 'the limiter notices Redis is gone');
    assert.deepEqual(changes, ['memory']);
    assert.ok(lines.some((l) => l.level === 40 && l.event === 'limits.backend'), 'one warning says so');
    const started = performance.now();
    const verdicts = [];
    for (let i = 0; i < 3; i++) verdicts.push((await a.calls.check(CALL)).allowed);
    assert.ok(performance.now() - started < 500, 'no call waits for a dead Redis');
    assert.deepEqual(verdicts, [true, true, false], 'the in-process limit still holds');
  });

  it('with Redis back: counts there again by itself, shared again', async () => {
    await redis.start();
    await waitFor(() => a.backend === 'redis' && b.backend === 'redis', 'the limiter reconnects', 10_000);
    assert.deepEqual(changes, ['memory', 'redis']);
    // The restarted Redis kept nothing (no persistence): a fresh shared count.
    assert.equal((await b.calls.check(CALL)).allowed, true);
    assert.equal((await a.calls.check(CALL)).allowed, true);
    assert.equal((await b.calls.check(CALL)).allowed, false);
  });
});

describe('the gateway when Redis goes away', { skip }, () => {
  let redis: PrivateRedis;
  let mcp: FixtureMcp;
  let server: TestServer;

  before(async () => {
    redis = await startPrivateRedis();
    mcp = await startFixtureMcp();
    server = await startGateway([httpApp('lim', mcp.url)], { redisUrl: redis.url, limits: { keyPrefix: uniquePrefix('gw-outage'), user: { limit: 3, window: 60 } } });
  });
  after(async () => {
    await server?.stop();
    await mcp?.stop();
    await redis?.close();
  });

  it('answers every call — allowed or 429, never a 5xx — and limits in-process meanwhile', async () => {
    const token = (await tokenFor(server, 'lim')).access_token;
    const url = appUrl(server, 'lim');
    assert.equal((await exchange(url, callTool('echo', {}, 1), { token })).status, 200);
    await redis.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await exchange(url, callTool('echo', {}, i + 2), { token, timeoutMs: 2000 })).status);
    assert.ok(statuses.every((s) => s === 200 || s === 429), `statuses ${statuses}`);
    assert.equal(statuses.at(-1), 429, 'the in-process count still holds the user to 3 a minute');
  });
});
