/**
 * The stdio bridge on its own (no gateway in front): what a process receives and what each client
 * gets back, with a recording fixture server so every assertion is on the exact wire.
 *
 * MCP 2025-11-25 lifecycle (one initialize per process, version negotiation), Streamable HTTP
 * sessions, GET stream and resumption, batches, cancellation; 2026-07-28 server/discover and
 * stateless requests; the caller's identity in `_meta` and in the per-user environment.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { StdioUpstream } from '../../../src/core/application.ts';
import type { CallerIdentity } from '../../../src/gateway/caller.ts';
import { CALLER_META_KEY, createStdioUpstream, IDENTITY_ENV, type StdioBridge } from '../../../src/gateway/upstreams/stdio/index.ts';
import { isPortcullisError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/log.ts';
import { sseReader, toExchange, waitFor, type Exchange } from '../../helpers/gateway.ts';
import { bridgeClient, caller, FIXTURE, recorded, stdioUpstream, tempDir, textOf } from './helpers.ts';

const dir = tempDir();
after(() => dir.remove());
let files = 0;

function fixtureBridge(extra: Partial<StdioUpstream> = {}, env: Record<string, string> = {}): { bridge: StdioBridge; record: string } {
  const record = join(dir.path, `record-${++files}.jsonl`);
  const bridge = createStdioUpstream(stdioUpstream([FIXTURE], { env: { RECORD_FILE: record, ...env }, ...extra }), { application: 'fixture', log: silentLogger() });
  return { bridge, record };
}

interface PostOptions {
  sessionId?: string;
  accept?: string;
  protocolVersion?: string;
  lastEventId?: string;
  signal?: AbortSignal;
}

function headersFor(options: PostOptions): Headers {
  const headers = new Headers({ 'content-type': 'application/json', accept: options.accept ?? 'application/json, text/event-stream' });
  if (options.sessionId) headers.set('mcp-session-id', options.sessionId);
  if (options.protocolVersion) headers.set('mcp-protocol-version', options.protocolVersion);
  if (options.lastEventId) headers.set('last-event-id', options.lastEventId);
  return headers;
}

/** One raw POST to the bridge, read to the end. */
async function post(bridge: StdioBridge, who: CallerIdentity, body: unknown, options: PostOptions = {}): Promise<Exchange> {
  const response = (await bridge.send({
    method: 'POST',
    headers: headersFor(options),
    body: new TextEncoder().encode(JSON.stringify(body)),
    signal: options.signal ?? new AbortController().signal,
    caller: who,
    messages: [body].flat(),
  })) as Response;
  return toExchange(response, await response.text());
}

async function openSession(bridge: StdioBridge, who: CallerIdentity, protocolVersion = '2025-11-25', capabilities: Record<string, unknown> = {}) {
  const init = await post(bridge, who, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion, capabilities, clientInfo: { name: 'raw', version: '1' } } });
  assert.equal(init.status, 200, init.text);
  const sessionId = init.headers.get('mcp-session-id')!;
  assert.ok(sessionId);
  const ack = await post(bridge, who, { jsonrpc: '2.0', method: 'notifications/initialized' }, { sessionId });
  assert.equal(ack.status, 202);
  return { sessionId, result: init.messages[0].result };
}

const call = (id: number | string, name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
});

function answer(ex: Exchange, id: number | string): any {
  const found = ex.messages.find((m) => m.id === id && ('result' in m || 'error' in m));
  assert.ok(found, `no answer to ${id}: ${ex.text}`);
  return found;
}

const whoamiOf = (ex: Exchange, id: number | string) => JSON.parse(answer(ex, id).result.content[0].text);

