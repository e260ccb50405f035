/**
 * `@modelcontextprotocol/server-everything` and `@modelcontextprotocol/server-memory` (written by
 * others, installed from npm, spoken to over stdio) behind the gateway, driven by the real MCP SDK
 * clients: v1 (2025-11-25: initialize, session, GET stream) and v2 (2026-07-28: server/discover,
 * stateless requests), signed in with OAuth.
 *
 * The stories: tools wait for review and a token sees only the approved tools its scopes allow;
 * calls and progress notifications pass through; each user gets a process of their own that knows
 * who it serves, and no token ever reaches it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { serverTargets } from '../../helpers/authz.ts';
import { appUrl, connectV1, sdkClientFor, startGateway, tokenFor, waitFor } from '../../helpers/gateway.ts';
import { assertNoServerErrors } from '../../helpers/mcp-clients.ts';
import type { TestServer } from '../../helpers/server.ts';
import { connectModern, EVERYTHING, MEMORY, serverProcesses, stdioApp, tempDir, textOf } from './helpers.ts';

const READ_TOOLS = ['echo', 'get-env', 'get-sum', 'trigger-long-running-operation'];
const WRITE_TOOLS = ['toggle-simulated-logging'];

/** Approve some of server-everything's tools, as an administrator reviewing them would. */
async function approve(server: TestServer, slug: string, names: string[]): Promise<void> {
  const at = Math.floor(Date.now() / 1000);
  for (const name of names) assert.ok(await server.store.tools.review(slug, name, 'approved', 'admin@example.com', at), `${name} is in the manifest`);
}

for (const target of serverTargets()) {
  describe(`server-everything over stdio behind the gateway (${target.dialect})`, { skip: target.skip }, () => {
    let server: TestServer;

    before(async () => {
      server = await target.start({ applications: [stdioApp('everything', { args: [EVERYTHING, 'stdio'] }, { autoApprove: false })] });
      // The gateway lists the tools through the bridge at start (its probe) and records them for review.
      await waitFor(async () => (await server.store.tools.list('everything')).length >= 12, 'the manifest to be filled through the bridge', 20_000);
    });
    after(() => server?.stop());

    it('tools wait for review; then a read-only token sees exactly the approved read tools (v1 SDK client)', async () => {
      const manifest = await server.store.tools.list('everything');
      assert.ok(manifest.every((t) => t.status === 'needs_review'));
      assert.ok(READ_TOOLS.every((name) => manifest.some((t) => t.name === name)));

      const client = await sdkClientFor(server, 'everything', { sdk: 'v1', registration: 'dynamic' });
      try {
        assert.equal(await client.connect(), 'redirected');
        await client.authorize({ untick: ['everything:write'] });
        assert.deepEqual(await client.toolNames(), []);
        await approve(server, 'everything', [...READ_TOOLS, ...WRITE_TOOLS]);
        // Approvals reach the gateway's registry as one reload or several: wait for the whole set.
        await waitFor(async () => (await client.toolNames()).length >= READ_TOOLS.length, 'approved tools to be visible');
        assert.deepEqual((await client.toolNames()).sort(), READ_TOOLS);
        const sum = await client.call('get-sum', { a: 2, b: 40 });
        assert.equal(textOf(sum), 'The sum of 2 and 40 is 42.');
        assertNoServerErrors(client);
      } finally {
        await client.close();
      }
    });

    it('a read-and-write token sees the write tool too, over 2026-07-28 (v2 SDK client: server/discover, no session)', async () => {
      await approve(server, 'everything', [...READ_TOOLS, ...WRITE_TOOLS]);
      const client = await sdkClientFor(server, 'everything', { sdk: 'v2', registration: 'dynamic' });
      try {
        assert.equal(await client.connect(), 'redirected');
        await client.authorize();
        await waitFor(async () => (await client.toolNames()).includes('toggle-simulated-logging'), 'the write tool');
        assert.deepEqual((await client.toolNames()).sort(), [...READ_TOOLS, ...WRITE_TOOLS].sort());
        assert.equal(textOf(await client.call('echo', { message: 'hi' })), 'Echo: hi');
        const rpc = client.exchanges.filter((e) => e.url.pathname === '/mcp/everything' && e.status === 200).map((e) => e.rpc);
        assert.ok(rpc.includes('server/discover'));
        assert.ok(!rpc.includes('initialize'), 'the 2026-07-28 era has no initialize');
        assertNoServerErrors(client);
      } finally {
        await client.close();
      }
    });
  });
}

