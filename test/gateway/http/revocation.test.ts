/**
 * Revoking a grant takes effect within a second at the gateway (DESIGN.md "Revoke") — also for
 * streams opened before the revocation: an open SSE answer or GET stream outlives the request that
 * authorized it, so it is cut when its token's grant is revoked, and the upstream request is
 * released. Streams of other grants carry on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { revokeRefreshToken } from '../../guard/sign-in.ts';
import {
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
  type FixtureMcp,
  type SpawnedServer,
} from '../../helpers/gateway.ts';
import type { TestServer } from '../../helpers/server.ts';

const V = '2025-11-25';

/** Read events until the stream ends; resolves with when it ended. */
async function endOf(reader: ReturnType<typeof sseReader>): Promise<number> {
  try {
    while (await reader.next());
  } catch {
    // cut: a network error is how an SSE client sees it
  }
  return Date.now();
}

describe('revocation ends open streams', () => {
  let everything: SpawnedServer;
  let fixture: FixtureMcp;
  let server: TestServer;

  before(async () => {
    everything = await startEverything();
    fixture = await startFixtureMcp();
    server = await startGateway([httpApp('every', everything.url), httpApp('fix', fixture.url)]);
  });
  after(async () => {
    await server?.stop();
    await everything?.stop();
    await fixture?.stop();
  });

  it("a revoked grant's SSE answer is cut within a second and its upstream request released; another grant's stream carries on", async () => {
    const victim = await tokenFor(server, 'fix');
    const bystander = await tokenFor(server, 'fix');
    assert.ok(victim.refresh_token, 'the client holds a refresh token to revoke its grant with');
    const url = appUrl(server, 'fix');

    const long = (token: string, id: number) => send(url, callTool('count', { steps: 100, delayMs: 100 }, id, { progressToken: `p${id}` }), { token, protocolVersion: V, timeoutMs: 30_000 });
    const mark = fixture.requests.length;
    const victimStream = sseReader(await long(victim.access_token, 1));
    const bystanderStream = sseReader(await long(bystander.access_token, 2));
    assert.ok(await victimStream.next());
    assert.ok(await bystanderStream.next());
    const victimUpstream = fixture.requests.slice(mark).find((r) => (r.json as { id?: number }).id === 1)!;

    const ended = endOf(victimStream);
    const revokedAt = Date.now();
    await revokeRefreshToken(server.url, victim);
    const endedAt = await ended;
    assert.ok(endedAt - revokedAt < 1500, `cut ${endedAt - revokedAt} ms after the revocation`);
    await waitFor(() => victimUpstream.aborted, 'the upstream request to be released');

    // The other grant's stream is still delivering progress.
    const next = await bystanderStream.next();
    assert.ok(next && JSON.parse(next.data).method === 'notifications/progress');
    await bystanderStream.cancel();
    // And the revoked token opens nothing new.
    assert.equal((await exchange(url, request('tools/list'), { token: victim.access_token, protocolVersion: V })).status, 401);
  });

  it("a revoked grant's GET stream (server-everything) is cut too", async () => {
    const victim = await tokenFor(server, 'every');
    const url = appUrl(server, 'every');
    const { sessionId, protocolVersion } = await openSession(url, victim.access_token);
    const stream = await send(url, undefined, { method: 'GET', token: victim.access_token, sessionId, protocolVersion, headers: { accept: 'text/event-stream' }, timeoutMs: 30_000 });
    assert.equal(stream.status, 200);
    const reader = sseReader(stream);
    const ended = endOf(reader);
    const revokedAt = Date.now();
    await revokeRefreshToken(server.url, victim);
    assert.ok((await ended) - revokedAt < 1500, 'the GET stream ended within a second and a half');
  });
});