describe('stdio bridge: lifecycle as the process sees it', () => {
  it('initializes the process once; later sessions get the cached answer and their notifications/initialized never reach it', async () => {
    const { bridge, record } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const first = await bridgeClient(bridge, ada);
    const second = await bridgeClient(bridge, ada);
    const third = await openSession(bridge, ada, '2025-03-26');

    const seen = JSON.parse(textOf(await second.callTool({ name: 'whoami', arguments: {} })));
    assert.deepEqual(seen.counts, { initialize: 1, initialized: 1 });
    assert.equal(JSON.parse(textOf(await first.callTool({ name: 'whoami', arguments: {} }))).pid, seen.pid, 'one process for all of a user’s sessions');
    const inits = recorded(record).filter((m) => m.method === 'initialize');
    assert.equal(inits.length, 1);
    assert.equal(inits[0].params.clientInfo.name, 'portcullis-gateway');
    assert.equal(recorded(record).filter((m) => m.method === 'notifications/initialized').length, 1);

    // Every session is told what the process said, under the version negotiated for it.
    assert.equal(first.getServerVersion()?.name, 'stdio-fixture');
    assert.equal(first.getInstructions(), 'A fixture for the stdio bridge tests.');
    assert.equal(third.result.protocolVersion, '2025-03-26');
    assert.equal(third.result.serverInfo.name, 'stdio-fixture');
    assert.deepEqual(Object.keys(third.result.capabilities).sort(), ['logging', 'resources', 'tools']);
    await first.close();
    await second.close();
  });

  it('negotiates each session’s version against the one the process speaks', async () => {
    const { bridge } = fixtureBridge({}, { FIXTURE_PROTOCOL: '2025-06-18' });
    after(() => bridge.close());
    const ada = caller('ada');
    // Same or older than the process's: granted. Newer or unknown: the process's own.
    assert.equal((await openSession(bridge, ada, '2025-06-18')).result.protocolVersion, '2025-06-18');
    assert.equal((await openSession(bridge, ada, '2025-03-26')).result.protocolVersion, '2025-03-26');
    assert.equal((await openSession(bridge, ada, '2025-11-25')).result.protocolVersion, '2025-06-18');
    assert.equal((await openSession(bridge, ada, '2099-01-01')).result.protocolVersion, '2025-06-18');
  });

  it('refuses requests without a session (400), with an unknown or someone else’s session (404), and after DELETE (404)', async () => {
    const { bridge } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const { sessionId } = await openSession(bridge, ada);
    const noSession = await post(bridge, ada, call(1, 'whoami'));
    assert.equal(noSession.status, 400);
    assert.equal(noSession.messages[0].error.code, -32000);
    assert.equal((await post(bridge, ada, call(1, 'whoami'), { sessionId: 'nope' })).status, 404);
    // The gateway already hides sessions from other callers; the bridge checks again.
    assert.equal((await post(bridge, caller('grace'), call(1, 'whoami'), { sessionId })).status, 404);
    assert.equal((await post(bridge, caller('ada', 'another-client'), call(1, 'whoami'), { sessionId })).status, 404);
    assert.equal((await post(bridge, ada, call(1, 'whoami'), { sessionId })).status, 200);

    const deleted = (await bridge.send({ method: 'DELETE', headers: headersFor({ sessionId }), signal: new AbortController().signal, caller: ada })) as Response;
    assert.equal(deleted.status, 200);
    const afterDelete = await post(bridge, ada, call(2, 'whoami'), { sessionId });
    assert.equal(afterDelete.status, 404);
    assert.equal(afterDelete.messages[0].error.code, -32001);
  });
});

