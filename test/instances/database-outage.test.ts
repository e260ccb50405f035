/**
 * Two instances behind one URL lose their PostgreSQL under load: every caller gets 503 with
 * Retry-After (never a 500, never the proxy's 502), and when PostgreSQL is back both instances
 * serve again without a restart — their change feeds too: each LISTEN connection is made again,
 * and a change on one instance reaches the other in under a second once more.
 *
 * The database is a private PostgreSQL on a port of its own (test/helpers/private-postgres.ts),
 * stopped with a fast shutdown as in a restart or failover.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { adminClient, type AdminClient } from '../admin/support.ts';
import { addStaticClient, endpoint, postForm, type ClientCredentials } from '../helpers/authz.ts';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { skipUnless } from '../helpers/prerequisites.ts';
import { listProjectsOn, on, startPair, timeUntil, type InstanceName, type Pair } from './support.ts';

describe('two instances through a PostgreSQL outage', { skip: skipUnless(privatePostgresUnavailable()) }, () => {
  let database: PrivatePostgres;
  let pair: Pair;
  let machine: ClientCredentials & { client_id: string };
  let token: string;

  const clientCredentials = () => postForm(endpoint(pair.first, 'token'), { grant_type: 'client_credentials', resource: pair.first.mcpUrl, scope: 'demo:read' }, machine);

  before(async () => {
    database = await startPrivatePostgres();
    pair = await startPair({ databaseUrl: database.url });
    machine = await addStaticClient(pair.first, { client_name: 'Nightly job' });
    const issued = await clientCredentials();
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    token = String(issued.body.access_token);
  });
  after(async () => {
    await pair?.stop();
    await database?.destroy();
  });

  /** Change feed connections (fanout/postgres.ts names them) open on the private server. */
  async function feedConnections(): Promise<number> {
    const client = new pg.Client({ connectionString: database.url, connectionTimeoutMillis: 2000 });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'portcullis-change-feed'");
      return Number(rows[0]!.n);
    } catch {
      return 0;
    } finally {
      await client.end().catch(() => {});
    }
  }

  it('under load every caller gets 200 or 503 with Retry-After, and both instances recover by themselves', async () => {
    const statuses = new Map<number, number>();
    const missingRetryAfter: number[] = [];
    let running = true;
    let consecutiveOk = 0;
    const worker = async (_: unknown, n: number) => {
      for (let i = n; running; i++) {
        // Through the proxy (both instances, in turn): half gateway calls (the demo reads the store), half tokens.
        const res = i % 2 ? await fetchStatus(() => listProjectsOn(pair, i % 4 === 1 ? 'a' : 'b', token)) : await fetchStatus(clientCredentials);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 503 && !(Number(res.headers.get('retry-after')) > 0)) missingRetryAfter.push(res.status);
        consecutiveOk = res.status === 200 ? consecutiveOk + 1 : 0;
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await timeUntil(async () => (statuses.get(200) ?? 0) > 20, 'load under way');
    await database.stop();
    try {
      await timeUntil(async () => (statuses.get(503) ?? 0) > 20, 'the outage answered with 503s', 15_000);
    } finally {
      await database.start();
    }
    consecutiveOk = 0;
    await timeUntil(async () => consecutiveOk > 40, 'the load succeeding again', 20_000);
    running = false;
    await Promise.all(workers);
    const unexpected = [...statuses].filter(([status]) => status !== 200 && status !== 503);
    assert.deepEqual(unexpected, [], `answers other than 200 and 503: ${JSON.stringify([...statuses])}`);
    assert.deepEqual(missingRetryAfter, [], '503 without Retry-After');
  });

  it('after the outage each instance listens again: a change on one reaches the other in under a second', async () => {
    await timeUntil(async () => (await feedConnections()) === 2, 'both change feeds reconnected', 15_000);
    await pair.first.addUser('grace@example.com');
    const owner: AdminClient = await adminClient(pair.first, pair.first.user.email, false);
    const grace: AdminClient = await adminClient(pair.first, 'grace@example.com', false);
    const issued = await grace.call('POST', '/orgs/acme/keys', { name: 'after outage', permissions: { mode: 'simple', level: 'read' } }, { headers: on('a') });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const key = String(issued.body.secret);
    const setRole = async (role: string, via: InstanceName) => assert.equal((await owner.call('PATCH', `/orgs/acme/members/${grace.user.id}`, { role }, { headers: on(via) })).status, 200);
    const keyStatus = async (instance: InstanceName) => (await listProjectsOn(pair, instance, key)).status;

    // Both instances hold the key in memory (its 5 s cache) before each change.
    assert.equal(await keyStatus('a'), 200);
    assert.equal(await keyStatus('b'), 200);
    for (const [role, via, seenBy, expected] of [
      ['member', 'a', 'b', 403],
      ['admin', 'b', 'a', 200],
      ['member', 'b', 'a', 403],
      ['admin', 'a', 'b', 200],
    ] as const) {
      assert.notEqual(await keyStatus(seenBy), expected, `${seenBy} has the key cached as it was`);
      await setRole(role, via);
      const ms = await timeUntil(async () => (await keyStatus(seenBy)) === expected, `role ${role} (set on ${via}) applied by ${seenBy}`);
      assert.ok(ms < 1000, `role ${role} set on ${via} reached ${seenBy} after ${Math.round(ms)} ms`);
    }
  });
});

async function fetchStatus(call: () => Promise<{ status: number; headers: Headers }>): Promise<{ status: number; headers: Headers }> {
  try {
    return await call();
  } catch {
    // A connection reset is no answer at all: counted apart, it must never happen either.
    return { status: 0, headers: new Headers() };
  }
}
