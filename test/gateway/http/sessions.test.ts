/**
 * Sessions, resumable streams and tasks belong to the (user, client, application) that opened
 * them (MCP transports, "Session Management" and "Resumability and Redelivery"; MCP security best
 * practices, "Session Hijacking"). The gateway mints its own Mcp-Session-Id — the upstream's never
 * leaves the gateway — and anyone else presenting a session id, a Last-Event-ID or a task id gets
 * 404, exactly as if it did not exist. Against server-everything (sessions, an event store for
 * resumption, tasks), on every store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { serverTargets } from '../../helpers/authz.ts';
import {
  answerTo,
  appUrl,
  callTool,
  connectV1,
  exchange,
  httpApp,
  openSession,
  request,
  send,
  sseReader,
  startEverything,
  startGateway,
  tokenFor,
  waitFor,
  type SpawnedServer,
} from '../../helpers/gateway.ts';
import type { TestServer } from '../../helpers/server.ts';
import type { TokenSet } from '../../guard/sign-in.ts';

const VERSION = '2025-11-25';

/**
 * server-everything's event store replays only what it has stored when the client reconnects
 * (its replay returns an event id where the SDK expects a stream id, so events stored later are
 * not sent on the resumed stream). A resuming client here therefore reconnects once the
 * operation (OPERATION_MS long) is over: everything after its Last-Event-ID is then replayed.
 */
const OPERATION_MS = 1000;
const untilOperationOver = (started: number) => sleep(Math.max(0, started + OPERATION_MS + 200 - Date.now()));

/** Session ids server-everything created (it logs each one). */
function upstreamSessionIds(everything: SpawnedServer): string[] {
  return [...everything.output().matchAll(/Session initialized with ID: ([0-9a-f-]{36})/g)].map((m) => m[1]!);
}