describe('stdio bridge: who is calling', () => {
  it('every request carries the caller in _meta["io.portcullis/caller"]; a client cannot forge or add to it', async () => {
    const { bridge, record } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada', 'client-a', ['fixture:read']);
    const { sessionId } = await openSession(bridge, ada);
    const forged = { [CALLER_META_KEY]: { subject: 'mallory', clientId: 'evil', scopes: ['everything'] }, 'io.portcullis/admin': true, 'example.com/keep': 1 };
    const ex = await post(bridge, ada, call(7, 'whoami', {}, forged), { sessionId });
    assert.deepEqual(whoamiOf(ex, 7).caller, { subject: 'ada', clientId: 'client-a', scopes: ['fixture:read'] });

    const received = recorded(record).find((m) => m.method === 'tools/call');
    assert.deepEqual(Object.keys(received.params._meta).sort(), ['example.com/keep', CALLER_META_KEY]);
    // Notifications and answers to server requests are cleaned too.
    await post(bridge, ada, { jsonrpc: '2.0', method: 'notifications/roots/list_changed', params: { _meta: forged } }, { sessionId });
    await waitFor(() => recorded(record).some((m) => m.method === 'notifications/roots/list_changed'), 'the notification');
    const notification = recorded(record).find((m) => m.method === 'notifications/roots/list_changed');
    assert.deepEqual(notification.params._meta, { 'example.com/keep': 1 });
  });

  it('per-user: each user gets a process of their own, started with their identity in its environment', async () => {
    const { bridge } = fixtureBridge();
    after(() => bridge.close());
    const ada = await bridgeClient(bridge, caller('ada', 'ada-laptop'));
    const grace = await bridgeClient(bridge, caller('grace', 'grace-desktop'));
    const adaSees = JSON.parse(textOf(await ada.callTool({ name: 'whoami', arguments: {} })));
    const graceSees = JSON.parse(textOf(await grace.callTool({ name: 'whoami', arguments: {} })));
    assert.notEqual(adaSees.pid, graceSees.pid);
    assert.deepEqual(adaSees.env, { [IDENTITY_ENV.application]: 'fixture', [IDENTITY_ENV.isolation]: 'per-user', [IDENTITY_ENV.subject]: 'ada', [IDENTITY_ENV.clientId]: 'ada-laptop' });
    assert.equal(graceSees.env[IDENTITY_ENV.subject], 'grace');
    assert.equal(adaSees.caller.subject, 'ada');
    assert.equal(graceSees.caller.subject, 'grace');
    assert.deepEqual(bridge.processes().map((p) => p.key).sort(), ['user:ada', 'user:grace']);
    await ada.close();
    await grace.close();
  });

  it('shared: one process for everyone, no user in its environment, each request still names its caller', async () => {
    const { bridge } = fixtureBridge({ isolation: 'shared' }, { [IDENTITY_ENV.subject]: 'configured-cannot-spoof' });
    after(() => bridge.close());
    const ada = await bridgeClient(bridge, caller('ada'));
    const grace = await bridgeClient(bridge, caller('grace'));
    const adaSees = JSON.parse(textOf(await ada.callTool({ name: 'whoami', arguments: {} })));
    const graceSees = JSON.parse(textOf(await grace.callTool({ name: 'whoami', arguments: {} })));
    assert.equal(adaSees.pid, graceSees.pid);
    assert.deepEqual(adaSees.env, { [IDENTITY_ENV.application]: 'fixture', [IDENTITY_ENV.isolation]: 'shared' });
    assert.equal(adaSees.caller.subject, 'ada');
    assert.equal(graceSees.caller.subject, 'grace');
    await ada.close();
    await grace.close();
  });
});

