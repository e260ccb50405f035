/**
 * PostgreSQL goes away under load: every surface answers 503 with Retry-After — OAuth endpoints
 * with `temporarily_unavailable`, the gateway with a JSON-RPC error that shows nothing internal —
 * never a 500, never `invalid_client`, never a tool result carrying "connect ECONNREFUSED
 * 127.0.0.1:…"; and when PostgreSQL is back, everything works again without a restart.
 *
 * The database is a private PostgreSQL on a port of its own (test/helpers/private-postgres.ts),
 * stopped with a fast shutdown as in a restart or failover.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postMcp } from '../guard/sign-in.ts';
import { addStaticClient, endpoint, postForm, registerRaw, type ClientCredentials } from '../helpers/authz.ts';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { skipUnless } from '../helpers/prerequisites.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const toolCall = (name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args } });

describe('PostgreSQL outage', { skip: skipUnless(privatePostgresUnavailable()) }, () => {
  let database: PrivatePostgres;
  let server: TestServer;
  let machine: ClientCredentials & { client_id: string };
  let token: string;

  const callTool = (name: string) => postMcp(server.mcpUrl, toolCall(name), { token });
  const clientCredentials = () => postForm(endpoint(server, 'token'), { grant_type: 'client_credentials', resource: server.mcpUrl, scope: 'demo:read' }, machine);

  before(async () => {
    database = await startPrivatePostgres();
    server = await startTestServer({ databaseUrl: database.url });
    machine = await addStaticClient(server, { client_name: 'Nightly job' });
    const issued = await clientCredentials();
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    token = String(issued.body.access_token);
  });
  after(async () => {
    await server?.stop();
    await database?.destroy();
  });

  /** What each surface answers while the database is down; every one must be a 503 with Retry-After. */
  const probes: { name: string; call: () => Promise<{ status: number; headers: Headers; text: string }>; check: (text: string) => void }[] = [
    {
      name: 'token endpoint (client_credentials)',
      call: async () => toAnswer(await fetchForm(endpoint(server, 'token'), { grant_type: 'client_credentials', resource: server.mcpUrl, scope: 'demo:read' }, machine)),
      check: (text) => assert.equal(JSON.parse(text).error, 'temporarily_unavailable'),
    },
    {
      name: 'dynamic registration',
      call: async () => {
        const res = await registerRaw(server, { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' });
        return { status: res.status, headers: res.headers, text: JSON.stringify(res.body) };
      },
      check: (text) => assert.equal(JSON.parse(text).error, 'temporarily_unavailable'),
    },
    {
      name: 'authorization endpoint (a browser)',
      call: async () => {
        const url = new URL(endpoint(server, 'authorization'));
        url.search = new URLSearchParams({ client_id: machine.client_id, response_type: 'code', redirect_uri: 'http://127.0.0.1/cb', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString();
        return toAnswer(await fetch(url, { headers: { accept: 'text/html' }, redirect: 'manual' }));
      },
      check: (text) => assert.match(text, /temporarily_unavailable/),
    },
    {
      name: 'introspection',
      call: async () => toAnswer(await fetchForm(endpoint(server, 'introspection'), { token }, machine)),
      check: (text) => assert.equal(JSON.parse(text).error, 'temporarily_unavailable'),
    },
    {
      name: 'admin API (an API key to look up)',
      call: async () => toAnswer(await fetch(`${server.url}/admin/api/orgs/acme/members`, { headers: { authorization: `Bearer pcs_${'A'.repeat(40)}` } })),
      check: (text) => assert.equal(JSON.parse(text).error, 'unavailable'),
    },
    {
      name: 'a page (a session to look up)',
      call: async () => toAnswer(await fetch(`${server.url}/account`, { headers: { cookie: `__Host-pc_session=${'s'.repeat(43)}` }, redirect: 'manual' })),
      check: (text) => assert.match(text, /data-code="unavailable"/),
    },
    {
      name: 'gateway tool call (the demo reads the store)',
      call: () => callTool('list_projects'),
      check: (text) => {
        const body = JSON.parse(text) as { error?: { code: number; data?: { code?: string } } };
        assert.ok(body.error, `a JSON-RPC error, not a result: ${text}`);
        assert.doesNotMatch(text, /ECONN|127\.0\.0\.1|5432|postgres/i, 'nothing internal reaches the MCP client');
        assert.doesNotMatch(text, new RegExp(String(database.port)));
      },
    },
  ];

  it('while PostgreSQL is down every surface answers 503 with Retry-After, and all works again once it is back', async () => {
    for (const probe of probes) assert.notEqual((await probe.call()).status, 503, `${probe.name} answers while the database is up`);
    await database.stop();
    try {
      for (const probe of probes) {
        const answer = await probe.call();
        assert.equal(answer.status, 503, `${probe.name}: ${answer.status} ${answer.text.slice(0, 300)}`);
        assert.ok(Number(answer.headers.get('retry-after')) > 0, `${probe.name}: Retry-After`);
        probe.check(answer.text);
      }
    } finally {
      await database.start();
    }
    // Recovery without a restart: the pool reconnects on the next call.
    for (const probe of probes) {
      let answer = await probe.call();
      for (let i = 0; i < 50 && answer.status === 503; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        answer = await probe.call();
      }
      assert.ok(answer.status < 500, `${probe.name} after recovery: ${answer.status} ${answer.text.slice(0, 300)}`);
    }
    const call = await callTool('list_projects');
    assert.equal(call.status, 200);
    assert.equal((call.json as { result?: { isError?: boolean } }).result?.isError, undefined);
  });

  it('under load, stopping PostgreSQL gives 503s, never a 500, and the load succeeds again after', async () => {
    const statuses = new Map<number, number>();
    let running = true;
    const worker = async (_: unknown, n: number) => {
      for (let i = n; running; i++) {
        // Half the load on the gateway (the demo reads the store), half on the token endpoint.
        const res = i % 2 ? await callTool('list_projects') : await toAnswer(await fetchForm(endpoint(server, 'token'), { grant_type: 'client_credentials', resource: server.mcpUrl, scope: 'demo:read' }, machine));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await database.stop();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await database.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    running = false;
    await Promise.all(workers);
    const unexpected = [...statuses].filter(([status]) => status !== 200 && status !== 503);
    assert.deepEqual(unexpected, [], `answers other than 200 and 503: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(503) ?? 0) > 0, 'the outage was seen');
    assert.equal((await clientCredentials()).status, 200, 'tokens are issued again');
    assert.equal((await callTool('list_projects')).status, 200, 'tools work again');
  });
});

function fetchForm(url: string, params: Record<string, string>, client: ClientCredentials & { client_secret?: string }): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret ?? '')}`).toString('base64')}`,
    },
    body: new URLSearchParams(params),
  });
}

async function toAnswer(res: Response): Promise<{ status: number; headers: Headers; text: string }> {
  return { status: res.status, headers: res.headers, text: await res.text() };
}
