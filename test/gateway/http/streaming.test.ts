/**
 * Streams pass through the gateway as they are produced, never buffered whole: progress
 * notifications of a long-running call arrive while the call is still running, for every
 * protocol revision the SDKs speak (2025-03-26, 2025-06-18, 2025-11-25 with server-everything and
 * the v1 client; 2026-07-28 with our fixture and the v2 client), and the standalone GET stream
 * delivers server-initiated messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  appUrl,
  callTool,
  connectV1,
  connectV2,
  httpApp,
  openSession,
  send,
  sseReader,
  startEverything,
  startFixtureMcp,
  startGateway,
  tokenFor,
  type FixtureMcp,
  type SpawnedServer,
} from '../../helpers/gateway.ts';
import type { TestServer } from '../../helpers/server.ts';

/** One step of the upstream's long-running operation, in ms; the call lasts STEPS × STEP. */
const STEP = 250;
const STEPS = 4;

describe('streaming through the gateway', () => {
  let everything: SpawnedServer;
  let fixture: FixtureMcp;
  let server: TestServer;
  let everyToken: string;
  let fixToken: string;

  before(async () => {
    everything = await startEverything();
    fixture = await startFixtureMcp();
    server = await startGateway([httpApp('every', everything.url), httpApp('fix', fixture.url)]);
    everyToken = (await tokenFor(server, 'every')).access_token;
    fixToken = (await tokenFor(server, 'fix')).access_token;
  });
  after(async () => {
    await server?.stop();
    await everything?.stop();
    await fixture?.stop();
  });

  it('raw SSE: each progress event reaches the client when the upstream sends it, before the result', async () => {
    const url = appUrl(server, 'every');
    const { sessionId, protocolVersion } = await openSession(url, everyToken);
    const started = Date.now();
    const response = await send(url, callTool('trigger-long-running-operation', { duration: (STEPS * STEP) / 1000, steps: STEPS }, 7, { progressToken: 'p1' }), {
      token: everyToken,
      sessionId,
      protocolVersion,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/event-stream/);
    const reader = sseReader(response);
    const progress: number[] = [];
    let resultAt = 0;
    for (let event = await reader.next(); event; event = await reader.next()) {
      if (!event.data) continue; // the priming event
      const message = JSON.parse(event.data);
      if (message.method === 'notifications/progress') {
        assert.equal(message.params.progressToken, 'p1');
        progress.push(event.at - started);
      }
      if (message.id === 7) {
        resultAt = event.at - started;
        assert.match(message.result.content[0].text, /completed/i);
      }
    }
    assert.equal(progress.length, STEPS);
    assert.ok(resultAt > 0, 'the result came');
    // Not buffered: the first progress event came about one step in, well before the result.
    assert.ok(progress[0]! < resultAt - STEP, `first progress at ${progress[0]} ms, result at ${resultAt} ms`);
    assert.ok(progress.at(-1)! - progress[0]! >= STEP, `progress events spread over the call: ${progress.join(', ')}`);
  });

  for (const protocolVersion of ['2025-03-26', '2025-06-18', '2025-11-25']) {
    it(`v1 SDK client at ${protocolVersion}: onprogress fires during the call, the result comes after`, async () => {
      const connection = await connectV1(appUrl(server, 'every'), everyToken, { protocolVersion });
      try {
        const seen: number[] = [];
        const started = Date.now();
        const result = await connection.client.callTool(
          { name: 'trigger-long-running-operation', arguments: { duration: (STEPS * STEP) / 1000, steps: STEPS } },
          CallToolResultSchema,
          { onprogress: () => void seen.push(Date.now() - started) },
        );
        const done = Date.now() - started;
        assert.match((result.content as { text: string }[])[0]!.text, /completed/i);
        assert.equal(seen.length, STEPS);
        assert.ok(seen[0]! < done - STEP, `first progress at ${seen[0]} ms, done at ${done} ms`);
        assert.equal(connection.transport.protocolVersion, protocolVersion, 'the negotiated revision is the one offered');
      } finally {
        await connection.close();
      }
    });
  }

  it('v2 SDK client at 2026-07-28: progress from our fixture arrives during the call', async () => {
    const connection = await connectV2(appUrl(server, 'fix'), fixToken);
    try {
      const seen: number[] = [];
      const started = Date.now();
      const result = await connection.client.callTool({ name: 'count', arguments: { steps: STEPS, delayMs: STEP } }, { onprogress: () => void seen.push(Date.now() - started) });
      const done = Date.now() - started;
      assert.equal((result.content as { text: string }[])[0]!.text, `counted to ${STEPS}`);
      assert.equal(seen.length, STEPS);
      assert.ok(seen[0]! < done - STEP, `first progress at ${seen[0]} ms, done at ${done} ms`);
    } finally {
      await connection.close();
    }
  });

  it('the GET stream delivers what the server sends on its own (server-everything logging), with event ids the gateway bound to the caller', async () => {
    const url = appUrl(server, 'every');
    const { sessionId, protocolVersion } = await openSession(url, everyToken);
    const stream = await send(url, undefined, { method: 'GET', token: everyToken, sessionId, protocolVersion, headers: { accept: 'text/event-stream' } });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type')!, /^text\/event-stream/);
    const reader = sseReader(stream);
    try {
      // Turning simulated logging on sends one message at once, on the GET stream (no related request).
      const toggled = await send(url, callTool('toggle-simulated-logging', {}, 3), { token: everyToken, sessionId, protocolVersion });
      assert.equal(toggled.status, 200);
      await toggled.text();
      let log: { id?: string; data: string } | undefined;
      for (let event = await reader.next(); event; event = await reader.next()) {
        if (event.data && JSON.parse(event.data).method === 'notifications/message') {
          log = event;
          break;
        }
      }
      assert.ok(log, 'a logging notification arrived on the GET stream');
      assert.match(log.id ?? '', /^.+\.[A-Za-z0-9_-]{22}$/, 'its event id is sealed for this caller');
      await send(url, callTool('toggle-simulated-logging', {}, 4), { token: everyToken, sessionId, protocolVersion }).then((r) => r.text());
    } finally {
      await reader.cancel();
    }
  });
});
