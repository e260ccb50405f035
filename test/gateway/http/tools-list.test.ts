/**
 * tools/list through the gateway shows a token only the approved tools whose scope it holds.
 *
 * - server-everything (SDK v1, answers in SSE) driven by the real v1 client signed in through
 *   OAuth: what it sees is exactly the upstream's own list minus what the token may not call,
 *   with the default scopes derived from the tool annotations.
 * - Our paginating fixture (v2 SDK): SSE-framed pages (2025 era) and plain JSON pages
 *   (2026-07-28), every page filtered, cursors kept; the v2 client follows them.
 * - Review: new tools and tools whose description changes are hidden (and refused) until an
 *   administrator approves them; `notifications/tools/list_changed` from the upstream makes the
 *   gateway read the upstream's tools again, so a new tool is waiting for review before any
 *   client lists it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { serverTargets } from '../../helpers/authz.ts';
import {
  answerTo,
  appUrl,
  approveAll,
  callTool,
  defaultFixtureTools,
  exchange,
  httpApp,
  request,
  sdkClientFor,
  startEverything,
  startFixtureMcp,
  startGateway,
  tokenFor,
  waitFor,
  type FixtureMcp,
  type SpawnedServer,
} from '../../helpers/gateway.ts';
import { assertNoServerErrors } from '../../helpers/mcp-clients.ts';
import type { TestServer } from '../../helpers/server.ts';

type Annotations = { readOnlyHint?: boolean; destructiveHint?: boolean } | undefined;

/** The MCP annotation defaults, restated independently of src/policy/scopes.ts. */
function expectedScope(slug: string, annotations: Annotations): string {
  if (annotations?.readOnlyHint === true) return `${slug}:read`;
  if (annotations?.destructiveHint === false) return `${slug}:write`;
  return `${slug}:delete`;
}

const MODERN = '2026-07-28';
const modernMeta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };

function modernList(cursor?: string, id: number | string = 1) {
  return request('tools/list', { ...(cursor ? { cursor } : {}), _meta: modernMeta }, id);
}

const modernHeaders = (method: string) => ({ 'mcp-protocol-version': MODERN, 'mcp-method': method });

describe('tools/list through the gateway: server-everything and the v1 SDK client', () => {
  let everything: SpawnedServer;
  let server: TestServer;
  /** What server-everything lists to a client like ours, asked directly (no gateway). */
  let upstreamTools: { name: string; annotations?: Annotations }[];

  before(async () => {
    everything = await startEverything();
    server = await startGateway([httpApp('every', everything.url)]);
    const direct = new Client({ name: 'direct', version: '1' });
    await direct.connect(new StreamableHTTPClientTransport(new URL(everything.url)));
    upstreamTools = (await direct.listTools()).tools as never;
    await direct.close();
  });
  after(async () => {
    await server?.stop();
    await everything?.stop();
  });

  for (const [label, untick, scopes] of [
    ['read only', ['every:write'], ['every:read']],
    ['read and write (the default scopes)', [], ['every:read', 'every:write']],
  ] as const) {
    it(`a client that consented to ${label} sees exactly the upstream tools those scopes allow`, async () => {
      const client = await sdkClientFor(server, 'every', { sdk: 'v1', registration: 'dynamic' });
      try {
        assert.equal(await client.connect(), 'redirected');
        await client.authorize({ untick: [...untick] });
        assert.equal(client.provider.currentTokens!.scope, scopes.join(' '));
        const expected = upstreamTools.filter((t) => (scopes as readonly string[]).includes(expectedScope('every', t.annotations))).map((t) => t.name);
        assert.ok(expected.length > 0 && expected.length <= upstreamTools.length);
        assert.deepEqual((await client.toolNames()).sort(), expected.sort());
        if (scopes.length === 1) assert.ok(expected.length < upstreamTools.length, 'some tools need every:write');
        assertNoServerErrors(client);
      } finally {
        await client.close();
      }
    });
  }

  it('the answer stays SSE-framed (as server-everything sent it), filtered inside the event', async () => {
    const { access_token } = await tokenFor(server, 'every', { scope: 'every:read' });
    const url = appUrl(server, 'every');
    const init = await exchange(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }, { token: access_token });
    const sessionId = init.headers.get('mcp-session-id')!;
    const list = await exchange(url, request('tools/list'), { token: access_token, sessionId, protocolVersion: '2025-06-18' });
    assert.equal(list.status, 200);
    assert.match(list.headers.get('content-type')!, /^text\/event-stream/);
    const names = (answerTo(list, 1).result.tools as { name: string }[]).map((t) => t.name);
    const readOnly = upstreamTools.filter((t) => t.annotations?.readOnlyHint === true).map((t) => t.name);
    assert.deepEqual(names.sort(), readOnly.sort());
  });
});

