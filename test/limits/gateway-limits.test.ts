/**
 * Rate limits and quotas at the gateway, as a caller meets them: a call over a limit is answered
 * 429 with Retry-After, the RateLimit / RateLimit-Policy fields (draft-ietf-httpapi-ratelimit-
 * headers: `"user";q=2;w=60`, `"user";r=0;t=…`) and a JSON-RPC error carrying the request's id,
 * `data.code` and `data.retryAfter` — and it never reaches the MCP server behind the gateway (the
 * fixture server counts what it receives). Limits per user, organization, tool and API key;
 * quotas per UTC day and month that start again when the server's clock passes midnight.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigInput } from '../../src/core/config.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { answerTo, appUrl, callTool, exchange, httpApp, request, startFixtureMcp, startGateway, tokenFor, type Exchange, type FixtureMcp } from '../helpers/gateway.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient } from '../admin/support.ts';

interface Rig {
  server: TestServer;
  mcp: FixtureMcp;
  url: string;
  token: string;
  stop(): Promise<void>;
}

async function rig(limits: ConfigInput['limits'], clock?: TestClock): Promise<Rig> {
  const mcp = await startFixtureMcp();
  const config = { applications: [httpApp('lim', mcp.url)], limits } as ConfigInput;
  const server = clock ? await startTestServer(config, { clock }) : await startGateway(config.applications!, { limits });
  const token = (await tokenFor(server, 'lim')).access_token;
  return { server, mcp, url: appUrl(server, 'lim'), token, stop: async () => (await server.stop(), await mcp.stop()) };
}

const call = (r: Rig, tool: string, id: number | string, token = r.token) => exchange(r.url, callTool(tool, { text: 'hi' }, id), { token });

/** The refusal every limit gives, checked as a client would read it. */
function assertRefused(ex: Exchange, id: number | string, code: 'rate_limited' | 'quota_exceeded', policy: string): number {
  assert.equal(ex.status, 429, ex.text);
  const retryAfter = Number(ex.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${ex.headers.get('retry-after')}`);
  assert.match(ex.headers.get('ratelimit') ?? '', new RegExp(`^"${policy}";r=0;t=\\d+$`));
  assert.match(ex.headers.get('ratelimit-policy') ?? '', new RegExp(`"${policy}";q=\\d+;w=\\d+`));
  const answer = answerTo(ex, id);
  assert.equal(answer.jsonrpc, '2.0');
  assert.equal(answer.error.data.code, code);
  assert.equal(answer.error.data.retryAfter, retryAfter);
  return retryAfter;
}

describe('a user over their rate', () => {
  let r: Rig;
  before(async () => {
    r = await rig({ user: { limit: 2, window: 60 } });
  });
  after(() => r?.stop());

  it('gets 429 with Retry-After, the RateLimit fields and a JSON-RPC error with the id — and the call never reaches the upstream', async () => {
    const first = await call(r, 'echo', 1);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('ratelimit-policy'), '"user";q=2;w=60');
    assert.match(first.headers.get('ratelimit') ?? '', /^"user";r=1;t=\d+$/);
    assert.equal((await call(r, 'echo', 2)).status, 200);
    const refused = await call(r, 'echo', 'third');
    const wait = assertRefused(refused, 'third', 'rate_limited', 'user');
    assert.ok(wait <= 60);
    assert.deepEqual(r.mcp.toolCalls(), ['echo', 'echo'], 'the refused call was not forwarded');
  });

  it('list calls and other methods cost nothing: tools/list still answers', async () => {
    const list = await exchange(r.url, request('tools/list', {}, 7), { token: r.token });
    assert.equal(list.status, 200);
    assert.ok(answerTo(list, 7).result.tools.length > 0);
  });

  it('a batch is refused as a whole, each request with its own id', async () => {
    const ex = await exchange(r.url, [callTool('echo', {}, 11), request('tools/list', {}, 12)], { token: r.token });
    assert.equal(ex.status, 429);
    assert.equal(answerTo(ex, 11).error.data.code, 'rate_limited');
    assert.equal(answerTo(ex, 12).error.data.code, 'batch_refused');
    assert.deepEqual(r.mcp.toolCalls(), ['echo', 'echo']);
  });
});

describe('per organization, per user, per tool', () => {
  let r: Rig;
  let bobToken: string;
  before(async () => {
    r = await rig({ org: { limit: 3, window: 60 }, user: { limit: 2, window: 60 }, tools: { 'lim/save': { limit: 1, window: 60 } } });
    await r.server.addUser('bob@example.com');
    bobToken = (await tokenFor(r.server, 'lim', { email: 'bob@example.com' })).access_token;
  });
  after(() => r?.stop());

  it('one tool has its own rate, per user; other tools are not held back by it', async () => {
    assert.equal((await call(r, 'save', 1)).status, 200);
    assertRefused(await call(r, 'save', 2), 2, 'rate_limited', 'tool');
    assert.equal((await call(r, 'echo', 3)).status, 200, 'the refused save did not count against the user');
  });

  it('the organization counts every member together; a user counts alone', async () => {
    // ada has made 2 calls (user limit 2): she is held back by her own rate.
    assertRefused(await call(r, 'echo', 4), 4, 'rate_limited', 'user');
    // bob has made none, but the organization has had 2 of its 3.
    assert.equal((await call(r, 'echo', 5, bobToken)).status, 200);
    assertRefused(await call(r, 'echo', 6, bobToken), 6, 'rate_limited', 'org');
    assert.equal(r.mcp.toolCalls().length, 3);
  });
});

describe('per OAuth client', () => {
  let r: Rig;
  before(async () => {
    r = await rig({ client: { limit: 1, window: 60 } });
  });
  after(() => r?.stop());

  it('one client is held to its rate; the same person through another client is not', async () => {
    assert.equal((await call(r, 'echo', 1)).status, 200);
    assertRefused(await call(r, 'echo', 2), 2, 'rate_limited', 'client');
    const otherClient = (await tokenFor(r.server, 'lim')).access_token;
    assert.equal((await call(r, 'echo', 3, otherClient)).status, 200);
  });
});

describe('quotas per day and per month', () => {
  it('a daily quota starts again at UTC midnight of the server clock', async () => {
    const clock = testClock(Date.parse('2026-12-07T23:50:00Z') / 1000);
    const r = await rig({ quotas: { user: { day: 2 } } }, clock);
    try {
      assert.equal((await call(r, 'echo', 1)).status, 200);
      assert.equal((await call(r, 'echo', 2)).status, 200);
      const wait = assertRefused(await call(r, 'echo', 3), 3, 'quota_exceeded', 'user-day');
      assert.ok(wait > 590 && wait <= 600, `wait until midnight: ${wait}`);
      clock.advance('11m');
      assert.equal((await call(r, 'echo', 4)).status, 200, 'a new day');
      assert.equal(r.mcp.toolCalls().length, 3);
    } finally {
      await r.stop();
    }
  });

  it("an organization's monthly quota starts again on the 1st", async () => {
    const clock = testClock(Date.parse('2026-12-31T23:55:00Z') / 1000);
    const r = await rig({ quotas: { org: { month: 1 } } }, clock);
    try {
      assert.equal((await call(r, 'echo', 1)).status, 200);
      const wait = assertRefused(await call(r, 'echo', 2), 2, 'quota_exceeded', 'org-month');
      assert.ok(wait > 290 && wait <= 300, `wait until the month ends: ${wait}`);
      clock.advance('6m');
      assert.equal((await call(r, 'echo', 3)).status, 200, 'January');
    } finally {
      await r.stop();
    }
  });
});

describe("an organization's own limits, through the admin API", () => {
  let r: Rig;
  before(async () => {
    r = await rig({ org: { limit: 100, window: 60 }, user: { limit: 50, window: 60 } });
  });
  after(() => r?.stop());

  it('narrows the server\'s; a looser API-key or organization limit is refused with limit_too_loose', async () => {
    const admin = await adminClient(r.server, r.server.user.email, false);
    const looseKey = await admin.call('PUT', '/orgs/acme/limits', { org: { limit: 10, window: 60 }, apiKey: { limit: 20, window: 60 } });
    assert.equal(looseKey.status, 400);
    assert.equal(looseKey.body.error, 'limit_too_loose');
    assert.deepEqual((looseKey.body.errors as { path: string }[]).map((e) => e.path), ['limits.apiKey']);
    const looseOrg = await admin.call('PUT', '/orgs/acme/limits', { org: { limit: 1000, window: 60 } });
    assert.equal(looseOrg.body.error, 'limit_too_loose');
    assert.deepEqual((looseOrg.body.errors as { path: string }[]).map((e) => e.path), ['limits.org']);
    const oneKey = await admin.call('PUT', '/orgs/acme/limits', { org: { limit: 10, window: 60 }, apiKeys: { key_x: '11/1m' } });
    assert.equal(oneKey.body.error, 'limit_too_loose', "one key's own rate is bounded too");

    const saved = await admin.call('PUT', '/orgs/acme/limits', { org: { limit: 10, window: 60 }, apiKey: '1/1m', user: { limit: 2 } });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual(saved.body.org, { org: { limit: 10, window: 60 }, apiKey: { limit: 1, window: 60 }, user: { limit: 2, window: 60 } });
    const read = await admin.call('GET', '/orgs/acme/limits');
    assert.deepEqual((read.body.server as { user: unknown }).user, { limit: 50, window: 60 });
    const org = await admin.call('GET', '/orgs/acme');
    assert.deepEqual((org.body.settings as { limits: unknown }).limits, saved.body.org, 'kept with the organization');
  });

  it("the organization's rates apply at the gateway: per user, and per API key", async () => {
    assert.equal((await call(r, 'echo', 1)).status, 200);
    assert.equal((await call(r, 'echo', 2)).status, 200);
    assertRefused(await call(r, 'echo', 3), 3, 'rate_limited', 'user');

    // carol (an admin of acme, no calls yet) issues a key: it counts on the key's own rate, 1 per minute.
    await r.server.addUser('carol@example.com');
    const carol = await adminClient(r.server, 'carol@example.com', false);
    const issued = await carol.call('POST', '/orgs/acme/keys', { name: 'agent', permissions: { mode: 'simple', level: 'read-write' } });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const key = String(issued.body.secret);
    assert.equal((await call(r, 'echo', 4, key)).status, 200);
    assertRefused(await call(r, 'echo', 5, key), 5, 'rate_limited', 'api-key');
    assert.equal(r.mcp.toolCalls().length, 3);
  });
});
