/**
 * The demo MCP server behind the guard, attacked over real HTTP. Every refusal is checked for its
 * RFC 6750 code (and only that: finer reasons such as invalid_audience or token_revoked must not
 * reach the wire) and for never being a 5xx. Forged tokens are signed with the server's own
 * signing key where the attack needs one, so that exactly one thing about them is wrong.
 */
import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { base64url, decodeJwt, decodeProtectedHeader, exportSPKI, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { loadKeyRing } from '../../src/signing-keys/key-ring.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bearerParams, postMcp, revokeRefreshToken, signIn, toolCall, toolsList, type McpAnswer, type TokenSet } from './sign-in.ts';

const FINE_REASONS = ['invalid_audience', 'token_revoked', 'unknown-key', 'claim-', 'expired', 'algorithm', 'signature', 'malformed'];

/** A refusal as RFC 6750 says: status, WWW-Authenticate with this error code and the PRM, nothing finer. */
function assertChallenge(answer: McpAnswer, status: number, error: string, prmUrl: string): Record<string, string> {
  assert.ok(answer.status < 500, `5xx: ${answer.status} ${answer.text}`);
  assert.equal(answer.status, status, answer.text);
  const header = answer.headers.get('www-authenticate');
  const params = bearerParams(header);
  assert.equal(params.error, error);
  assert.equal(params.resource_metadata, prmUrl);
  assert.equal((answer.json as { error?: string }).error, error);
  for (const reason of FINE_REASONS) {
    assert.ok(!header!.includes(reason) && !answer.text.includes(reason), `the finer reason ${reason} leaked onto the wire`);
  }
  return params;
}

describe('guard over HTTP: the demo MCP server at /mcp', () => {
  let server: TestServer;
  let prmUrl: string;
  let tokens: TokenSet;
  let template: { header: Record<string, unknown>; payload: JWTPayload };
  let signingKey: CryptoKey;
  let signingJwk: JWK;

  /** Re-sign (claims, header) with the server's real signing key. */
  async function forge(payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    const clean = Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
    return new SignJWT(clean).setProtectedHeader({ ...template.header, ...header } as never).sign(signingKey);
  }

  before(async () => {
    server = await startTestServer();
    prmUrl = `${new URL(server.url).origin}/.well-known/oauth-protected-resource/mcp`;
    tokens = await signIn({ url: server.url, mcpUrl: server.mcpUrl, email: server.user.email, password: server.password });
    template = { header: decodeProtectedHeader(tokens.access_token) as Record<string, unknown>, payload: decodeJwt(tokens.access_token) };
    // The server's own private key, read from its store the way the server reads it.
    const { secrets } = loadRootSecret({ dataDir: server.config.dataDir });
    const ring = await loadKeyRing(server.store, secrets.dataKey, Math.floor(Date.now() / 1000), 3600);
    signingJwk = ring.privateJwks[0]!;
    assert.equal(signingJwk.kid, template.header.kid, 'the active key signed the token');
    signingKey = (await importJWK(signingJwk, 'ES256')) as CryptoKey;
  });
  after(() => server?.stop());

  it('a valid token lists the tools its scopes allow (the baseline every refusal below differs from)', async () => {
    const answer = await postMcp(server.mcpUrl, toolsList, { token: tokens.access_token });
    assert.equal(answer.status, 200, answer.text);
    const names = ((answer.json as { result: { tools: { name: string }[] } }).result.tools).map((t) => t.name).sort();
    assert.ok(names.includes('read_note') && names.includes('write_note'));
    assert.ok(!names.includes('delete_note'), 'a token without demo:delete does not see delete_note');
    // A token re-signed with the server's key and nothing changed is accepted: the forgeries below fail for their one change.
    const copy = await forge({ ...template.payload, jti: `${template.payload.jti}-copy` });
    assert.equal((await postMcp(server.mcpUrl, toolsList, { token: copy })).status, 200);
  });

  it('no token: 401 with resource_metadata and the default scopes, and no error code (RFC 6750 §3.1)', async () => {
    for (const method of ['POST', 'GET', 'DELETE']) {
      const response = await fetch(server.mcpUrl, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: method === 'POST' ? JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }) : undefined,
      });
      assert.equal(response.status, 401, method);
      const header = response.headers.get('www-authenticate');
      const params = bearerParams(header);
      assert.equal(params.resource_metadata, prmUrl);
      assert.equal(params.scope, 'demo:read demo:write');
      assert.ok(!('error' in params), `no error code when no token was sent (${method})`);
      await response.body?.cancel();
    }
  });

  it('an unauthenticated server/discover probe (protocol 2026-07-28) gets 401, never a 5xx', async () => {
    const probe = { jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} };
    const answer = await postMcp(server.mcpUrl, probe, { headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' } });
    assert.equal(answer.status, 401, answer.text);
    assert.equal(bearerParams(answer.headers.get('www-authenticate')).resource_metadata, prmUrl);
  });

  it('the challenge is readable by browser-based clients (CORS exposes WWW-Authenticate)', async () => {
    const preflight = await fetch(server.mcpUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://client.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, mcp-protocol-version' },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers')!, /authorization/);
    const answer = await postMcp(server.mcpUrl, toolsList, { headers: { origin: 'https://client.example' } });
    assert.match(answer.headers.get('access-control-expose-headers')!, /www-authenticate/i);
  });

  it('a valid token anywhere but the Authorization header is not accepted (bearer_methods_supported: header)', async () => {
    const inQuery = await postMcp(`${server.mcpUrl}?access_token=${tokens.access_token}`, toolsList);
    assert.equal(inQuery.status, 401);
    assert.ok(!('error' in bearerParams(inQuery.headers.get('www-authenticate'))), 'treated as no token at all');
    const inForm = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json, text/event-stream' },
      body: new URLSearchParams({ access_token: tokens.access_token }),
    });
    assert.equal(inForm.status, 401);
    await inForm.body?.cancel();
  });

  it('Bearer garbage: 401 invalid_token', async () => {
    for (const authorization of ['Bearer garbage', 'Bearer a.b.c', 'Bearer ', 'bearer eyJ.eyJ.sig', `Bearer ${'x'.repeat(10_000)}`]) {
      assertChallenge(await postMcp(server.mcpUrl, toolsList, { authorization }), 401, 'invalid_token', prmUrl);
    }
  });

  it('an expired token (signed by the server): 401 invalid_token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await forge({ ...template.payload, iat: now - 3600, exp: now - 60 });
    assertChallenge(await postMcp(server.mcpUrl, toolsList, { token: expired }), 401, 'invalid_token', prmUrl);
  });

  it('a token signed by a foreign key, under the server kid or its own: 401 invalid_token', async () => {
    const foreign = await generateKeyPair('ES256');
    for (const kid of [template.header.kid, 'attacker']) {
      const token = await new SignJWT(template.payload).setProtectedHeader({ ...template.header, kid } as never).sign(foreign.privateKey);
      assertChallenge(await postMcp(server.mcpUrl, toolsList, { token }), 401, 'invalid_token', prmUrl);
    }
  });

  it('alg none: 401 invalid_token', async () => {
    const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
    const token = `${enc({ ...template.header, alg: 'none' })}.${enc(template.payload)}.`;
    assertChallenge(await postMcp(server.mcpUrl, toolsList, { token }), 401, 'invalid_token', prmUrl);
  });

  it('HS256 signed with the server public key (algorithm confusion): 401 invalid_token', async () => {
    const publicJwk = { kty: signingJwk.kty, crv: signingJwk.crv, x: signingJwk.x, y: signingJwk.y };
    const pem = await exportSPKI((await importJWK(publicJwk, 'ES256')) as CryptoKey);
    // Also the JWKS as published, byte for byte, in case a verifier keyed HMAC with it.
    const published = await (await fetch(`${server.url}/oauth/jwks`)).text();
    for (const secret of [pem, JSON.stringify(publicJwk), published]) {
      const token = await new SignJWT(template.payload).setProtectedHeader({ ...template.header, alg: 'HS256' } as never).sign(createSecretKey(Buffer.from(secret)));
      assertChallenge(await postMcp(server.mcpUrl, toolsList, { token }), 401, 'invalid_token', prmUrl);
    }
  });

  it('right key, another audience: 401 invalid_token on the wire (invalid_audience stays internal)', async () => {
    for (const aud of [`${new URL(server.url).origin}/other-mcp`, server.url, `${server.mcpUrl}/`, ['https://elsewhere.example/mcp']]) {
      const token = await forge({ ...template.payload, aud });
      assertChallenge(await postMcp(server.mcpUrl, toolsList, { token }), 401, 'invalid_token', prmUrl);
    }
  });

  it('right key, another issuer: 401 invalid_token', async () => {
    const token = await forge({ ...template.payload, iss: 'https://evil.example' });
    assertChallenge(await postMcp(server.mcpUrl, toolsList, { token }), 401, 'invalid_token', prmUrl);
  });

  it('an ID token (typ JWT) used as an access token: 401 invalid_token', async () => {
    const withId = await signIn({ url: server.url, mcpUrl: server.mcpUrl, email: server.user.email, password: server.password }, { scope: 'openid demo:read' });
    assert.ok(withId.id_token, 'the server issued an ID token');
    assert.equal(decodeProtectedHeader(withId.id_token).kid, template.header.kid, 'signed by the same key as access tokens');
    assertChallenge(await postMcp(server.mcpUrl, toolsList, { token: withId.id_token }), 401, 'invalid_token', prmUrl);
    // The same claims as a valid access token, signed by the server, but typed as an ID token.
    const typedJwt = await forge({ ...template.payload, jti: `${template.payload.jti}-jwt` }, { typ: 'JWT' });
    assertChallenge(await postMcp(server.mcpUrl, toolsList, { token: typedJwt }), 401, 'invalid_token', prmUrl);
  });

  it('a revoked grant is refused within a second (token_revoked stays internal)', async () => {
    const fresh = await signIn({ url: server.url, mcpUrl: server.mcpUrl, email: server.user.email, password: server.password });
    assert.equal((await postMcp(server.mcpUrl, toolsList, { token: fresh.access_token })).status, 200);
    const started = Date.now();
    await revokeRefreshToken(server.url, fresh);
    let answer = await postMcp(server.mcpUrl, toolsList, { token: fresh.access_token });
    while (answer.status === 200 && Date.now() - started < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      answer = await postMcp(server.mcpUrl, toolsList, { token: fresh.access_token });
    }
    assertChallenge(answer, 401, 'invalid_token', prmUrl);
    assert.ok(Date.now() - started < 1000, `refused only after ${Date.now() - started} ms`);
    // Another grant of the same user and client is untouched.
    assert.equal((await postMcp(server.mcpUrl, toolsList, { token: tokens.access_token })).status, 200);
  });

  it('tools/call beyond the token scope: 403 insufficient_scope naming every scope needed', async () => {
    const answer = await postMcp(server.mcpUrl, toolCall('delete_note', { noteId: 'n1' }), { token: tokens.access_token });
    const params = assertChallenge(answer, 403, 'insufficient_scope', prmUrl);
    assert.equal(params.scope, 'demo:read demo:write demo:delete');
    assert.match(answer.headers.get('www-authenticate')!, /error="insufficient_scope", .*scope="demo:read demo:write demo:delete"/);
  });

  it('a tools/call smuggled inside a JSON-RPC batch is caught too', async () => {
    const batch = [toolsList, toolCall('read_note', { noteId: 'n1' }, 2), toolCall('delete_note', { noteId: 'n1' }, 3)];
    const params = assertChallenge(await postMcp(server.mcpUrl, batch, { token: tokens.access_token }), 403, 'insufficient_scope', prmUrl);
    assert.equal(params.scope, 'demo:read demo:write demo:delete');
    // Duplicate keys: JSON.parse keeps the last, for the guard and the MCP server alike.
    const duplicate = '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"read_note","name":"delete_note","arguments":{}}}';
    assertChallenge(await postMcp(server.mcpUrl, duplicate, { token: tokens.access_token, raw: true }), 403, 'insufficient_scope', prmUrl);
  });

  it('a tools/call within the token scope goes through', async () => {
    const answer = await postMcp(server.mcpUrl, toolCall('list_projects'), { token: tokens.access_token });
    assert.equal(answer.status, 200, answer.text);
    assert.ok((answer.json as { result?: unknown }).result, answer.text);
  });

  it('malformed JSON: 400 with JSON-RPC parse error -32700', async () => {
    for (const body of ['{"jsonrpc":"2.0",', 'not json', '\u{feff}{}']) {
      const answer = await postMcp(server.mcpUrl, body, { token: tokens.access_token, raw: true });
      assert.equal(answer.status, 400, answer.text);
      const json = answer.json as { jsonrpc: string; id: null; error: { code: number } };
      assert.equal(json.jsonrpc, '2.0');
      assert.equal(json.id, null);
      assert.equal(json.error.code, -32700);
    }
  });

  it('an oversized body: 413, whether its length is declared or streamed', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(4 * 1024 * 1024 + 10) } });
    const declared = await postMcp(server.mcpUrl, big, { token: tokens.access_token, raw: true });
    assert.equal(declared.status, 413, declared.text.slice(0, 200));
    const streamed = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
    await streamed.body?.cancel();
    // Without a token the body is never read either: a declared length over the limit is refused
    // at the front door, before authentication (413); a small body without a token gets 401.
    assert.equal((await postMcp(server.mcpUrl, big, { raw: true })).status, 413);
    assert.equal((await postMcp(server.mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), { raw: true })).status, 401);
  });

  it('serves its Protected Resource Metadata at the RFC 9728 path and at the root form', async () => {
    const discovery = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
    for (const url of [prmUrl, `${new URL(server.url).origin}/.well-known/oauth-protected-resource`]) {
      const response = await fetch(url);
      assert.equal(response.status, 200, url);
      assert.match(response.headers.get('content-type')!, /^application\/json/);
      const doc = (await response.json()) as Record<string, unknown>;
      assert.equal(doc.resource, server.mcpUrl);
      // MCP SDK v2 requires the AS metadata issuer to equal authorization_servers[0] exactly.
      assert.deepEqual(doc.authorization_servers, [discovery.issuer]);
      assert.deepEqual(doc.scopes_supported, ['demo:read', 'demo:write', 'demo:delete']);
      assert.deepEqual(doc.bearer_methods_supported, ['header']);
    }
  });
});