describe("the gateway's own visits to an upstream (manifest refresh)", () => {
  let everything: SpawnedServer;
  let server: TestServer;
  before(async () => {
    everything = await startEverything();
  });
  after(async () => {
    await server?.stop();
    await everything?.stop();
  });

  it('end the upstream session they opened, so refreshes do not pile sessions up at the upstream', async () => {
    server = await startGateway([httpApp('every', everything.url)]);
    const count = (pattern: RegExp) => (everything.output().match(pattern) ?? []).length;
    // At start the gateway lists the upstream's tools in a session of its own; nothing else talks to it here.
    await waitFor(() => count(/Session initialized with ID/g) >= 1 && count(/Received session termination request/g) >= count(/Session initialized with ID/g), 'the gateway to end its session');
    // The refresh records the tools after it has ended its session: wait for that too (a loaded machine shows the gap).
    await waitFor(async () => (await server.store.tools.list('every')).length > 0, 'the gateway to record the tools');
  });
});

for (const target of serverTargets()) {
  describe(`tools/list through the gateway: our paginating server (${target.dialect} store)`, { skip: target.skip }, () => {
    let fixture: FixtureMcp;
    let server: TestServer;
    let url: string;
    const tokens: Record<string, string> = {};

    before(async () => {
      fixture = await startFixtureMcp({ pageSize: 2 });
      server = await startGateway([httpApp('fix', fixture.url)], {}, target);
      url = appUrl(server, 'fix');
      for (const scope of ['fix:read', 'fix:write', 'fix:delete', 'fix:read fix:write', 'fix:read fix:write fix:delete']) {
        tokens[scope] = (await tokenFor(server, 'fix', { scope })).access_token;
      }
    });
    after(async () => {
      await server?.stop();
      await fixture?.stop();
    });

    /** Walk every page with raw requests; returns each page's visible names and cursor. */
    async function pages(token: string, era: 'sse' | 'json'): Promise<{ names: string[]; next?: string; contentType: string }[]> {
      const out: { names: string[]; next?: string; contentType: string }[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const ex =
          era === 'sse'
            ? await exchange(url, request('tools/list', cursor ? { cursor } : {}, i + 1), { token, protocolVersion: '2025-11-25' })
            : await exchange(url, modernList(cursor, i + 1), { token, headers: modernHeaders('tools/list') });
        assert.equal(ex.status, 200, ex.text);
        const result = answerTo(ex, i + 1).result;
        out.push({ names: result.tools.map((t: { name: string }) => t.name), next: result.nextCursor, contentType: ex.headers.get('content-type')! });
        cursor = result.nextCursor;
        if (!cursor) break;
      }
      return out;
    }

    it('SSE-framed pages (2025-11-25): each page is filtered and the upstream cursor is kept', async () => {
      const read = await pages(tokens['fix:read']!, 'sse');
      assert.ok(read.every((p) => p.contentType.startsWith('text/event-stream')), 'the fixture answers 2025 requests in SSE');
      assert.deepEqual(read.map((p) => p.names), [['echo', 'count'], [], []]);
      assert.deepEqual(read.map((p) => p.next), ['2', '4', undefined], 'an emptied page still carries the cursor to the next one');
      const write = await pages(tokens['fix:read fix:write']!, 'sse');
      assert.deepEqual(write.map((p) => p.names), [['echo', 'count'], ['save'], ['change-tools']]);
    });

    it('plain JSON pages (2026-07-28): the same filter on every page', async () => {
      const all = await pages(tokens['fix:read fix:write fix:delete']!, 'json');
      assert.ok(all.every((p) => p.contentType.startsWith('application/json')), 'the fixture answers 2026 requests in JSON');
      assert.deepEqual(all.map((p) => p.names), [['echo', 'count'], ['save', 'purge'], ['legacy', 'change-tools']]);
      const read = await pages(tokens['fix:read']!, 'json');
      assert.deepEqual(read.map((p) => p.names), [['echo', 'count'], [], []]);
    });

    it('default scopes follow the annotations: destructive, and no annotations at all, need fix:delete', async () => {
      const del = (await pages(tokens['fix:delete']!, 'json')).flatMap((p) => p.names);
      assert.deepEqual(del, ['purge', 'legacy']);
      for (const tool of defaultFixtureTools()) {
        const held = (await pages(tokens[expectedScope('fix', tool.annotations as Annotations)]!, 'json')).flatMap((p) => p.names);
        assert.ok(held.includes(tool.name), `${tool.name} is visible with ${expectedScope('fix', tool.annotations as Annotations)}`);
      }
    });

    it('the v2 SDK client (2026-07-28) follows the cursors and sees the filtered union', async () => {
      const client = await sdkClientFor(server, 'fix', { sdk: 'v2', registration: 'dynamic' });
      try {
        assert.equal(await client.connect(), 'redirected');
        await client.authorize();
        assert.deepEqual(await client.toolNames(), ['echo', 'count', 'save', 'change-tools']);
        const lists = client.exchanges.filter((e) => e.rpc === 'tools/list' && e.status === 200);
        assert.equal(lists.length, 3, 'three pages');
        assertNoServerErrors(client);
      } finally {
        await client.close();
      }
    });
  });

  describe(`tool review (${target.dialect} store)`, { skip: target.skip }, () => {
    let fixture: FixtureMcp;
    let server: TestServer;
    let url: string;
    let token: string;
    const SLUG = 'rev';

    before(async () => {
      fixture = await startFixtureMcp();
      server = await startGateway([httpApp(SLUG, fixture.url, { autoApprove: false })], {}, target);
      url = appUrl(server, SLUG);
      token = (await tokenFor(server, SLUG, { scope: 'rev:read rev:write rev:delete' })).access_token;
    });
    after(async () => {
      await server?.stop();
      await fixture?.stop();
    });

    const visible = async () => {
      const ex = await exchange(url, request('tools/list'), { token, protocolVersion: '2025-11-25' });
      assert.equal(ex.status, 200, ex.text);
      return (answerTo(ex, 1).result.tools as { name: string }[]).map((t) => t.name);
    };
    const call = (name: string) => exchange(url, callTool(name, { text: 'x' }), { token, protocolVersion: '2025-11-25' });
    const status = async (name: string) => (await server.store.tools.list(SLUG)).find((t) => t.name === name)?.status;

    it('tools nobody reviewed are hidden, and a call to one is a policy denial (tool-review), never forwarded', async () => {
      assert.deepEqual(await visible(), []);
      assert.equal(await status('echo'), 'needs_review');
      const before = fixture.received('tools/call').length;
      const refused = await call('echo');
      assert.equal(refused.status, 200, 'a policy denial is a JSON-RPC error, not a transport failure');
      const error = answerTo(refused, 1).error;
      assert.equal(error.data.code, 'policy_denied');
      assert.equal(error.data.rule, 'tool-review');
      assert.equal(fixture.received('tools/call').length, before, 'not forwarded');
    });

    it('once approved, a tool appears and can be called', async () => {
      await server.store.tools.review(SLUG, 'echo', 'approved', 'admin@example.com', Math.floor(Date.now() / 1000));
      // Approvals reach every gateway process through the store (polled).
      await waitFor(async () => (await visible()).includes('echo'), 'echo to be visible');
      assert.deepEqual(await visible(), ['echo']);
      const ok = await call('echo');
      assert.equal(answerTo(ok, 1).result.content[0].text, 'x');
    });

    it('a changed description sends the tool back to review: hidden and refused again, until re-approved', async () => {
      fixture.tools = fixture.tools.map((t) => (t.name === 'echo' ? { ...t, description: 'Echo the text, and also e-mail it to someone' } : t));
      assert.deepEqual(await visible(), [], 'the very listing that reveals the change hides the tool');
      assert.equal(await status('echo'), 'needs_review');
      assert.equal(answerTo(await call('echo'), 1).error.data.rule, 'tool-review');
      await server.store.tools.review(SLUG, 'echo', 'approved', 'admin@example.com', Math.floor(Date.now() / 1000));
      await waitFor(async () => (await visible()).includes('echo'), 'echo to be visible again');
    });

    it('notifications/tools/list_changed from the upstream reaches the client and makes the gateway re-read the tools: the new one waits for review', async () => {
      await approveAll(server, SLUG);
      await waitFor(async () => (await visible()).includes('change-tools'), 'change-tools to be visible');
      const changed = await exchange(url, callTool('change-tools', { add: { name: 'fresh', description: 'A brand-new tool', annotations: { readOnlyHint: true } } }), {
        token,
        protocolVersion: '2025-11-25',
      });
      assert.equal(changed.status, 200, changed.text);
      assert.ok(changed.messages.some((m) => m.method === 'notifications/tools/list_changed'), 'the notification passes through');
      // Nobody lists the tools: the gateway does, on its own, after the notification.
      await waitFor(async () => (await status('fresh')) === 'needs_review', 'the gateway to record the new tool');
      assert.ok(!(await visible()).includes('fresh'));
      assert.equal(answerTo(await call('fresh'), 1).error.data.code, 'policy_denied');
      await server.store.tools.review(SLUG, 'fresh', 'approved', 'admin@example.com', Math.floor(Date.now() / 1000));
      await waitFor(async () => (await visible()).includes('fresh'), 'fresh to be visible');
    });
  });
}
