/**
 * stdio upstreams through the whole gateway, with tokens from a real sign-in and the real SDK
 * clients: what the process receives (never a token; the caller it is told about is the token's),
 * shared isolation with two callers whose calls interleave, the process cap answered with 503,
 * a crash answered without a hang and recovered from, sessions ended with DELETE, stderr in the
 * gateway's log, and no process left when the gateway stops.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { appUrl, callTool, connectV1, exchange, initialize, openSession, send, sseReader, startGateway, tokenFor, waitFor } from '../../helpers/gateway.ts';
import type { TestServer } from '../../helpers/server.ts';
import { captureLog, connectModern, EVERYTHING, FIXTURE, recorded, serverProcesses, startGatewayLogged, stdioApp, tempDir, textOf } from './helpers.ts';

const manifestReady = (server: TestServer, slug: string, tool: string) =>
  waitFor(async () => (await server.store.tools.list(slug)).some((t) => t.name === tool && t.status === 'approved'), `${slug}'s manifest`, 20_000);

describe('what a stdio process receives through the gateway', () => {
  const dir = tempDir();
  const record = join(dir.path, 'received.jsonl');
  let server: TestServer;
  let url: string;

  before(async () => {
    server = await startGateway([stdioApp('fixture', { args: [FIXTURE], env: { RECORD_FILE: record } })]);
    url = appUrl(server, 'fixture');
    await manifestReady(server, 'fixture', 'whoami');
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  it('never a token: not in its environment, not in any message — and the caller it is told about is the token’s, whatever the client claims', async () => {
    const tokens = await tokenFor(server, 'fixture');
    const v1 = await connectV1(url, tokens.access_token);
    const v2 = await connectModern(url, tokens.access_token);
    try {
      const fromV1 = JSON.parse(textOf(await v1.client.callTool({ name: 'whoami', arguments: {} })));
      const fromV2 = JSON.parse(textOf(await v2.callTool({ name: 'whoami', arguments: {} })));
      for (const seen of [fromV1, fromV2]) {
        assert.deepEqual(seen.caller, { subject: server.user.id, clientId: tokens.clientId, scopes: tokens.scope!.split(' ') });
      }
      // A client naming someone else in _meta is not believed.
      const forged = await exchange(url, callTool('whoami', {}, 9, { 'io.portcullis/caller': { subject: 'someone-else' } }), {
        token: tokens.access_token,
        sessionId: v1.transport.sessionId,
        protocolVersion: '2025-11-25',
      });
      assert.equal(forged.status, 200, forged.text);
      assert.equal(JSON.parse(forged.messages.find((m) => m.id === 9).result.content[0].text).caller.subject, server.user.id);

      const everything = JSON.stringify(recorded(record)) + JSON.stringify(fromV1.env);
      for (const secret of [tokens.access_token, tokens.refresh_token!, tokens.access_token.split('.')[2]!]) assert.ok(!everything.includes(secret), 'a token reached the process');
      assert.doesNotMatch(everything, /authorization|bearer/i);
      assert.ok(recorded(record).length > 5, 'the process did receive the traffic');
    } finally {
      await v1.close();
      await v2.close();
    }
  });

  it('GET stream through the gateway: what came while the client was away is replayed after its Last-Event-ID', async () => {
    const { access_token: token } = await tokenFor(server, 'fixture');
    const { sessionId, protocolVersion } = await openSession(url, token);
    const listen = async (lastEventId?: string) => {
      const response = await send(url, undefined, { method: 'GET', token, sessionId, protocolVersion, headers: lastEventId ? { 'last-event-id': lastEventId } : {} });
      assert.equal(response.status, 200);
      return sseReader(response);
    };
    const first = await listen();
    await exchange(url, callTool('changed', {}, 1), { token, sessionId, protocolVersion });
    const seen = await first.next();
    assert.equal(JSON.parse(seen!.data).method, 'notifications/tools/list_changed');
    await first.cancel();
    await exchange(url, callTool('changed', {}, 2), { token, sessionId, protocolVersion });
    const again = await listen(seen!.id);
    const missed = await again.next();
    assert.equal(JSON.parse(missed!.data).method, 'notifications/tools/list_changed');
    assert.notEqual(missed!.id, seen!.id);
    await again.cancel();
    // An event id is bound to its caller: someone else presenting it on their own session is refused.
    const grace = await server.addUser('grace-resume@example.com');
    const other = (await tokenFor(server, 'fixture', { email: grace.email })).access_token;
    const hers = await openSession(url, other);
    const stolen = await send(url, undefined, { method: 'GET', token: other, sessionId: hers.sessionId, protocolVersion, headers: { 'last-event-id': seen!.id! } });
    assert.equal(stolen.status, 404);
    await stolen.body?.cancel();
  });

  it('DELETE ends the session at the process too: the gateway session is gone, the next request gets 404', async () => {
    const { access_token: token } = await tokenFor(server, 'fixture');
    const v1 = await connectV1(url, token);
    const sessionId = v1.transport.sessionId!;
    await v1.client.callTool({ name: 'whoami', arguments: {} });
    await v1.transport.terminateSession();
    const afterwards = await exchange(url, callTool('whoami'), { token, sessionId, protocolVersion: '2025-11-25' });
    assert.equal(afterwards.status, 404);
    await v1.close();
  });
});

describe('shared isolation: one process, callers kept apart', () => {
  let server: TestServer;
  let url: string;

  before(async () => {
    server = await startGateway([stdioApp('shared', { args: [EVERYTHING, 'stdio'], isolation: 'shared' })]);
    url = appUrl(server, 'shared');
    await manifestReady(server, 'shared', 'trigger-long-running-operation');
    await server.addUser('grace@example.com');
  });
  after(() => server?.stop());

  it('two users’ clients (v1 and v2) call at once; each gets exactly its own progress and its own answer', async () => {
    const adaToken = (await tokenFor(server, 'shared')).access_token;
    const graceToken = (await tokenFor(server, 'shared', { email: 'grace@example.com' })).access_token;
    const ada = await connectV1(url, adaToken);
    const grace = await connectV1(url, graceToken);
    const linus = await connectModern(url, graceToken);
    try {
      // The SDK clients number their requests the same way and use the request id as progress
      // token: all three send the same ids and tokens to one process.
      const run = (call: (onprogress: (p: { progress: number }) => void) => Promise<unknown>) => {
        const progress: number[] = [];
        return call((p) => progress.push(p.progress)).then((result) => ({ text: textOf(result), progress }));
      };
      const [a, g, l] = await Promise.all([
        run((onprogress) => ada.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.9, steps: 3 } }, undefined, { onprogress })),
        run((onprogress) => grace.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.8, steps: 4 } }, undefined, { onprogress })),
        run((onprogress) => linus.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.7, steps: 5 } }, { onprogress })),
      ]);
      assert.deepEqual(a, { text: 'Long running operation completed. Duration: 0.9 seconds, Steps: 3.', progress: [1, 2, 3] });
      assert.deepEqual(g, { text: 'Long running operation completed. Duration: 0.8 seconds, Steps: 4.', progress: [1, 2, 3, 4] });
      assert.deepEqual(l, { text: 'Long running operation completed. Duration: 0.7 seconds, Steps: 5.', progress: [1, 2, 3, 4, 5] });

      const processes = serverProcesses('shared');
      assert.equal(processes.length, 1, 'one process for everyone');
      assert.equal(processes[0]!.env.PORTCULLIS_ISOLATION, 'shared');
      assert.equal(processes[0]!.env.PORTCULLIS_USER_SUB, undefined);
    } finally {
      await ada.close();
      await grace.close();
      await linus.close();
    }
  });
});

describe('shared isolation: server requests', () => {
  let server: TestServer;
  let url: string;

  before(async () => {
    server = await startGateway([stdioApp('shared-ask', { args: [EVERYTHING, 'stdio'], isolation: 'shared' })]);
    url = appUrl(server, 'shared-ask');
    await manifestReady(server, 'shared-ask', 'trigger-sampling-request');
    await server.addUser('grace@example.com');
  });
  after(() => server?.stop());

  it('a sampling request goes to the caller whose call caused it, never to another connected caller', async () => {
    const ada = await connectV1(url, (await tokenFor(server, 'shared-ask')).access_token, { capabilities: { sampling: {} } });
    const grace = await connectV1(url, (await tokenFor(server, 'shared-ask', { email: 'grace@example.com' })).access_token, { capabilities: { sampling: {} } });
    try {
      const asked: string[] = [];
      const answerAs = (who: string) => async () => {
        asked.push(who);
        return { role: 'assistant' as const, content: { type: 'text' as const, text: `answered by ${who}` }, model: 'test', stopReason: 'endTurn' };
      };
      ada.client.setRequestHandler(CreateMessageRequestSchema, answerAs('ada'));
      grace.client.setRequestHandler(CreateMessageRequestSchema, answerAs('grace'));
      const adaResult = await ada.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } });
      const graceResult = await grace.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } });
      assert.deepEqual(asked, ['ada', 'grace']);
      assert.match(textOf(adaResult), /answered by ada/);
      assert.match(textOf(graceResult), /answered by grace/);
    } finally {
      await ada.close();
      await grace.close();
    }
  });
});

describe('faults: the cap, a crash', () => {
  let server: TestServer;
  let url: string;

  before(async () => {
    server = await startGateway([stdioApp('capped', { args: [FIXTURE], maxProcesses: 1 })]);
    url = appUrl(server, 'capped');
    await manifestReady(server, 'capped', 'whoami');
    await server.addUser('grace@example.com');
  });
  after(() => server?.stop());

  it('at maxProcesses, a new user gets 503 with a JSON-RPC error while the running process is in use; a crash is answered, then recovered from', async () => {
    const adaToken = (await tokenFor(server, 'capped')).access_token;
    const graceToken = (await tokenFor(server, 'capped', { email: 'grace@example.com' })).access_token;
    // Ada's client holds its GET stream open: her process is in use (the gateway's own, quiet, made room).
    const ada = await connectV1(url, adaToken);
    try {
      const pid = JSON.parse(textOf(await ada.client.callTool({ name: 'whoami', arguments: {} }))).pid as number;
      const refused = await exchange(url, initialize(), { token: graceToken });
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.messages[0].error.code, -32001);

      // Ada's process dies: her next call fails at once (502 from the gateway, or a JSON-RPC error),
      // never hangs; soon after, the same session works again on a fresh process.
      process.kill(pid, 'SIGKILL');
      const started = Date.now();
      const failed = await ada.client.callTool({ name: 'whoami', arguments: {} }).then(
        () => undefined,
        (err: unknown) => err,
      );
      assert.ok(failed instanceof Error, 'the call fails');
      if (failed instanceof StreamableHTTPError) assert.equal(failed.code, 502);
      else if (failed instanceof Error) assert.equal((failed as { code?: number }).code, -32001);
      assert.ok(Date.now() - started < 2000, 'no hang');
      const restarted = await waitFor(
        () => ada.client.callTool({ name: 'whoami', arguments: {} }).then((r) => JSON.parse(textOf(r)).pid as number, () => undefined),
        'the restarted process to answer',
        10_000,
      );
      assert.notEqual(restarted, pid);
    } finally {
      await ada.close();
    }
  });
});

describe('the gateway’s log and shutdown', () => {
  it('a stdio server’s stderr is in the gateway’s log, named by application; stopping the gateway stops every process', async () => {
    const captured = captureLog();
    const server = await startGatewayLogged([stdioApp('logged', { args: [FIXTURE] })], captured);
    try {
      await manifestReady(server, 'logged', 'spam');
      const { access_token: token } = await tokenFor(server, 'logged');
      const v2 = await connectModern(appUrl(server, 'logged'), token);
      await v2.callTool({ name: 'spam', arguments: { lines: 2, text: 'disk almost full' } });
      await v2.close();
      const lines = await waitFor(() => {
        const found = captured.lines.filter((l) => l.msg === 'stdio server stderr' && String(l.stderr).startsWith('disk almost full'));
        return found.length === 2 && found;
      }, 'stderr in the log');
      assert.deepEqual(lines.map((l) => [l.app, l.upstream, l.sub, l.stderr]), [
        ['logged', 'stdio', server.user.id, 'disk almost full 0'],
        ['logged', 'stdio', server.user.id, 'disk almost full 1'],
      ]);
      assert.equal(serverProcesses('logged').length, 2, 'the user’s process and the gateway’s own');
    } finally {
      await server.stop();
    }
    assert.deepEqual(serverProcesses('logged'), []);
  });
});
