/**
 * Attacks on the gateway over HTTP, each checked for the right code, no 5xx, and — with the
 * recording fixture — for what did or did not reach the upstream:
 * - a tools/call smuggled inside a batch, a nested batch, or a notification;
 * - a body the gateway and the upstream could read differently (duplicate keys);
 * - tool names that differ by case or by look-alike characters from a tool the token may call;
 * - a token for one application used on another;
 * - no token passthrough: the upstream sees the gateway's own 60-second token (audience = the
 *   upstream, act = the gateway, the caller's sub, scope and client id) and never the client's
 *   token, cookies or other credentials (MCP security best practices, "Token Passthrough").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader } from 'jose';
import { PortcullisError } from '../../../src/core/errors.ts';
import { createTokenVerifier } from '../../../src/shared/verify.ts';
import {
  answerTo,
  appUrl,
  callTool,
  exchange,
  httpApp,
  prmUrl,
  request,
  startFixtureMcp,
  startGateway,
  tokenFor,
  type Exchange,
  type FixtureMcp,
} from '../../helpers/gateway.ts';
import { challengeParams } from '../../helpers/mcp-clients.ts';
import type { TestServer } from '../../helpers/server.ts';
import { signIn, type TokenSet } from '../../guard/sign-in.ts';

const V = '2025-11-25';

function assertNot5xx(ex: Exchange): void {
  assert.ok(ex.status < 500, `HTTP ${ex.status}: ${ex.text.slice(0, 300)}`);
}

describe('attacks on the gateway', () => {
  let fixture: FixtureMcp;
  let server: TestServer;
  let url: string;
  /** fix:read only */
  let reader: TokenSet;

  before(async () => {
    fixture = await startFixtureMcp({
      tools: [
        { name: 'echo', description: 'Echo', annotations: { readOnlyHint: true } },
        { name: 'purge', description: 'Delete everything', annotations: { readOnlyHint: false, destructiveHint: true } },
        // Two tools whose names differ only by case: one read-only, one destructive.
        { name: 'notes', description: 'Read the notes', annotations: { readOnlyHint: true } },
        { name: 'Notes', description: 'Rewrite all the notes', annotations: { readOnlyHint: false, destructiveHint: true } },
      ],
    });
    server = await startGateway([
      httpApp('fix', fixture.url, { tools: { echo: { scope: 'fix:read' } } }),
      httpApp('other', fixture.url),
    ]);
    url = appUrl(server, 'fix');
    reader = await tokenFor(server, 'fix', { scope: 'fix:read' });
    // Let the gateway learn the catalogue (the manifest) through a listing.
    await exchange(url, request('tools/list'), { token: reader.access_token, protocolVersion: V });
  });
  after(async () => {
    await server?.stop();
    await fixture?.stop();
  });

  const calls = () => fixture.received('tools/call').length;

  describe('smuggling a tools/call', () => {
    it('inside a batch: the whole batch is refused with the scope challenge, nothing is forwarded', async () => {
      const before = fixture.requests.length;
      const ex = await exchange(url, [request('tools/list', {}, 1), callTool('purge', {}, 2)], { token: reader.access_token, protocolVersion: V });
      assertNot5xx(ex);
      assert.equal(ex.status, 403);
      assert.equal(challengeParams(ex.headers.get('www-authenticate') ?? undefined).scope, 'fix:read fix:delete');
      assert.equal(fixture.requests.length, before);
    });

    it('inside a batch with an allowed call: a policy denial answers every request of the batch, none is forwarded', async () => {
      const before = calls();
      const ex = await exchange(url, [callTool('echo', { text: 'a' }, 1), callTool('no-such-tool', {}, 2)], { token: reader.access_token, protocolVersion: V });
      assertNot5xx(ex);
      assert.equal(ex.status, 200);
      assert.equal(answerTo(ex, 1).error.data.code, 'batch_refused');
      assert.equal(answerTo(ex, 2).error.data.code, 'policy_denied');
      assert.equal(calls(), before);
    });

    it('inside a nested batch: not JSON-RPC, refused as an invalid request, never forwarded', async () => {
      const before = fixture.requests.length;
      const ex = await exchange(url, [[callTool('purge', {}, 1)]], { token: reader.access_token, protocolVersion: V });
      assertNot5xx(ex);
      assert.equal(ex.status, 400);
      assert.equal(ex.messages[0].error.code, -32600);
      assert.equal(fixture.requests.length, before);
    });

    it('as a notification (no id): refused as an invalid request, never forwarded', async () => {
      const before = fixture.requests.length;
      for (const body of [
        { jsonrpc: '2.0', method: 'tools/call', params: { name: 'purge', arguments: {} } },
        [{ jsonrpc: '2.0', method: 'notifications/initialized' }, { jsonrpc: '2.0', method: 'tools/call', params: { name: 'purge' } }],
      ]) {
        const ex = await exchange(url, body, { token: reader.access_token, protocolVersion: V });
        assertNot5xx(ex);
        assert.equal(ex.status, 400, ex.text);
        assert.equal(ex.messages[0].error.code, -32600);
      }
      assert.equal(fixture.requests.length, before);
    });

    it('with the method in another case: never judged as a call, and the upstream runs no tool', async () => {
      const before = calls();
      const ex = await exchange(url, { jsonrpc: '2.0', id: 1, method: 'Tools/Call', params: { name: 'purge' } }, { token: reader.access_token, protocolVersion: V });
      assertNot5xx(ex);
      assert.equal(answerTo(ex, 1).error.code, -32601, 'the upstream knows no such method');
      assert.equal(calls(), before);
    });

    it('with duplicate keys: the upstream receives exactly what the gateway judged', async () => {
      // JSON.parse keeps the last "name"; a parser that keeps the first would run purge.
      const raw = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"purge","name":"echo","arguments":{"text":"dup"}}}';
      const ex = await exchange(url, undefined, { raw, token: reader.access_token, protocolVersion: V });
      assertNot5xx(ex);
      assert.equal(answerTo(ex, 1).result.content[0].text, 'dup');
      const seen = fixture.received('tools/call').at(-1)!;
      assert.ok(!seen.body.includes('purge'), `the upstream received: ${seen.body}`);
      assert.equal(seen.body.match(/"name"/g)?.length, 1);
    });
  });

  it('re-serializing keeps every value exact: 64-bit integers, exponents and trailing zeros reach the upstream as the client wrote them', async () => {
    const raw = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"n","account":12345678901234567890,"ratio":1.50,"big":1e400,"neg":-0,"tiny":0.0000001}}}';
    const ex = await exchange(url, undefined, { raw, token: reader.access_token, protocolVersion: V });
    assert.equal(answerTo(ex, 1).result.content[0].text, 'n');
    const seen = fixture.received('tools/call').at(-1)!;
    assert.equal(seen.body.slice(seen.body.indexOf('"arguments"')), '"arguments":{"text":"n","account":12345678901234567890,"ratio":1.50,"big":1e400,"neg":-0,"tiny":0.0000001}}}');
  });

  describe('tool names that look like another', () => {
    it('a case change does not borrow the other tool\'s scope: "Notes" needs fix:delete, "notes" needs fix:read', async () => {
      const list = await exchange(url, request('tools/list'), { token: reader.access_token, protocolVersion: V });
      assert.deepEqual((answerTo(list, 1).result.tools as { name: string }[]).map((t) => t.name), ['echo', 'notes']);
      const before = calls();
      const refused = await exchange(url, callTool('Notes'), { token: reader.access_token, protocolVersion: V });
      assert.equal(refused.status, 403);
      assert.equal(challengeParams(refused.headers.get('www-authenticate') ?? undefined).scope, 'fix:read fix:delete');
      assert.equal(calls(), before);
      const ok = await exchange(url, callTool('notes'), { token: reader.access_token, protocolVersion: V });
      assert.equal(answerTo(ok, 1).result.content[0].text, 'notes done');
    });

    it('case changes and look-alikes of an approved tool are unknown tools: a policy denial, never forwarded', async () => {
      const before = calls();
      // ECHO, Echo, Cyrillic е, Greek ο in "nοtes", a trailing zero-width space, NFD é vs NFC, full-width letters.
      for (const name of ['ECHO', 'Echo', 'еcho', 'nοtes', 'echo\u200b', ' echo', 'ｅｃｈｏ']) {
        const ex = await exchange(url, callTool(name), { token: reader.access_token, protocolVersion: V });
        assertNot5xx(ex);
        assert.equal(ex.status, 200, `${name}: ${ex.text}`);
        const error = answerTo(ex, 1).error;
        assert.equal(error.data.code, 'policy_denied', name);
        assert.equal(error.data.rule, 'tool-review', name);
      }
      assert.equal(calls(), before);
    });

    it("an administrator's rule for a tool applies to that exact name only", async () => {
      // The application assigns echo → fix:read; a look-alike gets neither that rule nor an approval.
      const ex = await exchange(url, callTool('Echo'), { token: reader.access_token, protocolVersion: V });
      assert.equal(answerTo(ex, 1).error.data.rule, 'tool-review');
    });
  });

  describe('tokens', () => {
    it("a token for application A used on application B → 401 invalid_token with B's resource metadata", async () => {
      const ex = await exchange(appUrl(server, 'other'), request('tools/list'), { token: reader.access_token, protocolVersion: V });
      assert.equal(ex.status, 401);
      const challenge = challengeParams(ex.headers.get('www-authenticate') ?? undefined);
      assert.equal(challenge.error, 'invalid_token');
      assert.equal(challenge.resource_metadata, prmUrl(server, 'other'));
      // And the built-in demo's token on an application, and the reverse.
      const demo = await signIn({ url: server.url, mcpUrl: server.mcpUrl, email: server.user.email, password: server.password });
      assert.equal((await exchange(url, request('tools/list'), { token: demo.access_token, protocolVersion: V })).status, 401);
      assert.equal((await exchange(server.mcpUrl, request('tools/list'), { token: reader.access_token, protocolVersion: V })).status, 401);
    });

    it('a token in the query string is not a token (RFC 6750 §2.3 is not supported): 401', async () => {
      const ex = await exchange(`${url}?access_token=${reader.access_token}`, request('tools/list'), { protocolVersion: V });
      assert.equal(ex.status, 401);
    });

    it("the upstream gets the gateway's own token, never the client's token, cookies or credentials", async () => {
      const writer = await tokenFor(server, 'fix', { scope: 'fix:read fix:write' });
      const claims = decodeJwt(writer.access_token);
      const mark = fixture.requests.length;
      const ex = await exchange(url, callTool('echo', { text: 'who am i' }), {
        token: writer.access_token,
        protocolVersion: V,
        headers: {
          cookie: `__Host-pc_session=secret-session; other=${writer.access_token}`,
          'proxy-authorization': 'Basic c2VjcmV0OnNlY3JldA==',
          'x-api-key': 'pcs_secret',
          'x-forwarded-for': '203.0.113.9',
          forwarded: 'for=203.0.113.9',
        },
      });
      assert.equal(answerTo(ex, 1).result.content[0].text, 'who am i');
      const seen = fixture.requests.slice(mark);
      assert.equal(seen.length, 1);
      const [received] = seen;
      const everything = JSON.stringify(received!.headers) + received!.body;
      assert.ok(!everything.includes(writer.access_token), "the client's token never reaches the upstream");
      for (const name of ['cookie', 'proxy-authorization', 'x-api-key', 'x-forwarded-for', 'forwarded']) assert.equal(received!.headers[name], undefined, name);
      assert.ok(!everything.includes('secret-session') && !everything.includes('pcs_secret'));

      const upstreamToken = /^Bearer (.+)$/.exec(received!.headers.authorization ?? '')?.[1];
      assert.ok(upstreamToken, 'the upstream is sent a bearer token');
      assert.equal(decodeProtectedHeader(upstreamToken).typ, 'at+jwt');
      // Verifiable with the guard SDK against the issuer's JWKS, for the upstream's own URL.
      const verify = createTokenVerifier({ issuer: server.url, audience: fixture.url, keys: createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`)), refuse: PortcullisError.from });
      const verified = await verify(upstreamToken);
      assert.equal(verified.subject, claims.sub);
      assert.equal(verified.clientId, claims.client_id);
      assert.deepEqual([...verified.scopes].sort(), ['fix:read', 'fix:write']);
      assert.equal(verified.expiresAt - verified.issuedAt, 60);
      assert.deepEqual(verified.audience, [fixture.url]);
      assert.deepEqual(verified.claims.act, { sub: `${server.url}#gateway` }, 'act names the gateway (RFC 8693 §4.1)');
      // The client's token is not valid at the upstream, and the upstream's token is not valid at the gateway.
      await assert.rejects(verify(writer.access_token), (err: { code?: string }) => err.code === 'invalid_audience');
      assert.equal((await exchange(url, request('tools/list'), { token: upstreamToken, protocolVersion: V })).status, 401);
    });
  });
});
