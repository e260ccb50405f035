/**
 * The authorization server's revocation stream (GET <base>/oauth/revocations), on every store:
 * only a pre-registered resource server may read it; it replays from Last-Event-ID (or ?after=),
 * says when it is caught up, pushes new revocations within a second — made in this process or
 * written to the shared database by another — and keeps an idle connection alive.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createRevocationStream } from '../../../src/authz/revocation-stream.ts';
import { silentLogger } from '../../../src/core/log.ts';
import { loadRootSecret } from '../../../src/core/secrets.ts';
import { sseParser, type SseEvent } from '../../../src/shared/sse.ts';
import { addStaticClient, registerConfidential, serverTargets, type ClientCredentials } from '../../helpers/authz.ts';
import { revokeGrant, startWorld, type GuardWorld } from './fixtures.ts';

const basic = (client: { client_id: string; client_secret?: string }) =>
  `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret ?? '')}`).toString('base64')}`;

interface OpenStream {
  status: number;
  headers: Headers;
  /** The next event that is not only a comment (or, with `comments`, any event). */
  next(timeoutMs?: number, options?: { comments?: boolean }): Promise<SseEvent>;
  close(): Promise<void>;
}

async function openStream(url: string, client: ClientCredentials | undefined, headers: Record<string, string> = {}): Promise<OpenStream> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...(client ? { authorization: basic(client) } : {}), ...headers },
    signal: abort.signal,
  });
  const reader = response.ok ? response.body!.pipeThrough(sseParser()).getReader() : undefined;
  if (!reader) await response.arrayBuffer();
  return {
    status: response.status,
    headers: response.headers,
    async next(timeoutMs = 2000, options = {}) {
      assert.ok(reader, `stream not open (HTTP ${response.status})`);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
        let timer: NodeJS.Timeout | undefined;
        const result = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), left))),
        ]).finally(() => clearTimeout(timer));
        if (result.done) throw new Error('the stream ended');
        const event = result.value;
        if (options.comments || event.event !== undefined || event.data !== '') return event;
      }
    },
    async close() {
      abort.abort();
      await reader?.cancel().catch(() => {});
    },
  };
}

/** Read revocation events until `ready`; returns them. */
async function untilReady(stream: OpenStream): Promise<{ events: { seq: number; kind: string; id: string }[]; ready: { seq: number } }> {
  const events: { seq: number; kind: string; id: string }[] = [];
  for (;;) {
    const event = await stream.next();
    if (event.event === 'ready') return { events, ready: JSON.parse(event.data) as { seq: number } };
    assert.equal(event.event, 'revocation');
    const data = JSON.parse(event.data) as { seq: number; kind: string; id: string };
    assert.equal(event.id, String(data.seq), 'the SSE id is the sequence number');
    events.push(data);
  }
}

