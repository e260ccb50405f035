/**
 * What an unauthenticated client can make the server hold: every body the server reads has a
 * limit that fits its surface, enforced before the rest arrives; a refused body never costs a
 * reset of the answer; sockets that never finish their headers are closed; one address cannot
 * take every connection; compressed bodies and doubled Authorization headers are refused.
 * Raw sockets throughout: these are facts about the wire that an HTTP client library hides.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mint } from '../admin/support.ts';
import { rawConnect, requestHead, statusOf, type RawConnection } from '../helpers/raw-http.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;
const portOf = (server: TestServer) => (server.server.address() as { port: number }).port;

/** The JSON body of the first answer on a connection (Content-Length framed). */
function jsonBody(received: string): Record<string, unknown> {
  return JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
}

describe('hostile requests', () => {
  let server: TestServer;
  let port: number;
  let token: string;

  before(async () => {
    // The gateway's limit is configurable; a small one keeps these tests quick on a loaded machine.
    server = await startTestServer({ http: { headersTimeout: 2, requestTimeout: 4, maxConnectionsPerAddress: 40 }, gateway: { maxRequestBytes: 256 * 1024 } });
    port = portOf(server);
    token = await mint(server, server.mcpUrl, ['demo:read']);
  });
  after(() => server?.stop());

  /** Each surface, as a path, a content type and what else its requests carry. */
  const surfaces = (): { name: string; path: string; type: string; headers: Record<string, string>; limit: number }[] => [
    { name: 'sign-in page (form)', path: '/login', type: 'application/x-www-form-urlencoded', headers: {}, limit: 64 * 1024 },
    { name: 'token endpoint (engine)', path: '/oauth/token', type: 'application/x-www-form-urlencoded', headers: {}, limit: 56 * 1024 },
    { name: 'introspection (ours)', path: '/oauth/introspect', type: 'application/x-www-form-urlencoded', headers: {}, limit: 56 * 1024 },
    { name: 'registration (engine JSON)', path: '/oauth/register', type: 'application/json', headers: {}, limit: 56 * 1024 },
    { name: 'admin API', path: '/admin/api/applications', type: 'application/json', headers: {}, limit: 256 * 1024 },
    { name: 'gateway', path: '/mcp', type: 'application/json', headers: { authorization: `Bearer ${token}`, accept: 'application/json, text/event-stream' }, limit: 256 * 1024 },
  ];

  it('a body declared larger than its surface takes is refused with 413 before the rest is sent', async () => {
    for (const surface of surfaces()) {
      const conn = await rawConnect(port);
      try {
        await conn.write(requestHead('POST', surface.path, { 'content-type': surface.type, 'content-length': 400 * MiB, ...surface.headers }));
        await conn.write(Buffer.alloc(16 * 1024, 0x61));
        await conn.waitFor(/^HTTP\/1\.1 \d{3}[^]*?\r\n\r\n/, 5000);
        assert.equal(statusOf(conn.received()), 413, `${surface.name}: ${conn.received().slice(0, 200)}`);
      } finally {
        conn.destroy();
      }
    }
  });

  it('a body streamed without a length is cut at its limit: the answer comes while the client is still sending', async () => {
    // (The admin API authenticates before it reads: without credentials it answers 401 unread;
    // its streamed 413 is in test/admin/api.test.ts.)
    for (const surface of surfaces().filter((s) => s.path !== '/admin/api/applications')) {
      const conn = await rawConnect(port);
      try {
        await conn.write(requestHead('POST', surface.path, { 'content-type': surface.type, 'transfer-encoding': 'chunked', ...surface.headers }));
        const chunk = Buffer.alloc(16 * 1024, 0x61);
        const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
        // Twice the limit, then wait for the answer without ever ending the body.
        for (let sent = 0; sent < surface.limit * 2 && statusOf(conn.received()) === undefined; sent += chunk.length) {
          if (!(await conn.write(frame))) break;
        }
        await conn.waitFor(/^HTTP\/1\.1 \d{3}/, 15_000);
        // The engine reads at most 56 KiB itself and calls anything beyond a bad request.
        const expected = surface.path === '/oauth/token' || surface.path === '/oauth/register' ? 400 : 413;
        assert.equal(statusOf(conn.received()), expected, `${surface.name}: ${conn.received().slice(0, 300)}`);
      } finally {
        conn.destroy();
      }
    }
  });

  it('a 400 MiB sign-in form does not hold up anyone else, and the server keeps none of it', async () => {
    const before = process.memoryUsage().rss;
    const attackers: RawConnection[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const conn = await rawConnect(port);
        attackers.push(conn);
        await conn.write(requestHead('POST', '/login', { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' }));
        const chunk = Buffer.alloc(256 * 1024, 0x61);
        void (async () => {
          for (let i = 0; i < 1600 && !conn.ending() && statusOf(conn.received()) === undefined; i++) {
            if (!(await conn.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])))) break;
          }
        })();
      }
      const started = Date.now();
      const answer = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
      assert.equal(answer.status, 200);
      assert.ok(Date.now() - started < 1000, `an unrelated request took ${Date.now() - started} ms`);
      for (const conn of attackers) await conn.waitFor(/^HTTP\/1\.1 413/, 5000);
      assert.ok(process.memoryUsage().rss - before < 200 * MiB, `RSS grew by ${Math.round((process.memoryUsage().rss - before) / MiB)} MiB`);
    } finally {
      for (const conn of attackers) conn.destroy();
    }
  });

  it('after a 413 the client can go on sending for a while without a reset, then the server ends the connection', async () => {
    for (const surface of surfaces()) {
      const conn = await rawConnect(port);
      try {
        await conn.write(requestHead('POST', surface.path, { 'content-type': surface.type, 'content-length': 50 * MiB, ...surface.headers }));
        await conn.write(Buffer.alloc(32 * 1024, 0x61));
        await conn.waitFor(/^HTTP\/1\.1 413[^]*?\r\n\r\n/, 5000);
        // A client that has not looked at the answer yet keeps sending its body: it must not be
        // reset (a reset makes the kernel discard the answer it has not read).
        for (let i = 0; i < 8; i++) {
          assert.ok(await conn.write(Buffer.alloc(32 * 1024, 0x61)), `${surface.name}: a write after the 413 failed (${conn.ending()})`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.notEqual(conn.ending()?.startsWith('error'), true, `${surface.name}: ${conn.ending()}`);
        // The body is far beyond what the server drains: it ends the connection, with a FIN.
        assert.equal(await conn.closed(6000), 'end', `${surface.name}: the server did not end the connection`);
      } finally {
        conn.destroy();
      }
    }
  });

  it('an answer given before the body ended says Connection: close, and the client can still finish sending', async () => {
    const conn = await rawConnect(port);
    try {
      const body = 'x='.padEnd(100 * 1024, 'a');
      await conn.write(requestHead('POST', '/login', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length }) + body.slice(0, 1000));
      await conn.waitFor(/^HTTP\/1\.1 413[^]*?\r\n\r\n/, 5000);
      assert.match(conn.received(), /\r\nconnection: close\r\n/i, 'the client is told not to reuse the connection');
      assert.ok(await conn.write(body.slice(1000)), 'the rest of the body is read, not reset');
      assert.equal(await conn.closed(5000), 'end', 'then the server ends the connection');
    } finally {
      conn.destroy();
    }
  });

  it('a compressed body is refused with 415 on every surface', async () => {
    for (const surface of surfaces()) {
      const conn = await rawConnect(port);
      try {
        const body = '{}';
        await conn.write(requestHead('POST', surface.path, { 'content-type': surface.type, 'content-encoding': 'gzip', 'content-length': body.length, ...surface.headers }) + body);
        await conn.waitFor(/^HTTP\/1\.1 \d{3}[^]*?\r\n\r\n/, 5000);
        assert.equal(statusOf(conn.received()), 415, `${surface.name}: ${conn.received().slice(0, 200)}`);
      } finally {
        conn.destroy();
      }
    }
  });

  it('two Authorization headers are refused with 400 at the gateway, the OAuth endpoints and the admin API', async () => {
    const paths = [
      { path: '/mcp', code: (body: Record<string, unknown>) => (body.error as { data: { code: string } }).data.code, expected: 'invalid_request' },
      { path: '/oauth/token', code: (body: Record<string, unknown>) => body.error, expected: 'invalid_request' },
      { path: '/oauth/introspect', code: (body: Record<string, unknown>) => body.error, expected: 'invalid_request' },
      { path: '/admin/api/applications', code: (body: Record<string, unknown>) => body.error, expected: 'invalid_request' },
    ];
    for (const { path, code, expected } of paths) {
      const conn = await rawConnect(port);
      try {
        const body = '{}';
        await conn.write(requestHead('POST', path, { 'content-type': 'application/json', 'content-length': body.length, authorization: [`Bearer ${token}`, 'Basic Zm9vOmJhcg=='] }) + body);
        await conn.waitFor(/^HTTP\/1\.1 \d{3}[^]*?\r\n\r\n[^]*\}$/, 5000);
        assert.equal(statusOf(conn.received()), 400, `${path}: ${conn.received().slice(0, 300)}`);
        assert.equal(code(jsonBody(conn.received())), expected, path);
      } finally {
        conn.destroy();
      }
    }
  });

  it('sockets that trickle their headers, or send nothing, are closed after the headers timeout', async () => {
    const slow: RawConnection[] = [];
    try {
      for (let i = 0; i < 10; i++) slow.push(await rawConnect(port));
      const trickle = setInterval(() => {
        for (const [i, conn] of slow.entries()) if (i % 2 === 0 && !conn.ending()) void conn.write('X');
      }, 300);
      for (const [i, conn] of slow.entries()) if (i % 2 === 0) await conn.write('GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
      try {
        // headersTimeout is 2 s here; the server checks every second.
        const endings = await Promise.all(slow.map((conn) => conn.closed(6000)));
        assert.ok(endings.every((ending) => ending !== undefined), `still open after 6 s: ${endings.filter((e) => e === undefined).length} of ${slow.length}`);
      } finally {
        clearInterval(trickle);
      }
      // ...and the server still answers.
      assert.equal((await fetch(`${server.url}/.well-known/oauth-authorization-server`)).status, 200);
    } finally {
      for (const conn of slow) conn.destroy();
    }
  });

  it('one address cannot hold more connections than its bound; other addresses are still served', async () => {
    const held: RawConnection[] = [];
    try {
      // 127.0.0.2 is another loopback address (Linux routes all of 127/8 to lo).
      for (let i = 0; i < 40; i++) held.push(await rawConnect(port, { localAddress: '127.0.0.2' }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(held.every((conn) => conn.ending() === undefined), 'connections within the bound stay open');
      const over = await rawConnect(port, { localAddress: '127.0.0.2' });
      assert.notEqual(await over.closed(2000), undefined, 'the connection over the bound was closed at once');
      const answer = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
      assert.equal(answer.status, 200, 'another address is served');
    } finally {
      for (const conn of held) conn.destroy();
    }
  });
});
