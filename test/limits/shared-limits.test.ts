/**
 * With `redisUrl` every instance counts on the same counters: two servers sharing one Redis share
 * a gateway rate, and the sign-in, forgot-password and device-code lock-outs. Each test uses a key
 * prefix of its own on the shared Redis (PORTCULLIS_TEST_REDIS_URL), so runs never collide.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeviceGuessLimits } from '../../src/authz/device/guesses.ts';
import type { ConfigInput } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Limits } from '../../src/limits/service.ts';
import { appUrl, callTool, exchange, httpApp, startFixtureMcp, startGateway, tokenFor, type FixtureMcp } from '../helpers/gateway.ts';
import { dropKeys, redisSkip, redisUrl, uniquePrefix } from '../helpers/redis.ts';
import { TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { UserAgent } from '../helpers/user-agent.ts';

function limitsOn(url: string, keyPrefix: string, now = () => Date.now() / 1000): Promise<Limits> {
  return new Limits({ redisUrl: url, keyPrefix, server: {}, orgs: { get: async () => undefined }, now, nowMs: Date.now, log: silentLogger() }).start();
}

/** One sign-in attempt on a server's sign-in page; its HTTP status (303 signed in, 401 refused, 429 locked). */
async function signIn(server: TestServer, password: string): Promise<number> {
  const ua = new UserAgent();
  const page = await ua.request(`${server.url}/login`);
  return (await ua.submit(page, '/login', { email: server.user.email, password }, () => true)).status;
}

describe('two instances sharing one Redis', { skip: redisSkip }, () => {
  const prefix = uniquePrefix('shared');
  let mcp: FixtureMcp;
  let one: TestServer;
  let two: TestServer;

  before(async () => {
    mcp = await startFixtureMcp();
    const config: ConfigInput = { redisUrl: redisUrl(), limits: { keyPrefix: prefix, application: { limit: 3, window: 60 } } };
    one = await startGateway([httpApp('lim', mcp.url)], config);
    two = await startGateway([httpApp('lim', mcp.url)], config);
  });
  after(async () => {
    await one?.stop();
    await two?.stop();
    await mcp?.stop();
    await dropKeys(redisUrl(), prefix);
  });

  it('count one gateway rate: calls through either use it up', async () => {
    const tokenOne = (await tokenFor(one, 'lim')).access_token;
    const tokenTwo = (await tokenFor(two, 'lim')).access_token;
    const statuses = [];
    for (const [server, token] of [[one, tokenOne], [two, tokenTwo], [one, tokenOne], [two, tokenTwo]] as const) {
      statuses.push((await exchange(appUrl(server, 'lim'), callTool('echo', {}, 1), { token })).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal(mcp.toolCalls().length, 3);
  });

  it('share the sign-in lock-out: wrong passwords on both lock the account on both', async () => {
    // The account may fail 5 times; the 6th locks it — three here, three there.
    for (let i = 0; i < 3; i++) assert.equal(await signIn(one, 'wrong password one'), 401);
    for (let i = 0; i < 3; i++) await signIn(two, 'wrong password two');
    assert.equal(await signIn(one, TEST_PASSWORD), 429, 'locked on the first instance, even with the right password');
    assert.equal(await signIn(two, TEST_PASSWORD), 429, 'and on the second');
  });
});

describe('attempt limits on a shared Redis', { skip: redisSkip }, () => {
  const prefix = uniquePrefix('attempts');
  let a: Limits;
  let b: Limits;
  before(async () => {
    a = await limitsOn(redisUrl(), prefix);
    b = await limitsOn(redisUrl(), prefix);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dropKeys(redisUrl(), prefix);
  });

  it('a forgot-password count made on one instance holds on the other, escalating as in one process', async () => {
    const policy = { free: 2, window: 3600, base: 300, maxLock: 3600 };
    const here = a.attempts('forgot-address', policy);
    const there = b.attempts('forgot-address', policy);
    assert.equal(a.backend, 'redis');
    await here.fail('someone@example.com');
    await there.fail('someone@example.com');
    assert.equal(await here.retryAfter('someone@example.com'), 0, 'two are free');
    assert.equal(await there.fail('someone@example.com'), 300, 'the third locks for the base');
    assert.equal(await here.retryAfter('someone@example.com'), 300);
    assert.equal(await here.fail('someone@example.com'), 600, 'then doubles');
    await there.succeed('someone@example.com');
    assert.equal(await here.retryAfter('someone@example.com'), 0, 'a success clears it everywhere');
  });

  it('device-code guesses count across instances, per address and server-wide', async () => {
    const policies = { ip: { free: 1, window: 3600, base: 30, maxLock: 3600 }, global: { free: 100, window: 900, base: 5, maxLock: 60 } };
    const here = new DeviceGuessLimits(policies, undefined, (name, policy, now) => a.attempts(name, policy, now));
    const there = new DeviceGuessLimits(policies, undefined, (name, policy, now) => b.attempts(name, policy, now));
    await here.wrong('10.9.9.9');
    await there.wrong('10.9.9.9');
    assert.ok((await here.retryAfter('10.9.9.9')) >= 29, 'the second wrong code, made elsewhere, locks this address here');
    assert.equal(await here.retryAfter('10.9.9.8'), 0, 'another address is not held back');
  });
});
