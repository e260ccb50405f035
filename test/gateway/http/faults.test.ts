/**
 * Bad input and upstream faults: the gateway answers each with the right status and a JSON-RPC
 * error, never crashes, and never lets one exchange harm another.
 * - malformed JSON → 400 / -32700 and body over the limit → 413, neither reaching the upstream;
 * - upstream refusing connections → 502; upstream too slow to send response headers → 504
 *   (application `timeoutMs`); upstream failing with a 5xx → 502 without its error page;
 * - an SSE stream is never cut by that timeout, however long it stays open or quiet;
 * - a client that goes away mid-stream releases the upstream request;
 * - through all of it, a server-everything session opened first keeps working.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  answerTo,
  appUrl,
  callTool,
  exchange,
  httpApp,
  openSession,
  request,
  send,
  sseReader,
  startEverything,
  startFixtureMcp,
  startGateway,
  tokenFor,
  waitFor,
  type Exchange,
  type FixtureMcp,
  type SpawnedServer,
} from '../../helpers/gateway.ts';
import type { TestServer } from '../../helpers/server.ts';

const V = '2025-11-25';
/** The applications' header timeout, in ms. */
const TIMEOUT = 300;
const UPSTREAM_ERROR = -32001;
const MAX_BODY = 4 * 1024 * 1024;

const READ = { readOnlyHint: true };

/** Nothing listens on port 1 (a privileged port no test binds): connections are refused. */
const REFUSED_URL = 'http://127.0.0.1:1/mcp';