describe('stdio bridge: routing', () => {
  it('shared: concurrent calls with the same ids and progress tokens each get exactly their own answers and progress', async () => {
    const { bridge, record } = fixtureBridge({ isolation: 'shared' });
    after(() => bridge.close());
    const who = ['ada', 'grace', 'linus'].map((name) => caller(name));
    const sessions = await Promise.all(who.map((w) => openSession(bridge, w)));
    // Same JSON-RPC id and the same progress token in every session, all in flight at once.
    const exchanges = await Promise.all(
      who.map((w, i) => post(bridge, w, call(1, 'slow', { ms: 150 + 50 * i, steps: 3, tag: w.subject }, { progressToken: 'p' }), { sessionId: sessions[i]!.sessionId })),
    );
    exchanges.forEach((ex, i) => {
      const tag = who[i]!.subject;
      assert.equal(answer(ex, 1).result.content[0].text, tag);
      const progress = ex.messages.filter((m) => m.method === 'notifications/progress');
      assert.deepEqual(progress.map((p) => [p.params.progressToken, p.params.progress, p.params.message]), [1, 2, 3].map((n) => ['p', n, tag]));
      assert.equal(ex.messages.length, 4, 'nothing of anyone else’s');
    });
    // The process saw three different ids and tokens.
    const calls = recorded(record).filter((m) => m.method === 'tools/call');
    assert.equal(new Set(calls.map((m) => m.id)).size, 3);
    assert.equal(new Set(calls.map((m) => m.params._meta.progressToken)).size, 3);
  });

  it('a batch is answered as a batch: SSE when accepted, a JSON array otherwise', async () => {
    const { bridge } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const { sessionId } = await openSession(bridge, ada);
    const batch = [call(1, 'slow', { ms: 60, tag: 'one' }), call(2, 'slow', { ms: 10, tag: 'two' }), { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }];
    const sse = await post(bridge, ada, batch, { sessionId });
    assert.equal(sse.headers.get('content-type'), 'text/event-stream');
    assert.equal(answer(sse, 1).result.content[0].text, 'one');
    assert.equal(answer(sse, 2).result.content[0].text, 'two');
    const plain = await post(bridge, ada, batch, { sessionId, accept: 'application/json' });
    assert.equal(plain.headers.get('content-type'), 'application/json');
    assert.ok(Array.isArray(JSON.parse(plain.text)));
    assert.deepEqual(plain.messages.map((m) => m.id).sort(), [1, 2]);
    const single = await post(bridge, ada, call(3, 'whoami'), { sessionId, accept: 'application/json' });
    assert.equal(answer(single, 3).id, 3);
    assert.ok(!Array.isArray(JSON.parse(single.text)));
  });

  it('server requests reach the client of the request that caused them, and only a client that can answer them', async () => {
    const { bridge } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const asked: string[] = [];
    const withRoots = await bridgeClient(bridge, ada, 'legacy', { roots: {} });
    withRoots.setRequestHandler('roots/list', async () => {
      asked.push('roots/list');
      return { roots: [{ uri: 'file:///home/ada', name: 'home' }] };
    });
    const roots = JSON.parse(textOf(await withRoots.callTool({ name: 'ask', arguments: { method: 'roots/list' } })));
    assert.deepEqual(roots.roots, [{ uri: 'file:///home/ada', name: 'home' }]);
    assert.deepEqual(asked, ['roots/list']);

    // A client that did not declare sampling is never asked: the process gets "method not found".
    const plain = await bridgeClient(bridge, ada);
    const refused = JSON.parse(textOf(await plain.callTool({ name: 'ask', arguments: { method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } } })));
    assert.equal(refused.error.code, -32601);
    await withRoots.close();
    await plain.close();
  });

  it('shared: a server request nobody can be sure is theirs is refused, never sent to another caller', async () => {
    const { bridge } = fixtureBridge({ isolation: 'shared' });
    after(() => bridge.close());
    const ada = caller('ada');
    const grace = caller('grace');
    const a = await openSession(bridge, ada, '2025-11-25', { roots: {} });
    const g = await openSession(bridge, grace, '2025-11-25', { roots: {} });
    // Grace's GET stream is open, so anything for her would show there.
    const graceStream = (await bridge.send({ method: 'GET', headers: headersFor({ sessionId: g.sessionId, accept: 'text/event-stream' }), signal: new AbortController().signal, caller: grace })) as Response;
    const graceEvents = sseReader(graceStream);
    // Grace's slow call is in flight while Ada's call asks for roots: two callers in flight.
    const graceCall = post(bridge, grace, call(1, 'slow', { ms: 400, tag: 'grace' }), { sessionId: g.sessionId });
    await new Promise((r) => setTimeout(r, 50));
    const adaAsk = await post(bridge, ada, call(1, 'ask', { method: 'roots/list' }), { sessionId: a.sessionId });
    assert.equal(JSON.parse(answer(adaAsk, 1).result.content[0].text).error.code, -32601);
    assert.ok(!adaAsk.messages.some((m) => m.method === 'roots/list'));
    const graceEx = await graceCall;
    assert.ok(!graceEx.messages.some((m) => m.method === 'roots/list'));
    // Announce a change so Grace's stream has something to show, then check it carried no request.
    await post(bridge, ada, call(2, 'changed'), { sessionId: a.sessionId });
    const event = await graceEvents.next();
    assert.equal(JSON.parse(event!.data).method, 'notifications/tools/list_changed');
    await graceEvents.cancel();
  });

  it('per-user: a server request with no request in flight goes to the user’s session on its GET stream, and the answer back to the process', async () => {
    const { bridge, record } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const { sessionId } = await openSession(bridge, ada, '2025-11-25', { roots: {} });
    const stream = sseReader((await bridge.send({ method: 'GET', headers: headersFor({ sessionId, accept: 'text/event-stream' }), signal: new AbortController().signal, caller: ada })) as Response);
    await post(bridge, ada, call(1, 'ask-later', { method: 'roots/list', ms: 50 }), { sessionId });
    const request = JSON.parse((await stream.next())!.data);
    assert.equal(request.method, 'roots/list');
    await post(bridge, ada, { jsonrpc: '2.0', id: request.id, result: { roots: [{ uri: 'file:///later' }] } }, { sessionId });
    const answered = await waitFor(() => recorded(record).find((m) => 'result' in m && m.result.roots), 'the answer to reach the process');
    assert.match(String(answered.id), /^srv-/, 'under the id the process used');
    assert.deepEqual(answered.result.roots, [{ uri: 'file:///later' }]);
    await stream.cancel();
  });

  it('shared: another caller can neither answer someone’s server request nor cancel someone’s call', async () => {
    const { bridge } = fixtureBridge({ isolation: 'shared' });
    after(() => bridge.close());
    const ada = caller('ada');
    const grace = caller('grace');
    const a = await openSession(bridge, ada, '2025-11-25', { roots: {} });
    const g = await openSession(bridge, grace, '2025-11-25', { roots: {} });
    const postStream = async (who: CallerIdentity, body: unknown, sessionId: string) =>
      sseReader((await bridge.send({ method: 'POST', headers: headersFor({ sessionId }), signal: new AbortController().signal, caller: who, messages: [body] })) as Response);

    const adaCall = await postStream(ada, call(1, 'ask', { method: 'roots/list' }), a.sessionId);
    const request = JSON.parse((await adaCall.next())!.data);
    assert.equal(request.method, 'roots/list');
    // Grace answers it (guessing the id): not taken.
    const forged = await post(bridge, grace, { jsonrpc: '2.0', id: request.id, result: { roots: [{ uri: 'file:///grace' }] } }, { sessionId: g.sessionId });
    assert.equal(forged.status, 202);
    await post(bridge, ada, { jsonrpc: '2.0', id: request.id, result: { roots: [{ uri: 'file:///ada' }] } }, { sessionId: a.sessionId });
    const result = JSON.parse((await adaCall.next())!.data);
    assert.deepEqual(JSON.parse(result.result.content[0].text).roots, [{ uri: 'file:///ada' }]);

    // Grace cancels "request 2" while Ada's request 2 runs: Ada's call is not touched.
    const slow = post(bridge, ada, call(2, 'slow', { ms: 300, tag: 'ada' }), { sessionId: a.sessionId });
    await new Promise((r) => setTimeout(r, 50));
    await post(bridge, grace, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } }, { sessionId: g.sessionId });
    assert.equal(answer(await slow, 2).result.content[0].text, 'ada');
  });

  it('GET stream: messages outside any POST go there; a reconnect with Last-Event-ID replays what was missed', async () => {
    const { bridge } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const { sessionId } = await openSession(bridge, ada);
    const listen = (lastEventId?: string) => {
      const abort = new AbortController();
      const response = bridge.send({ method: 'GET', headers: headersFor({ sessionId, accept: 'text/event-stream', lastEventId }), signal: abort.signal, caller: ada });
      return { response: response as Promise<Response>, abort };
    };
    const first = listen();
    const reader = sseReader(await first.response);
    await post(bridge, ada, call(1, 'changed', { uri: 'memo://x' }), { sessionId });
    const seen = await reader.next();
    assert.equal(JSON.parse(seen!.data).method, 'notifications/tools/list_changed');
    assert.ok(seen!.id);
    first.abort.abort();
    await reader.cancel();

    // Missed while away: two more announcements.
    await post(bridge, ada, call(2, 'changed'), { sessionId });
    await post(bridge, ada, call(3, 'changed'), { sessionId });
    const again = listen(seen!.id);
    const replay = sseReader(await again.response);
    const missed = [await replay.next(), await replay.next()];
    assert.deepEqual(missed.map((e) => JSON.parse(e!.data).method), ['notifications/tools/list_changed', 'notifications/tools/list_changed']);
    assert.ok(Number(missed[0]!.id) > Number(seen!.id));
    again.abort.abort();
    await replay.cancel();

    // A 2026-07-28 client has no GET stream.
    const modern = (await bridge.send({ method: 'GET', headers: headersFor({ accept: 'text/event-stream', protocolVersion: '2026-07-28' }), signal: new AbortController().signal, caller: ada })) as Response;
    assert.equal(modern.status, 405);
  });

  it('resources/updated goes to the sessions subscribed to that URI; the process keeps a subscription while any session wants it', async () => {
    const { bridge, record } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const one = await openSession(bridge, ada);
    const two = await openSession(bridge, ada);
    const subscribe = (sessionId: string, method: string, id: number) => post(bridge, ada, { jsonrpc: '2.0', id, method, params: { uri: 'memo://x' } }, { sessionId });
    await subscribe(one.sessionId, 'resources/subscribe', 1);
    await subscribe(two.sessionId, 'resources/subscribe', 1);
    const unsub = await subscribe(one.sessionId, 'resources/unsubscribe', 2);
    assert.deepEqual(answer(unsub, 2).result, {});
    assert.equal(recorded(record).filter((m) => m.method === 'resources/unsubscribe').length, 0, 'session two still wants it');

    const streams = [one, two].map(({ sessionId }) => bridge.send({ method: 'GET', headers: headersFor({ sessionId, accept: 'text/event-stream' }), signal: new AbortController().signal, caller: ada }) as Promise<Response>);
    const [oneEvents, twoEvents] = (await Promise.all(streams)).map(sseReader);
    await post(bridge, ada, call(3, 'changed', { uri: 'memo://x' }), { sessionId: one.sessionId });
    // Both hear list_changed; only two hears about the resource.
    assert.equal(JSON.parse((await oneEvents!.next())!.data).method, 'notifications/tools/list_changed');
    const twoSaw = [JSON.parse((await twoEvents!.next())!.data), JSON.parse((await twoEvents!.next())!.data)];
    assert.deepEqual(twoSaw.map((m) => m.method), ['notifications/tools/list_changed', 'notifications/resources/updated']);
    await subscribe(two.sessionId, 'resources/unsubscribe', 4);
    await waitFor(() => recorded(record).some((m) => m.method === 'resources/unsubscribe'), 'the last unsubscribe to reach the process');
    await oneEvents!.cancel();
    await twoEvents!.cancel();
  });
});