for (const target of serverTargets()) {
  describe(`revocation stream (${target.dialect})`, { skip: target.skip }, () => {
    let world: GuardWorld;
    before(async () => {
      world = await startWorld(target);
    });
    after(() => world?.server.stop());

    it('is only for an authenticated, pre-registered resource server', async () => {
      const { server, streamUrl, resourceServer } = world;
      const notResourceServer = await addStaticClient(server, {});
      const web = await registerConfidential(server);
      const cases: [string, ClientCredentials | undefined, number, string][] = [
        ['no credentials', undefined, 401, 'invalid_client'],
        ['a wrong secret', { ...resourceServer, client_secret: 'wrong' }, 401, 'invalid_client'],
        ['an unknown client', { client_id: 'nobody', client_secret: 'x' }, 401, 'invalid_client'],
        ['a confidential client that is no resource server', notResourceServer, 403, 'unauthorized_client'],
        ['a dynamically registered confidential client', web, 403, 'unauthorized_client'],
      ];
      for (const [what, client, status, error] of cases) {
        const response = await fetch(streamUrl, { headers: client ? { authorization: basic(client) } : {} });
        const body = (await response.json()) as { error?: string };
        assert.equal(response.status, status, what);
        assert.equal(body.error, error, what);
      }
      const post = await fetch(streamUrl, { method: 'POST', headers: { authorization: basic(resourceServer) } });
      await post.arrayBuffer();
      assert.equal(post.status, 405);
      for (const bad of ['-1', 'abc', '1e3', '99999999999999999999']) {
        const response = await fetch(streamUrl, { headers: { authorization: basic(resourceServer), 'last-event-id': bad } });
        assert.equal(response.status, 400, `Last-Event-ID ${bad}`);
        assert.equal(((await response.json()) as { error?: string }).error, 'invalid_request');
      }
    });

    it('replays every event after Last-Event-ID or ?after=, then says it is caught up', async () => {
      const { server, streamUrl, resourceServer } = world;
      const at = Math.floor(Date.now() / 1000);
      const seqs: number[] = [];
      for (const id of ['replay-1', 'replay-2', 'replay-3']) seqs.push(await server.store.revocations.add({ kind: 'grant', id, at, expiresAt: at + 600 }));

      const all = await openStream(streamUrl, resourceServer);
      assert.equal(all.status, 200);
      assert.match(all.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(all.headers.get('cache-control'), 'no-store');
      const everything = await untilReady(all);
      await all.close();
      assert.deepEqual(everything.events.filter((e) => e.id.startsWith('replay-')).map((e) => e.id), ['replay-1', 'replay-2', 'replay-3']);
      assert.equal(everything.ready.seq, seqs[2]);

      const fromHeader = await openStream(streamUrl, resourceServer, { 'last-event-id': String(seqs[0]) });
      const resumed = await untilReady(fromHeader);
      await fromHeader.close();
      assert.deepEqual(resumed.events.map((e) => e.seq), [seqs[1], seqs[2]]);

      const fromQuery = await openStream(`${streamUrl}?after=${seqs[1]}`, resourceServer);
      const rest = await untilReady(fromQuery);
      await fromQuery.close();
      assert.deepEqual(rest.events.map((e) => ({ seq: e.seq, kind: e.kind, id: e.id })), [{ seq: seqs[2], kind: 'grant', id: 'replay-3' }]);
    });

    it('pushes a grant revoked at the revocation endpoint within a second', async () => {
      const tokens = await world.tokens('notes:read');
      const stream = await openStream(world.streamUrl, world.resourceServer);
      try {
        const { ready } = await untilReady(stream);
        const started = Date.now();
        await revokeGrant(world, tokens);
        const event = await stream.next(1000);
        const took = Date.now() - started;
        assert.equal(event.event, 'revocation');
        const data = JSON.parse(event.data) as { seq: number; kind: string; id: string; expiresAt: number };
        assert.equal(data.kind, 'grant');
        assert.ok(data.seq > ready.seq);
        assert.ok(data.expiresAt > Date.now() / 1000, 'the event says until when it matters');
        assert.ok(took < 1000, `took ${took} ms`);
      } finally {
        await stream.close();
      }
    });

    it('pushes an event another process wrote to the shared database within a second', async () => {
      const stream = await openStream(world.streamUrl, world.resourceServer);
      try {
        await untilReady(stream);
        const at = Math.floor(Date.now() / 1000);
        const started = Date.now();
        // Straight into the store, as another Portcullis process would: nothing in this process is told.
        const seq = await world.server.store.revocations.add({ kind: 'token', id: 'elsewhere', at, expiresAt: at + 600 });
        const event = await stream.next(1000);
        assert.deepEqual(JSON.parse(event.data), { seq, kind: 'token', id: 'elsewhere', at, expiresAt: at + 600 });
        assert.ok(Date.now() - started < 1000);
      } finally {
        await stream.close();
      }
    });

    it('keeps an idle stream alive with comments', async () => {
      // The same handler, mounted with a short keep-alive on a server of our own.
      const { pepper } = loadRootSecret({ secretKey: world.server.config.secretKey, dataDir: world.server.config.dataDir }).secrets;
      const handler = createRevocationStream({
        provider: () => world.server.engine.provider,
        issuer: world.server.url,
        pepper,
        store: world.server.store,
        log: silentLogger(),
        keepAliveMs: 150,
      });
      const http = createServer((req, res) => void handler.handle(req, res));
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      const stream = await openStream(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`, world.resourceServer);
      try {
        await untilReady(stream);
        const comment = await stream.next(1000, { comments: true });
        assert.deepEqual(comment.comments, [' keep-alive']);
        assert.equal(handler.open, 1);
      } finally {
        await stream.close();
        handler.close();
        http.closeAllConnections();
        await new Promise((resolve) => http.close(resolve));
      }
    });
  });
}