describe('server-everything over stdio: calls, progress, per-user processes, no token', () => {
  let server: TestServer;
  let url: string;

  before(async () => {
    server = await startGateway([stdioApp('everything', { args: [EVERYTHING, 'stdio'] })]);
    url = appUrl(server, 'everything');
    // autoApprove: the tools are approved as soon as the gateway has listed them through the bridge.
    await waitFor(async () => (await server.store.tools.list('everything')).some((t) => t.name === 'get-env' && t.status === 'approved'), 'the manifest', 20_000);
  });
  after(() => server?.stop());

  it('v1 client (2025-11-25): progress notifications arrive before the result', async () => {
    const { access_token: token } = await tokenFor(server, 'everything');
    const v1 = await connectV1(url, token);
    try {
      const progress: number[] = [];
      const result = await v1.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      });
      assert.deepEqual(progress, [1, 2, 3]);
      assert.equal(textOf(result), 'Long running operation completed. Duration: 0.6 seconds, Steps: 3.');
    } finally {
      await v1.close();
    }
  });

  for (const version of ['2025-03-26', '2025-06-18', '2025-11-25']) {
    it(`v1 client offering ${version}: gets that version, and its session works`, async () => {
      const { access_token: token } = await tokenFor(server, 'everything');
      const v1 = await connectV1(url, token, { protocolVersion: version });
      try {
        assert.equal(v1.transport.protocolVersion, version);
        assert.equal(textOf(await v1.client.callTool({ name: 'get-sum', arguments: { a: 1, b: 1 } })), 'The sum of 1 and 1 is 2.');
        assert.ok((await v1.client.listTools()).tools.some((t) => t.name === 'echo'));
      } finally {
        await v1.close();
      }
    });
  }

  it('v2 client (2026-07-28): progress notifications arrive on the request’s own stream', async () => {
    const { access_token: token } = await tokenFor(server, 'everything');
    const v2 = await connectModern(url, token);
    try {
      const progress: number[] = [];
      const result = await v2.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } }, { onprogress: (p) => progress.push(p.progress) });
      assert.deepEqual(progress, [1, 2, 3]);
      assert.equal(textOf(result), 'Long running operation completed. Duration: 0.6 seconds, Steps: 3.');
    } finally {
      await v2.close();
    }
  });

  it('server requests reach the client that caused them: sampling on the v1 client’s POST stream, elicitation as a 2026-07-28 input request to the v2 client', async () => {
    const { access_token: token } = await tokenFor(server, 'everything');
    const v1 = await connectV1(url, token, { capabilities: { sampling: {} } });
    const v2 = await connectModern(url, token, { elicitation: {} });
    try {
      const sampled: string[] = [];
      v1.client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
        sampled.push((request.params.messages[0]!.content as { text: string }).text);
        return { role: 'assistant', content: { type: 'text', text: 'Paris' }, model: 'test-model', stopReason: 'endTurn' };
      });
      const sampling = await v1.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'capital of France?', maxTokens: 5 } });
      assert.deepEqual(sampled, ['Resource trigger-sampling-request context: capital of France?']);
      assert.match(textOf(sampling), /"text": "Paris"/);

      const elicited: string[] = [];
      v2.setRequestHandler('elicitation/create', async (request) => {
        elicited.push(String(request.params.message));
        return { action: 'accept', content: { name: 'Ada Lovelace', check: true } };
      });
      const elicitation = await v2.callTool({ name: 'trigger-elicitation-request', arguments: {} });
      assert.deepEqual(elicited, ['Please provide inputs for the following fields:']);
      assert.match(JSON.stringify(elicitation), /Ada Lovelace/);
    } finally {
      await v1.close();
      await v2.close();
    }
  });

  it('per-user: two users get two processes, each started with its user’s identity — and no token in its environment', async () => {
    const grace = await server.addUser('grace@example.com');
    const adaTokens = await tokenFor(server, 'everything');
    const graceTokens = await tokenFor(server, 'everything', { email: 'grace@example.com' });
    const ada = await connectV1(url, adaTokens.access_token);
    const graceClient = await connectModern(url, graceTokens.access_token);
    try {
      const adaEnv = JSON.parse(textOf(await ada.client.callTool({ name: 'get-env', arguments: {} })));
      const graceEnv = JSON.parse(textOf(await graceClient.callTool({ name: 'get-env', arguments: {} })));
      assert.equal(adaEnv.PORTCULLIS_USER_SUB, server.user.id);
      assert.equal(graceEnv.PORTCULLIS_USER_SUB, grace.id);
      // The client whose request started the process (Ada's was started by an earlier client of hers).
      assert.equal(graceEnv.PORTCULLIS_CLIENT_ID, graceTokens.clientId);
      assert.equal(adaEnv.PORTCULLIS_APPLICATION, 'everything');

      // Two processes, found by pid as an operator would (plus the gateway's own, which lists tools).
      const byUser = new Map(serverProcesses('everything').map((p) => [p.env.PORTCULLIS_USER_SUB, p.pid]));
      assert.ok(byUser.get(server.user.id));
      assert.ok(byUser.get(grace.id));
      assert.notEqual(byUser.get(server.user.id), byUser.get(grace.id));
      assert.ok(byUser.get('gateway:everything'), 'the gateway’s probe has a process of its own');

      // Nothing of the gateway's or the client's secrets reached the process.
      for (const env of [adaEnv, graceEnv, ...serverProcesses('everything').map((p) => p.env)]) {
        const text = JSON.stringify(env);
        for (const secret of [adaTokens.access_token, graceTokens.access_token, adaTokens.refresh_token, graceTokens.refresh_token].filter(Boolean)) {
          assert.ok(!text.includes(secret!), 'no token in the process environment');
        }
        assert.doesNotMatch(text, /bearer|eyJ[\w-]+\.eyJ/i);
        assert.ok(!Object.keys(env).some((k) => /DATABASE|SECRET|TOKEN|PORTCULLIS_TEST/.test(k)), `no gateway configuration in the environment: ${Object.keys(env).join(', ')}`);
      }
    } finally {
      await ada.close();
      await graceClient.close();
    }
  });
});

