/**
 * `portcullis connect` relays more than tools: with server-everything behind the gateway, a
 * stdio client (v1, 2025 era) gets progress notifications for its request, answers the server's
 * sampling, roots and elicitation requests through the bridge, reads resources, and can cancel a long call without
 * harming the bridge.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, ProgressNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { approveDeviceOverHttp } from '../helpers/device.ts';
import { appUrl, httpApp, startEverything, startGateway, type SpawnedServer } from '../helpers/gateway.ts';
import { TEST_PASSWORD, type TestServer } from '../helpers/server.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('portcullis connect relays progress, server requests, resources and cancellation', () => {
  let everything: SpawnedServer;
  let server: TestServer;
  let client: Client;
  const sampled: string[] = [];
  const elicited: string[] = [];

  before(async () => {
    // Its start is given 15 s by the helper; on a machine busy with the parallel suite, once more.
    everything = await startEverything().catch(() => startEverything());
    server = await startGateway([httpApp('every', everything.url)]);
    const transport = new StdioClientTransport({
      command: join(ROOT, 'node_modules', '.bin', 'node'),
      args: [join(ROOT, 'bin', 'portcullis.js'), 'connect', appUrl(server, 'every')],
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), PORTCULLIS_NO_BROWSER: '1', PORTCULLIS_AUTH_FILE: join(mkdtempSync(join(tmpdir(), 'relay-')), 'auth.json') },
      stderr: 'pipe',
    });
    client = new Client({ name: 'sampling client', version: '1.0.0' }, { capabilities: { sampling: {}, roots: { listChanged: true }, elicitation: {} } });
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///home/ada/notes', name: 'notes-root' }] }));
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      elicited.push(request.params.message);
      return { action: 'decline' };
    });
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const first = request.params.messages[0]!.content as { type: string; text?: string };
      sampled.push(first.text ?? first.type);
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'the answer is 42' } };
    });
    await client.connect(transport);
    const login = (await client.callTool({ name: 'auth_login', arguments: {} })) as unknown as { structuredContent: { user_code: string } };
    await approveDeviceOverHttp(server, login.structuredContent.user_code, { email: server.user.email, password: TEST_PASSWORD });
    const done = (await client.callTool({ name: 'auth_complete', arguments: { wait_seconds: 10 } })) as unknown as { structuredContent: { status: string } };
    assert.equal(done.structuredContent.status, 'signed_in');
  });
  after(async () => {
    await client?.close();
    await server?.stop();
    await everything?.stop();
  });

  it('progress notifications of a long call reach the client under its own progress token, all before the answer', async () => {
    // Read at the notification level: the SDK client hands a notification to its handler a
    // microtask late and forgets the request's onprogress as soon as the answer arrives, so a last
    // progress read in the same chunk as the answer never reaches onprogress — whoever sent it.
    const seen: { token: unknown; progress: number }[] = [];
    client.setNotificationHandler(ProgressNotificationSchema, (notification) => {
      seen.push({ token: notification.params.progressToken, progress: notification.params.progress });
    });
    let onprogress = 0;
    try {
      const result = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } }, undefined, {
        onprogress: () => onprogress++,
      });
      assert.equal(result.isError ?? false, false, JSON.stringify(result));
    } finally {
      const internal = client as unknown as { _onprogress(notification: unknown): void };
      client.setNotificationHandler(ProgressNotificationSchema, (notification) => internal._onprogress(notification));
    }
    assert.deepEqual(seen.map((s) => s.progress), [1, 2, 3]);
    assert.equal(new Set(seen.map((s) => s.token)).size, 1, 'one token: the one the client sent');
    assert.ok(typeof seen[0]!.token === 'number', 'the client\'s own token (a number), not the bridge\'s');
  });

  it("the remote server's sampling request is answered by the local client", async () => {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes('trigger-sampling-request'), 'the upstream saw a client that can sample');
    const result = (await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'What is six times seven?', maxTokens: 20 } })) as { content: Array<{ text?: string }> };
    assert.equal(sampled.length, 1);
    assert.match(sampled[0]!, /What is six times seven\?/);
    assert.match(JSON.stringify(result.content), /the answer is 42/);
  });

  it("the remote server's roots and elicitation requests are answered by the local client", async () => {
    const roots = (await client.callTool({ name: 'get-roots-list', arguments: {} })) as { content: Array<{ text?: string }> };
    assert.match(JSON.stringify(roots.content), /notes-root/);
    const elicit = (await client.callTool({ name: 'trigger-elicitation-request', arguments: {} })) as { content: Array<{ text?: string }> };
    assert.equal(elicited.length, 1);
    assert.match(JSON.stringify(elicit.content), /decline/i);
  });

  it('resources are listed and read through the bridge', async () => {
    const { resources } = await client.listResources();
    assert.ok(resources.length > 0);
    const read = await client.readResource({ uri: resources[0]!.uri });
    assert.ok(read.contents.length > 0);
  });

  it('a cancelled call ends at once, and the next call works', async () => {
    const abort = new AbortController();
    const pending = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 10, steps: 10 } }, undefined, { signal: abort.signal });
    setTimeout(() => abort.abort('user cancelled'), 300);
    const started = Date.now();
    await assert.rejects(pending);
    assert.ok(Date.now() - started < 5000);
    const echo = (await client.callTool({ name: 'echo', arguments: { message: 'still here' } })) as { content: Array<{ text?: string }> };
    assert.equal(echo.content[0]!.text, 'Echo: still here');
  });
});