describe('stdio bridge: 2026-07-28', () => {
  it('answers server/discover itself and serves stateless requests: results carry resultType, ttlMs and cacheScope; the envelope never reaches the process', async () => {
    const { bridge, record } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const client = await bridgeClient(bridge, ada, 'modern');
    assert.equal(client.getProtocolEra(), 'modern');
    assert.equal(client.getServerVersion()?.name, 'stdio-fixture');
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'whoami'));
    const who = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} })));
    assert.equal(who.caller.subject, 'ada');

    const envelope = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    };
    const discover = await post(bridge, ada, { jsonrpc: '2.0', id: 'd', method: 'server/discover', params: { _meta: envelope } }, { protocolVersion: '2026-07-28' });
    const result = answer(discover, 'd').result;
    assert.deepEqual(result.supportedVersions, ['2026-07-28']);
    assert.equal(result.resultType, 'complete');
    assert.equal(result.cacheScope, 'private');
    assert.equal(result._meta['io.modelcontextprotocol/serverInfo'].name, 'stdio-fixture');
    assert.ok(result.capabilities.tools);

    const list = await post(bridge, ada, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } }, { protocolVersion: '2026-07-28' });
    const listed = answer(list, 1).result;
    assert.equal(listed.resultType, 'complete');
    assert.equal(listed.ttlMs, 0);
    assert.equal(listed.cacheScope, 'private');

    assert.equal(recorded(record).filter((m) => m.method === 'server/discover').length, 0);
    for (const message of recorded(record).filter((m) => m.method === 'tools/list' || m.method === 'tools/call')) {
      assert.deepEqual(Object.keys(message.params._meta), [CALLER_META_KEY]);
    }

    const unsupported = await post(bridge, ada, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } });
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.messages[0].error.code, -32022);
    assert.deepEqual(unsupported.messages[0].error.data.supported, ['2026-07-28']);
    await client.close();
  });
});