describe('sessions, streams and tasks belong to their opener', () => {
  let everything: SpawnedServer;
  before(async () => {
    everything = await startEverything();
  });
  after(() => everything?.stop());

  for (const target of serverTargets()) {
    describe(`${target.dialect} store`, { skip: target.skip }, () => {
      let server: TestServer;
      let url: string;
      /** ada with her client. */
      let owner: string;
      let ownerSet: TokenSet;
      /** ada again, through another client. */
      let otherClient: string;
      /** grace. */
      let otherUser: string;

      before(async () => {
        server = await startGateway([httpApp('every', everything.url), httpApp('twin', everything.url)], {}, target);
        url = appUrl(server, 'every');
        await server.addUser('grace@example.com');
        ownerSet = await tokenFor(server, 'every');
        owner = ownerSet.access_token;
        otherClient = (await tokenFor(server, 'every')).access_token;
        otherUser = (await tokenFor(server, 'every', { email: 'grace@example.com' })).access_token;
      });
      after(() => server?.stop());

      it("the gateway hands out its own session id, never the upstream's", async () => {
        const before = new Set(upstreamSessionIds(everything));
        const { sessionId, init } = await openSession(url, owner);
        const created = await waitFor(() => upstreamSessionIds(everything).find((id) => !before.has(id)), 'server-everything to log its session id');
        assert.notEqual(sessionId, created);
        assert.ok(!sessionId.includes(created));
        for (const [name, value] of init.headers) assert.ok(!value.includes(created), `the upstream session id leaked in ${name}`);
        assert.ok(!init.text.includes(created), 'nor in the body');
        // The upstream's id means nothing at the gateway.
        const guessed = await exchange(url, request('tools/list'), { token: owner, sessionId: created, protocolVersion: VERSION });
        assert.equal(guessed.status, 404);
      });

      it('another user, or the same user through another client, presenting the session id gets 404; the owner carries on', async () => {
        const { sessionId } = await openSession(url, owner);
        for (const token of [otherUser, otherClient]) {
          for (const method of ['POST', 'GET', 'DELETE']) {
            const stolen = await exchange(url, request('tools/list'), { token, sessionId, protocolVersion: VERSION, method, headers: method === 'GET' ? { accept: 'text/event-stream' } : {} });
            assert.equal(stolen.status, 404, `${method} with a stolen session id`);
            assert.equal(stolen.messages[0]?.error?.code, -32600);
          }
        }
        const mine = await exchange(url, request('tools/list'), { token: owner, sessionId, protocolVersion: VERSION });
        assert.equal(mine.status, 200, 'the stolen DELETEs ended nothing');
        assert.ok(answerTo(mine, 1).result.tools.length > 0);
      });

      it("a session belongs to its application too: the same user's token for another application, in front of the same upstream, gets 404", async () => {
        const { sessionId } = await openSession(url, owner);
        // Same user, same client: only the application differs.
        const twinToken = (await tokenFor(server, 'twin', { clientId: ownerSet.clientId })).access_token;
        const elsewhere = await exchange(appUrl(server, 'twin'), request('tools/list'), { token: twinToken, sessionId, protocolVersion: VERSION });
        assert.equal(elsewhere.status, 404);
      });

      it('v1 SDK client: its session works, and terminating it (DELETE) ends it at the gateway and at the upstream', async () => {
        const connection = await connectV1(url, owner);
        const sessionId = connection.transport.sessionId!;
        assert.ok(sessionId);
        assert.ok(!upstreamSessionIds(everything).includes(sessionId));
        assert.ok((await connection.client.listTools()).tools.length > 0);
        const upstreamCountBefore = (everything.output().match(/Received session termination request/g) ?? []).length;
        await connection.transport.terminateSession();
        await connection.close();
        await waitFor(() => (everything.output().match(/Received session termination request/g) ?? []).length > upstreamCountBefore, 'the upstream to see the DELETE');
        const after = await exchange(url, request('tools/list'), { token: owner, sessionId, protocolVersion: VERSION });
        assert.equal(after.status, 404, 'an ended session is gone');
      });

      for (const version of ['2025-03-26', '2025-06-18', '2025-11-25']) {
        it(`v1 SDK client at ${version}: a session with filtered tools, a refused write, the GET stream, and DELETE`, async () => {
          const readOnly = (await tokenFor(server, 'every', { scope: 'every:read' })).access_token;
          const connection = await connectV1(url, readOnly, { protocolVersion: version });
          const sessionId = connection.transport.sessionId!;
          try {
            assert.equal(connection.transport.protocolVersion, version);
            const names = (await connection.client.listTools()).tools.map((t) => t.name);
            assert.ok(names.includes('echo') && !names.includes('toggle-simulated-logging'));
            const echo = await connection.client.callTool({ name: 'echo', arguments: { message: version } });
            assert.equal((echo.content as { text: string }[])[0]!.text, `Echo: ${version}`);
            await assert.rejects(connection.client.callTool({ name: 'toggle-simulated-logging', arguments: {} }), (err: { code?: number }) => err.code === 403);
            // The SDK opened the GET stream after initialize; it is this session's, through the gateway.
            const stream = await exchange(url, undefined, { method: 'GET', token: otherUser, sessionId, protocolVersion: version, headers: { accept: 'text/event-stream' } });
            assert.equal(stream.status, 404, "nobody else's GET stream");
            await connection.transport.terminateSession();
          } finally {
            await connection.close();
          }
          assert.equal((await exchange(url, request('tools/list'), { token: readOnly, sessionId, protocolVersion: version })).status, 404);
        });
      }

      for (const VERSION of ['2025-03-26', '2025-11-25']) {
        it(`resumption at ${VERSION}: the owner reconnects with Last-Event-ID and gets the rest of the stream; anyone else gets 404`, async () => {
          const { sessionId } = await openSession(url, owner, VERSION);
          const started = Date.now();
          const call = await send(url, callTool('trigger-long-running-operation', { duration: OPERATION_MS / 1000, steps: 4 }, 9, { progressToken: 'r' }), { token: owner, sessionId, protocolVersion: VERSION });
          const reader = sseReader(call);
          let lastId: string | undefined;
          let progressSeen = 0;
          for (let event = await reader.next(); event; event = await reader.next()) {
            if (event.id) lastId = event.id;
            if (event.data && JSON.parse(event.data).method === 'notifications/progress') progressSeen++;
            if (progressSeen === 1) break;
          }
          await reader.cancel(); // the connection drops after the first progress event
          assert.ok(lastId, 'events carry ids (the upstream has an event store)');

          // Someone else, in their own session, presenting the owner's event id: 404.
          const { sessionId: graceSession } = await openSession(url, otherUser, VERSION);
          for (const [token, session] of [
            [otherUser, graceSession],
            [otherUser, sessionId],
            [otherClient, sessionId],
          ] as const) {
            const replay = await exchange(url, undefined, { method: 'GET', token, sessionId: session, protocolVersion: VERSION, headers: { accept: 'text/event-stream', 'last-event-id': lastId } });
            assert.equal(replay.status, 404);
          }
          // A tampered id (the upstream's id with someone's guess at the seal) is refused too.
          const tampered = `${lastId.slice(0, lastId.lastIndexOf('.'))}.${'A'.repeat(22)}`;
          const forged = await exchange(url, undefined, { method: 'GET', token: owner, sessionId, protocolVersion: VERSION, headers: { accept: 'text/event-stream', 'last-event-id': tampered } });
          assert.equal(forged.status, 404);

          await untilOperationOver(started);
          const resumed = await send(url, undefined, { method: 'GET', token: owner, sessionId, protocolVersion: VERSION, headers: { accept: 'text/event-stream', 'last-event-id': lastId } });
          assert.equal(resumed.status, 200);
          const rest = sseReader(resumed);
          const messages: any[] = [];
          for (let event = await rest.next(); event; event = await rest.next()) {
            if (!event.data) continue;
            const message = JSON.parse(event.data);
            messages.push(message);
            if (message.id === 9) break;
          }
          await rest.cancel();
          assert.equal(messages.filter((m) => m.method === 'notifications/progress').length, 3, 'the three progress events after the first');
          assert.match(messages.at(-1).result.content[0].text, /completed/i, 'and the result');
        });
      }

      it('v1 SDK client: every event id reaches it (the priming event too), and it resumes a dropped call with its last resumption token', async () => {
        const first = await connectV1(url, owner);
        const sessionId = first.transport.sessionId!;
        const started = Date.now();
        const tokens: string[] = [];
        const dropped = Promise.withResolvers<void>();
        const pending = first.client
          .callTool({ name: 'trigger-long-running-operation', arguments: { duration: OPERATION_MS / 1000, steps: 4 } }, CallToolResultSchema, {
            onresumptiontoken: (token) => void tokens.push(token),
            onprogress: () => dropped.resolve(),
          })
          .catch(() => 'dropped');
        await dropped.promise;
        // The priming event (2025-11-25: an id with empty data, sent first) must have reached the SDK.
        assert.ok(tokens.length >= 2, `resumption tokens seen before the first progress: ${tokens.length}`);
        await first.transport.close(); // the network goes away mid-call
        assert.equal(await pending, 'dropped');
        await untilOperationOver(started);

        const second = await connectV1(url, owner, { sessionId });
        try {
          const result = await second.client.request(
            { method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 4 } } },
            CallToolResultSchema,
            { resumptionToken: tokens.at(-1) },
          );
          assert.match((result.content as { text: string }[])[0]!.text, /completed/i);
        } finally {
          await second.close();
        }
      });

      it('tasks: a task belongs to whoever created it; tasks/get, tasks/cancel by anyone else get 404 and tasks/list hides it', async () => {
        const { sessionId, protocolVersion } = await openSession(url, owner);
        const created = await exchange(url, request('tools/call', { name: 'simulate-research-query', arguments: { topic: 'portcullis' }, task: { ttl: 60_000 } }, 1), {
          token: owner,
          sessionId,
          protocolVersion,
        });
        const taskId = answerTo(created, 1).result.task?.taskId as string;
        assert.ok(taskId, `a task was created: ${created.text.slice(0, 300)}`);

        const mine = await exchange(url, request('tasks/get', { taskId }, 2), { token: owner, sessionId, protocolVersion });
        assert.equal(mine.status, 200);
        assert.equal(answerTo(mine, 2).result.taskId, taskId);

        for (const token of [otherUser, otherClient]) {
          const theirs = await openSession(url, token);
          for (const method of ['tasks/get', 'tasks/cancel', 'tasks/result']) {
            const stolen = await exchange(url, request(method, { taskId }, 3), { token, sessionId: theirs.sessionId, protocolVersion: theirs.protocolVersion });
            assert.equal(stolen.status, 404, `${method} on another's task`);
            assert.equal(answerTo(stolen, 3).error.code, -32602);
          }
          const list = await exchange(url, request('tasks/list', {}, 4), { token, sessionId: theirs.sessionId, protocolVersion: theirs.protocolVersion });
          const listed = (answerTo(list, 4).result?.tasks ?? []) as { taskId: string }[];
          assert.ok(!listed.some((t) => t.taskId === taskId));
        }
        const cancelled = await exchange(url, request('tasks/cancel', { taskId }, 5), { token: owner, sessionId, protocolVersion });
        assert.equal(cancelled.status, 200);
        assert.equal(answerTo(cancelled, 5).result.status, 'cancelled');
      });
    });
  }
});