describe('server-memory over stdio behind the gateway', () => {
  const data = tempDir();
  let server: TestServer;

  before(async () => {
    server = await startGateway([stdioApp('memory', { args: [MEMORY], env: { MEMORY_FILE_PATH: join(data.path, 'memory.jsonl') } })]);
    await waitFor(async () => (await server.store.tools.list('memory')).some((t) => t.name === 'read_graph'), 'the manifest');
  });
  after(async () => {
    await server?.stop();
    data.remove();
  });

  for (const sdk of ['v1', 'v2'] as const) {
    it(`${sdk} client: what one call writes, the next reads back`, async () => {
      const client = await sdkClientFor(server, 'memory', { sdk, registration: 'pre-registered' });
      try {
        assert.equal(await client.connect(), 'redirected');
        // Default scopes are read and write: the destructive delete_* tools stay out of sight.
        await client.authorize();
        const names = await client.toolNames();
        assert.ok(names.includes('create_entities') && names.includes('read_graph'));
        assert.ok(!names.some((n) => n.startsWith('delete_')), names.join(', '));
        await client.call('create_entities', { entities: [{ name: `Project-${sdk}`, entityType: 'project', observations: [`made with the ${sdk} client`] }] });
        const graph = JSON.parse(textOf(await client.call('read_graph', {})));
        const entity = graph.entities.find((e: { name: string }) => e.name === `Project-${sdk}`);
        assert.deepEqual(entity?.observations, [`made with the ${sdk} client`]);
        assertNoServerErrors(client);
      } finally {
        await client.close();
      }
    });
  }
});
