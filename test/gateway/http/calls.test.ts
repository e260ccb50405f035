/**
 * tools/call through the gateway: a call the token's scopes allow reaches the upstream and its
 * answer comes back; a call beyond them is refused before it reaches the upstream with 403
 * `insufficient_scope` naming EVERY scope needed (those already held too, so a client that
 * re-authorizes with that list loses nothing) and the resource metadata (MCP authorization,
 * "Scope Challenge Handling"; RFC 6750 §3.1; RFC 9728 §5.1). Both SDKs then step up: v2 by
 * itself, v1 when the application re-authorizes with the challenged scope.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/client';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  answerTo,
  appUrl,
  callTool,
  exchange,
  httpApp,
  openSession,
  prmUrl,
  request,
  sdkClientFor,
  startEverything,
  startFixtureMcp,
  startGateway,
  tokenFor,
  type Exchange,
  type FixtureMcp,
  type SpawnedServer,
} from '../../helpers/gateway.ts';
import { assertNoServerErrors, challengeParams, requestedScope } from '../../helpers/mcp-clients.ts';
import type { TestServer } from '../../helpers/server.ts';

/** 403 insufficient_scope exactly as the MCP authorization spec wants it; returns the challenge's parameters. */
function assertScopeChallenge(ex: Exchange, scope: string, resourceMetadata: string): void {
  assert.equal(ex.status, 403, ex.text);
  const params = challengeParams(ex.headers.get('www-authenticate') ?? undefined);
  assert.equal(params.error, 'insufficient_scope');
  assert.deepEqual(params.scope?.split(' ').sort(), scope.split(' ').sort());
  assert.equal(params.resource_metadata, resourceMetadata);
  assert.equal(JSON.parse(ex.text).error, 'insufficient_scope');
}

describe('calls through the gateway: server-everything', () => {
  let everything: SpawnedServer;
  let server: TestServer;
  let url: string;

  before(async () => {
    everything = await startEverything();
    server = await startGateway([httpApp('every', everything.url)]);
    url = appUrl(server, 'every');
  });
  after(async () => {
    await server?.stop();
    await everything?.stop();
  });

  it('a read-only token calls a read-only tool; a write tool gets 403 naming every:read and every:write', async () => {
    const { access_token: token } = await tokenFor(server, 'every', { scope: 'every:read' });
    const { sessionId, protocolVersion } = await openSession(url, token);
    const echo = await exchange(url, callTool('echo', { message: 'hello' }), { token, sessionId, protocolVersion });
    assert.equal(echo.status, 200);
    assert.equal(answerTo(echo, 1).result.content[0].text, 'Echo: hello');
    const sum = await exchange(url, callTool('get-sum', { a: 2, b: 3 }, 2), { token, sessionId, protocolVersion });
    assert.match(answerTo(sum, 2).result.content[0].text, /5/);

    const refused = await exchange(url, callTool('toggle-simulated-logging', {}, 3), { token, sessionId, protocolVersion });
    assertScopeChallenge(refused, 'every:read every:write', prmUrl(server, 'every'));
    // The session is unharmed by the refusal.
    const again = await exchange(url, callTool('echo', { message: 'still here' }, 4), { token, sessionId, protocolVersion });
    assert.equal(answerTo(again, 4).result.content[0].text, 'Echo: still here');
  });

  it('v1 SDK client: refused with 403 (it refreshes in vain, as v1 does), then steps up when the application re-authorizes with the challenged scope', async () => {
    const client = await sdkClientFor(server, 'every', { sdk: 'v1', registration: 'dynamic' });
    try {
      assert.equal(await client.connect(), 'redirected');
      await client.authorize({ untick: ['every:write'] });
      assert.equal(client.provider.currentTokens!.scope, 'every:read');
      const mark = client.mark();
      await assert.rejects(client.call('toggle-simulated-logging'), (err: unknown) => err instanceof StreamableHTTPError && err.code === 403);
      const refused = client.since(mark).filter((e) => e.rpc === 'tools/call');
      assert.ok(refused.length >= 1 && refused.every((e) => e.status === 403));
      for (const e of refused) {
        const challenge = challengeParams(e.wwwAuthenticate);
        assert.equal(challenge.error, 'insufficient_scope');
        assert.equal(challenge.scope, 'every:read every:write');
        assert.equal(challenge.resource_metadata, prmUrl(server, 'every'));
      }
      assert.equal(await client.requestScope('every:read every:write'), 'REDIRECT');
      assert.equal(requestedScope(client.provider.pendingAuthorization), 'every:read every:write');
      await client.authorize();
      const result = await client.call('toggle-simulated-logging');
      assert.equal(result.isError ?? false, false);
      assertNoServerErrors(client);
    } finally {
      await client.close();
    }
  });
});