describe('stdio bridge: 2026-07-28 input requests (MRTR)', () => {
  const envelope = (capabilities: Record<string, unknown> = { elicitation: {} }) => ({
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': capabilities,
  });
  const ask = (id: number, extra: Record<string, unknown> = {}, capabilities?: Record<string, unknown>) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'ask', arguments: { method: 'elicitation/create', params: { message: 'Your name?', requestedSchema: { type: 'object', properties: {} } } }, _meta: envelope(capabilities), ...extra },
  });

  it('the v2 client answers a process’s elicitation through an InputRequiredResult and gets the result on its retry', async () => {
    const { bridge } = fixtureBridge();
    after(() => bridge.close());
    const client = await bridgeClient(bridge, caller('ada'), 'modern', { elicitation: {} });
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(String(request.params.message));
      return { action: 'accept', content: { name: 'Ada' } };
    });
    const result = JSON.parse(textOf(await client.callTool({ name: 'ask', arguments: { method: 'elicitation/create', params: { message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } } } })));
    assert.deepEqual(asked, ['Your name?']);
    assert.deepEqual(result, { action: 'accept', content: { name: 'Ada' } });
    await client.close();
  });

  it('raw: input_required carries the request and a requestState that only its caller can use, once', async () => {
    const { bridge, record } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const first = await post(bridge, ada, ask(1), { protocolVersion: '2026-07-28' });
    const required = answer(first, 1).result;
    assert.equal(required.resultType, 'input_required');
    const [key] = Object.keys(required.inputRequests);
    assert.equal(required.inputRequests[key!].method, 'elicitation/create');
    assert.equal(typeof required.requestState, 'string');

    const retry = (id: number, who: CallerIdentity) =>
      post(bridge, who, ask(id, { requestState: required.requestState, inputResponses: { [key!]: { action: 'decline' } } }), { protocolVersion: '2026-07-28' });
    // Someone else presenting it is refused (and it stays usable by its owner).
    assert.equal(answer(await retry(2, caller('mallory')), 2).error.code, -32602);
    assert.equal(answer(await retry(3, caller('ada', 'another-client')), 3).error.code, -32602);
    const done = await retry(4, ada);
    assert.deepEqual(JSON.parse(answer(done, 4).result.content[0].text), { action: 'decline' });
    assert.equal(answer(done, 4).result.resultType, 'complete');
    // Used once.
    assert.equal(answer(await retry(5, ada), 5).error.code, -32602);
    // The retry itself never reached the process as a new call.
    assert.equal(recorded(record).filter((m) => m.method === 'tools/call').length, 1);
  });

  it('a client that did not declare the capability is not asked: the process gets "method not found"', async () => {
    const { bridge } = fixtureBridge();
    after(() => bridge.close());
    const ex = await post(bridge, caller('ada'), ask(1, {}, {}), { protocolVersion: '2026-07-28' });
    const result = answer(ex, 1).result;
    assert.equal(result.resultType, 'complete');
    assert.equal(JSON.parse(result.content[0].text).error.code, -32601);
  });
});