/** A server that accepts connections and drops them at once: up, but never answering. */
async function droppingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer();
  server.on('connection', (socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function assertRpcError(ex: Exchange, status: number, code: number, id: unknown = null): void {
  assert.equal(ex.status, status, ex.text);
  assert.match(ex.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(ex.text);
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.error.code, code);
  assert.equal(body.id, id);
}

describe('faults at the gateway', () => {
  let everything: SpawnedServer;
  let fixture: FixtureMcp;
  let server: TestServer;
  let url: string;
  let token: string;
  let everyToken: string;
  /** A server-everything session opened before any fault; checked at the end. */
  let bystander: { sessionId: string; protocolVersion: string };
  let dropping: Awaited<ReturnType<typeof droppingServer>>;

  before(async () => {
    everything = await startEverything();
    fixture = await startFixtureMcp({
      tools: [
        { name: 'echo', description: 'Echo', annotations: READ },
        { name: 'count', description: 'Count with progress', annotations: READ },
        { name: 'hang', description: 'Never answers', annotations: READ },
        { name: 'quiet-stream', description: 'Opens a stream, then says nothing for a while', annotations: READ },
        { name: 'crash', description: 'Drops the connection mid-stream', annotations: READ },
        { name: 'boom', description: 'Fails with an error page', annotations: READ },
        { name: 'chatty', description: 'Answers with headers of its own', annotations: READ },
      ],
    });
    fixture.intercept(async (record, res) => {
      const name = (record.json as { params?: { name?: string } } | undefined)?.params?.name;
      const id = (record.json as { id?: unknown } | undefined)?.id;
      if (name === 'hang') {
        await new Promise<void>((resolve) => res.on('close', () => resolve()));
        return true;
      }
      if (name === 'quiet-stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        await sleep(TIMEOUT * 3);
        res.end(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'worth the wait' }] } })}\n\n`);
        return true;
      }
      if (name === 'crash') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } })}\n\n`);
        await sleep(50);
        res.socket?.destroy();
        return true;
      }
      if (name === 'chatty') {
        const body = JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'hi' }] } });
        res.writeHead(200, {
          'content-type': 'application/json',
          'set-cookie': 'upstream_session=abc; Path=/',
          'x-powered-by': 'Express',
          'x-internal-host': 'db-7.internal',
          'mcp-session-id': 'upstream-session-that-must-not-leak',
          'access-control-allow-origin': 'https://evil.example',
        });
        res.end(body);
        return true;
      }
      if (name === 'boom') {
        res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1><pre>TypeError: x is undefined\n    at handler (/srv/secret-app/index.js:42:7)</pre>');
        return true;
      }
      return false;
    });
    dropping = await droppingServer();
    server = await startGateway([
      httpApp('fix', fixture.url, { upstream: { url: fixture.url, timeoutMs: TIMEOUT } }),
      httpApp('every', everything.url, { upstream: { url: everything.url, timeoutMs: TIMEOUT } }),
      // Same upstream, but patient: its header timeout cannot be what releases a request.
      httpApp('patient', fixture.url, { upstream: { url: fixture.url, timeoutMs: 30_000 } }),
      httpApp('down', REFUSED_URL, { upstream: { url: REFUSED_URL, timeoutMs: TIMEOUT } }),
      httpApp('dropping', dropping.url, { upstream: { url: dropping.url, timeoutMs: TIMEOUT } }),
    ]);
    url = appUrl(server, 'fix');
    token = (await tokenFor(server, 'fix')).access_token;
    everyToken = (await tokenFor(server, 'every')).access_token;
    bystander = await openSession(appUrl(server, 'every'), everyToken);
    // The gateway learns the fixture's catalogue.
    await exchange(url, request('tools/list'), { token, protocolVersion: V });
  });
  after(async () => {
    await server?.stop();
    await fixture?.stop();
    await everything?.stop();
    await dropping?.close();
  });

  describe('bad input', () => {
    it('malformed JSON → 400 / -32700, never forwarded', async () => {
      const before = fixture.requests.length;
      for (const raw of ['{"jsonrpc":"2.0","id":1,"method":"tools/list"', 'not json', '', '\u0000']) {
        assertRpcError(await exchange(url, undefined, { raw, token, protocolVersion: V }), 400, -32700);
      }
      assert.equal(fixture.requests.length, before);
    });

    it('a body over the limit → 413 / -32600, never forwarded — whether it announces its length or streams it', async () => {
      const before = fixture.requests.length;
      const big = JSON.stringify(callTool('echo', { text: 'x'.repeat(MAX_BODY) }));
      const refused = await exchange(url, undefined, { raw: big, token, protocolVersion: V });
      assertRpcError(refused, 413, -32600);
      assert.equal(fixture.requests.length, before);
      // Answered before the body was read: its unread rest is drained or the connection ended, never
      // taken for the next request (a kept-alive connection once hung the next one).
      const next = await exchange(url, request('tools/list'), { token, protocolVersion: V });
      assert.equal(next.status, 200, 'the next request on the kept-alive connection is answered');
      const forwarded = fixture.requests.length;
      // Chunked, with no Content-Length: refused once the limit is crossed.
      const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent > MAX_BODY * 2) return controller.close();
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: stream,
        duplex: 'half',
      } as RequestInit).catch((err: unknown) => err);
      if (response instanceof Response) {
        assert.equal(response.status, 413);
        assert.equal((await response.json()).error.code, -32600);
      } else {
        // The gateway may close the connection while the client is still sending: never a 2xx or 5xx.
        assert.ok(sent > MAX_BODY, 'refused only after the limit, not before');
      }
      assert.equal(fixture.requests.length, forwarded);
    });

    it('a request without a token never costs a body read or an upstream call (401 first)', async () => {
      const before = fixture.requests.length;
      const ex = await exchange(url, undefined, { raw: '{', protocolVersion: V });
      assert.equal(ex.status, 401);
      assert.equal(fixture.requests.length, before);
      // The unread body is drained, not taken for the next request on the kept-alive connection.
      const ok = await exchange(url, request('tools/list'), { token, protocolVersion: V });
      assert.equal(ok.status, 200);
    });
  });

  describe('upstream faults', () => {
    it('upstream refusing connections, or dropping them, → 502 at once with a JSON-RPC error carrying the request id', async () => {
      for (const slug of ['down', 'dropping']) {
        const appToken = (await tokenFor(server, slug)).access_token;
        const started = Date.now();
        const ex = await exchange(appUrl(server, slug), request('tools/list', {}, 'list-1'), { token: appToken, protocolVersion: V });
        assertRpcError(ex, 502, UPSTREAM_ERROR, 'list-1');
        assert.ok(Date.now() - started < TIMEOUT * 3, `${slug}: answered in ${Date.now() - started} ms`);
      }
    });

    it(`upstream too slow to send response headers → 504 after about timeoutMs (${TIMEOUT} ms), and the upstream request is released`, async () => {
      const started = Date.now();
      const ex = await exchange(url, callTool('hang', {}, 5), { token, protocolVersion: V });
      const took = Date.now() - started;
      assertRpcError(ex, 504, UPSTREAM_ERROR, 5);
      assert.ok(took >= TIMEOUT - 50 && took < TIMEOUT + 2000, `answered after ${took} ms`);
      const held = fixture.received('tools/call').find((r) => (r.json as { params: { name: string } }).params.name === 'hang')!;
      await waitFor(() => held.aborted, 'the gateway to let go of the upstream request');
    });

    it('a client that gives up before the upstream answers releases the upstream request', async () => {
      const patientUrl = appUrl(server, 'patient');
      const patientToken = (await tokenFor(server, 'patient')).access_token;
      await exchange(patientUrl, request('tools/list'), { token: patientToken, protocolVersion: V });
      const mark = fixture.requests.length;
      const controller = new AbortController();
      const pending = fetch(patientUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${patientToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V },
        body: JSON.stringify(callTool('hang', {}, 14)),
        signal: controller.signal,
      }).catch(() => 'gave up');
      const held = await waitFor(() => fixture.requests.slice(mark).find((r) => r.rpc.includes('tools/call')), 'the call to reach the upstream');
      controller.abort();
      assert.equal(await pending, 'gave up');
      await waitFor(() => held.aborted, 'the upstream request to be aborted', 2000);
    });

    it("the upstream's own response headers (cookies, server details, its session id, CORS) do not reach the client", async () => {
      const ex = await exchange(url, callTool('chatty', {}, 15), { token, protocolVersion: V });
      assert.equal(answerTo(ex, 15).result.content[0].text, 'hi');
      for (const name of ['set-cookie', 'x-powered-by', 'x-internal-host']) assert.equal(ex.headers.get(name), null, name);
      assert.notEqual(ex.headers.get('mcp-session-id'), 'upstream-session-that-must-not-leak');
      assert.equal(ex.headers.get('access-control-allow-origin'), '*', "the gateway's CORS policy, not the upstream's");
    });

    it('a slow upstream request does not hold up others', async () => {
      const slow = exchange(url, callTool('hang', {}, 6), { token, protocolVersion: V });
      const started = Date.now();
      const quick = await exchange(url, callTool('echo', { text: 'fast' }, 7), { token, protocolVersion: V });
      assert.equal(answerTo(quick, 7).result.content[0].text, 'fast');
      assert.ok(Date.now() - started < TIMEOUT, 'answered while the other waits');
      assertRpcError(await slow, 504, UPSTREAM_ERROR, 6);
    });

    it('an upstream 5xx → 502 with a JSON-RPC error; its error page (and stack trace) does not reach the client', async () => {
      const ex = await exchange(url, callTool('boom', {}, 8), { token, protocolVersion: V });
      assertRpcError(ex, 502, UPSTREAM_ERROR, 8);
      assert.ok(!ex.text.includes('secret-app') && !ex.text.includes('TypeError'));
    });

    it('an upstream dropping the connection mid-stream ends the client stream; the gateway carries on', async () => {
      const response = await send(url, callTool('crash', {}, 9), { token, protocolVersion: V });
      assert.equal(response.status, 200);
      const reader = sseReader(response);
      const first = await reader.next();
      assert.ok(first && JSON.parse(first.data).method === 'notifications/progress');
      await assert.rejects(
        (async () => {
          for (let event = await reader.next(); event; event = await reader.next());
          throw new Error('the stream ended cleanly, as if the upstream had finished');
        })(),
      );
      const after = await exchange(url, callTool('echo', { text: 'alive' }, 10), { token, protocolVersion: V });
      assert.equal(answerTo(after, 10).result.content[0].text, 'alive');
    });
  });

  describe('streams and timeouts', () => {
    it(`an SSE answer streaming longer than timeoutMs, with gaps longer than it, is not cut`, async () => {
      const started = Date.now();
      const response = await send(url, callTool('count', { steps: 3, delayMs: TIMEOUT + 150 }, 11, { progressToken: 'long' }), { token, protocolVersion: V });
      const ex = await exchangeFrom(response);
      assert.ok(Date.now() - started > TIMEOUT * 3, 'it really took longer than the timeout');
      assert.equal(ex.messages.filter((m) => m.method === 'notifications/progress').length, 3);
      assert.equal(answerTo(ex, 11).result.content[0].text, 'counted to 3');
    });

    it('an SSE stream that opens and then stays quiet for three timeouts still delivers its answer', async () => {
      const ex = await exchange(url, callTool('quiet-stream', {}, 12), { token, protocolVersion: V });
      assert.equal(answerTo(ex, 12).result.content[0].text, 'worth the wait');
    });

    it('the GET stream stays open past timeoutMs and still delivers (server-everything)', async () => {
      const everyUrl = appUrl(server, 'every');
      const { sessionId, protocolVersion } = await openSession(everyUrl, everyToken);
      const stream = await send(everyUrl, undefined, { method: 'GET', token: everyToken, sessionId, protocolVersion, headers: { accept: 'text/event-stream' } });
      assert.equal(stream.status, 200);
      const reader = sseReader(stream);
      try {
        await sleep(TIMEOUT * 3);
        await (await send(everyUrl, callTool('toggle-simulated-logging', {}, 1), { token: everyToken, sessionId, protocolVersion })).text();
        let got = false;
        for (let event = await reader.next(); event; event = await reader.next()) {
          if (event.data && JSON.parse(event.data).method === 'notifications/message') {
            got = true;
            break;
          }
        }
        assert.ok(got, 'a message arrived on the stream after it had been open three timeouts long');
        await (await send(everyUrl, callTool('toggle-simulated-logging', {}, 2), { token: everyToken, sessionId, protocolVersion })).text();
      } finally {
        await reader.cancel();
      }
    });

    it('a client going away mid-stream releases the upstream request', async () => {
      const response = await send(url, callTool('count', { steps: 20, delayMs: 100 }, 13, { progressToken: 'bye' }), { token, protocolVersion: V });
      const reader = sseReader(response);
      const first = await reader.next();
      assert.ok(first, 'the stream started');
      const upstream = fixture.received('tools/call').at(-1)!;
      assert.equal(upstream.aborted, false);
      await reader.cancel();
      await waitFor(() => upstream.aborted, 'the upstream request to be aborted');
      assert.equal(upstream.finished, false, 'the upstream never finished writing its answer');
    });
  });

  it('after all of the above, the session opened first still works', async () => {
    const everyUrl = appUrl(server, 'every');
    const ex = await exchange(everyUrl, callTool('echo', { message: 'still here' }, 99), { token: everyToken, sessionId: bystander.sessionId, protocolVersion: bystander.protocolVersion });
    assert.equal(answerTo(ex, 99).result.content[0].text, 'Echo: still here');
  });
});

async function exchangeFrom(response: Response): Promise<Exchange> {
  const { toExchange } = await import('../../helpers/gateway.ts');
  return toExchange(response, await response.text());
}