describe('calls through the gateway: what reaches the upstream', () => {
  let fixture: FixtureMcp;
  let server: TestServer;
  let url: string;

  before(async () => {
    fixture = await startFixtureMcp();
    server = await startGateway([
      httpApp('fix', fixture.url),
      // An administrator's assignment overrides the annotation default: echo is read-only by its
      // annotations, but here it needs fix:write.
      httpApp('strict', fixture.url, { tools: { echo: { scope: 'strict:write' } } }),
    ]);
    url = appUrl(server, 'fix');
  });
  after(async () => {
    await server?.stop();
    await fixture?.stop();
  });

  it('a refused call never reaches the upstream; the challenge names fix:delete with the scopes already held', async () => {
    const { access_token: token } = await tokenFor(server, 'fix');
    const before = fixture.received('tools/call').length;
    for (const tool of ['purge', 'legacy']) {
      const refused = await exchange(url, callTool(tool), { token, protocolVersion: '2025-11-25' });
      assertScopeChallenge(refused, 'fix:read fix:write fix:delete', prmUrl(server, 'fix'));
    }
    assert.equal(fixture.received('tools/call').length, before, 'nothing was forwarded');
    const allowed = await exchange(url, callTool('save'), { token, protocolVersion: '2025-11-25' });
    assert.equal(answerTo(allowed, 1).result.content[0].text, 'save done');
    assert.equal(fixture.received('tools/call').length, before + 1);
  });

  it("an administrator's scope assignment beats the annotation default, for listing and for calling", async () => {
    const strictUrl = appUrl(server, 'strict');
    const { access_token: token } = await tokenFor(server, 'strict', { scope: 'strict:read' });
    const list = await exchange(strictUrl, request('tools/list'), { token, protocolVersion: '2025-11-25' });
    const names = (answerTo(list, 1).result.tools as { name: string }[]).map((t) => t.name);
    assert.deepEqual(names, ['count'], 'echo needs strict:write here');
    assertScopeChallenge(await exchange(strictUrl, callTool('echo'), { token, protocolVersion: '2025-11-25' }), 'strict:read strict:write', prmUrl(server, 'strict'));
  });

  it('a tool the upstream never listed is a policy denial (unknown to the manifest), not forwarded', async () => {
    const { access_token: token } = await tokenFor(server, 'fix', { scope: 'fix:read fix:write fix:delete' });
    const before = fixture.received('tools/call').length;
    const refused = await exchange(url, callTool('no-such-tool'), { token, protocolVersion: '2025-11-25' });
    assert.equal(refused.status, 200);
    const error = answerTo(refused, 1).error;
    assert.equal(error.data.code, 'policy_denied');
    assert.equal(error.data.rule, 'tool-review');
    assert.equal(fixture.received('tools/call').length, before);
  });

  it('v2 SDK client (2026-07-28): on 403 it re-authorizes by itself for the union of scopes, then the call goes through', async () => {
    const client = await sdkClientFor(server, 'fix', { sdk: 'v2', registration: 'dynamic' });
    try {
      assert.equal(await client.connect(), 'redirected');
      await client.authorize();
      assert.deepEqual(await client.toolNames(), ['echo', 'count', 'save', 'change-tools']);
      const mark = client.mark();
      await assert.rejects(client.call('purge'), UnauthorizedError);
      const [refused] = client.since(mark);
      assert.equal(refused!.status, 403);
      assert.equal(challengeParams(refused!.wwwAuthenticate).scope, 'fix:read fix:write fix:delete');
      assert.match(requestedScope(client.provider.pendingAuthorization) ?? '', /fix:delete/);
      await client.authorize();
      assert.match(client.provider.currentTokens!.scope!, /fix:delete/);
      assert.equal((await client.call('purge')).content[0]!.text, 'purge done');
      assert.deepEqual(await client.toolNames(), ['echo', 'count', 'save', 'purge', 'legacy', 'change-tools']);
      assertNoServerErrors(client);
    } finally {
      await client.close();
    }
  });
});