describe('stdio bridge: letting go', () => {
  it('a client that goes away releases its request: the process is told to cancel it', async () => {
    const { bridge, record } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const { sessionId } = await openSession(bridge, ada);
    const abort = new AbortController();
    const response = (await bridge.send({
      method: 'POST',
      headers: headersFor({ sessionId }),
      body: new TextEncoder().encode(JSON.stringify(call(5, 'slow', { ms: 2000, steps: 20 }, { progressToken: 't' }))),
      signal: abort.signal,
      caller: ada,
      messages: [call(5, 'slow', { ms: 2000, steps: 20 }, { progressToken: 't' })],
    })) as Response;
    const events = sseReader(response);
    assert.equal(JSON.parse((await events.next())!.data).method, 'notifications/progress');
    abort.abort();
    await events.cancel();
    const forwarded = recorded(record).find((m) => m.method === 'tools/call');
    await waitFor(() => recorded(record).some((m) => m.method === 'notifications/cancelled' && m.params.requestId === forwarded.id), 'notifications/cancelled for the abandoned call');
  });

  it('a client cancelling its own request: the process is told, under the id it knows, and the POST ends without an answer', async () => {
    const { bridge, record } = fixtureBridge();
    after(() => bridge.close());
    const ada = caller('ada');
    const { sessionId } = await openSession(bridge, ada);
    const slow = post(bridge, ada, call('mine', 'slow', { ms: 3000, steps: 30 }, { progressToken: 'p' }), { sessionId });
    await waitFor(() => recorded(record).some((m) => m.method === 'tools/call'), 'the call to reach the process');
    const cancel = await post(bridge, ada, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'mine', reason: 'user pressed stop' } }, { sessionId });
    assert.equal(cancel.status, 202);
    const ended = await slow;
    assert.ok(!ended.messages.some((m) => 'result' in m || 'error' in m), 'no answer after a cancellation');
    const forwarded = recorded(record).find((m) => m.method === 'tools/call');
    const told = await waitFor(() => recorded(record).find((m) => m.method === 'notifications/cancelled'), 'the cancellation to reach the process');
    assert.deepEqual(told.params, { requestId: forwarded.id, reason: 'user pressed stop' });
  });

  it('no answer within timeoutMs: upstream_timeout (the gateway answers 504) and the process is told to cancel', async () => {
    const { bridge, record } = fixtureBridge({ timeoutMs: 300 });
    after(() => bridge.close());
    const ada = caller('ada');
    const { sessionId } = await openSession(bridge, ada);
    const started = Date.now();
    await assert.rejects(
      bridge.send({ method: 'POST', headers: headersFor({ sessionId }), signal: new AbortController().signal, caller: ada, messages: [call(9, 'slow', { ms: 3000 })] }),
      (err: unknown) => isPortcullisError(err) && err.code === 'upstream_timeout',
    );
    assert.ok(Date.now() - started < 2000);
    await waitFor(() => recorded(record).some((m) => m.method === 'notifications/cancelled'), 'notifications/cancelled');
    // A response that starts in time may last: progress counts as a start.
    const long = await post(bridge, ada, call(10, 'slow', { ms: 900, steps: 6 }, { progressToken: 1 }), { sessionId });
    assert.equal(answer(long, 10).result.content[0].text, 'done');
  });
});
