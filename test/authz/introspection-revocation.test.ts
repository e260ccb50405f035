/**
 * Introspection (RFC 7662) and revocation (RFC 7009) at /oauth/introspect and /oauth/revoke, for
 * JWT access tokens (which the engine never stores) and refresh tokens: introspection needs an
 * authenticated client; a client learns nothing about, and cannot revoke, another client's
 * tokens; public clients may revoke their own; a revoked token is `active: false` and refused by
 * the resource server at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import {
  assertOAuthError,
  assertTokens,
  endpoint,
  introspect,
  mcpStatus,
  refresh,
  registerConfidential,
  registerPublic,
  revoke,
  signIn,
  type RegisteredClient,
} from '../helpers/authz.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const REDIRECT = 'https://app.example.com/callback';

describe('introspection and revocation', () => {
  let server: TestServer;
  let shortLived: TestServer;
  const shortLivedClock = testClock();
  let confidential: RegisteredClient;
  let other: RegisteredClient;
  let publicClient: RegisteredClient;

  before(async () => {
    [server, shortLived] = await Promise.all([startTestServer(), startTestServer({ tokens: { accessTokenTtl: 4 } }, { clock: shortLivedClock })]);
    confidential = await registerConfidential(server, { redirect_uris: [REDIRECT] });
    other = await registerConfidential(server, { redirect_uris: [REDIRECT] });
    publicClient = await registerPublic(server);
  });
  after(() => Promise.all([server?.stop(), shortLived?.stop()]));

  const signInConfidential = () => signIn(server, confidential, { redirectUri: REDIRECT });

  it('describes an active JWT access token and refresh token to the client they were issued to', async () => {
    const tokens = await signInConfidential();
    const access = await introspect(server, confidential, tokens.access_token);
    assert.equal(access.status, 200);
    assert.equal(access.body.active, true);
    assert.equal(access.body.client_id, confidential.client_id);
    assert.equal(access.body.sub, server.user.id);
    assert.equal(access.body.aud, server.mcpUrl);
    assert.equal(access.body.scope, tokens.scope);
    assert.equal(access.body.iss, server.url);
    assert.equal(typeof access.body.exp, 'number');
    const refreshAnswer = await introspect(server, confidential, tokens.refresh_token!);
    assert.equal(refreshAnswer.body.active, true);
    assert.equal(refreshAnswer.body.client_id, confidential.client_id);
    // The hint is only a hint (RFC 7662 §2.1): a wrong one changes nothing.
    assert.equal((await introspect(server, confidential, tokens.access_token, { token_type_hint: 'refresh_token' })).body.active, true);
  });

  it('refuses introspection without client authentication (invalid_client, 401)', async () => {
    const tokens = await signInConfidential();
    const anonymous = await introspect(server, undefined, tokens.access_token);
    assertOAuthError(anonymous, 'invalid_client', 401);
    assert.ok(anonymous.headers.get('www-authenticate'));
    assert.equal(anonymous.body.active, undefined);
    // A public client proves nothing, so it cannot introspect either — not even its own tokens.
    const own = await signIn(server, publicClient);
    assertOAuthError(await introspect(server, publicClient, own.access_token), 'invalid_client', 401);
    // Wrong secret, and the right secret sent by another method than the one registered.
    assertOAuthError(await introspect(server, { ...confidential, client_secret: 'wrong' }, tokens.access_token), 'invalid_client', 401);
    assertOAuthError(
      await introspect(server, { ...confidential, token_endpoint_auth_method: 'client_secret_post' }, tokens.access_token),
      'invalid_client',
      401,
    );
  });

  it("tells a client nothing about another client's tokens", async () => {
    const tokens = await signInConfidential();
    assert.deepEqual((await introspect(server, other, tokens.access_token)).body, { active: false });
    assert.deepEqual((await introspect(server, other, tokens.refresh_token!)).body, { active: false });
  });

  it("refuses to revoke another client's tokens, which keep working (unauthorized_client)", async () => {
    const tokens = await signInConfidential();
    assertOAuthError(await revoke(server, other, tokens.access_token), 'unauthorized_client', 400);
    assertOAuthError(await revoke(server, other, tokens.refresh_token!), 'unauthorized_client', 400);
    assertOAuthError(await revoke(server, publicClient, tokens.refresh_token!), 'unauthorized_client', 400);
    // A confidential client's tokens are revoked only by the client authenticated (RFC 7009 §2.1).
    assertOAuthError(await revoke(server, undefined, tokens.refresh_token!), 'invalid_client', 401);
    assertOAuthError(await revoke(server, { client_id: confidential.client_id, token_endpoint_auth_method: 'none' }, tokens.refresh_token!), 'invalid_client', 401);
    assertOAuthError(await revoke(server, { ...confidential, client_secret: 'wrong' }, tokens.access_token), 'invalid_client', 401);
    assert.equal(await mcpStatus(server, tokens.access_token), 200);
    assert.equal((await introspect(server, confidential, tokens.access_token)).body.active, true);
    assertTokens(await refresh(server, confidential, tokens.refresh_token!));
  });

  it('revokes a JWT access token: inactive, and refused by the MCP server at once', async () => {
    const tokens = await signInConfidential();
    assert.equal(await mcpStatus(server, tokens.access_token), 200);
    const res = await revoke(server, confidential, tokens.access_token, { token_type_hint: 'refresh_token' });
    assert.equal(res.status, 200);
    assert.deepEqual((await introspect(server, confidential, tokens.access_token)).body, { active: false });
    assert.equal(await mcpStatus(server, tokens.access_token), 401);
    // Revoking an access token leaves the grant: the refresh token still works.
    const fresh = assertTokens(await refresh(server, confidential, tokens.refresh_token!));
    assert.equal(await mcpStatus(server, fresh.access_token), 200);
  });

  it('revokes a refresh token and, with it, the grant and its access tokens', async () => {
    const tokens = await signInConfidential();
    assert.equal((await revoke(server, confidential, tokens.refresh_token!)).status, 200);
    assert.deepEqual((await introspect(server, confidential, tokens.refresh_token!)).body, { active: false });
    assertOAuthError(await refresh(server, confidential, tokens.refresh_token!), 'invalid_grant', 400);
    assert.equal((await introspect(server, confidential, tokens.access_token)).body.active, false);
    assert.equal(await mcpStatus(server, tokens.access_token), 401);
  });

  it('lets a public client revoke its own access and refresh tokens', async () => {
    const first = await signIn(server, publicClient);
    assert.equal((await revoke(server, publicClient, first.access_token)).status, 200);
    assert.equal(await mcpStatus(server, first.access_token), 401);
    const second = await signIn(server, publicClient);
    assert.equal((await revoke(server, publicClient, second.refresh_token!)).status, 200);
    assertOAuthError(await refresh(server, publicClient, second.refresh_token!), 'invalid_grant', 400);
    assert.equal(await mcpStatus(server, second.access_token), 401);
  });

  it('answers 200 to revoking an unknown or already revoked token, and inactive to introspecting one', async () => {
    const tokens = await signInConfidential();
    for (const token of ['not-a-token', 'eyJhbGciOiJub25lIn0.e30.', tokens.refresh_token!]) {
      assert.equal((await revoke(server, confidential, token)).status, 200);
      assert.equal((await revoke(server, confidential, token)).status, 200);
      assert.deepEqual((await introspect(server, confidential, token)).body, { active: false });
    }
  });

  it('reports inactive a token signed by a key that is not ours, even with our claims', async () => {
    const tokens = await signInConfidential();
    const { privateKey } = await generateKeyPair('ES256');
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'forged' }).sign(privateKey);
    assert.deepEqual((await introspect(server, confidential, forged)).body, { active: false });
    assert.equal(await mcpStatus(server, forged), 401);
  });

  it('reports an expired access token inactive', async () => {
    const client = await registerConfidential(shortLived, { redirect_uris: [REDIRECT] });
    const tokens = await signIn(shortLived, client, { redirectUri: REDIRECT });
    assert.equal((await introspect(shortLived, client, tokens.access_token)).body.active, true);
    const { exp } = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };
    shortLivedClock.advance(Math.max(0, exp - shortLivedClock.now()) + 1);
    assert.deepEqual((await introspect(shortLived, client, tokens.access_token)).body, { active: false });
  });

  it('refuses malformed requests without a 5xx (invalid_request)', async () => {
    const tokens = await signInConfidential();
    assertOAuthError(await introspect(server, confidential, ''), 'invalid_request', 400);
    const get = await fetch(endpoint(server, 'introspection'));
    assert.ok(get.status >= 400 && get.status < 500, `GET: ${get.status}`);
    // A parameter twice (RFC 6749 §3.2) — e.g. one token smuggled next to another.
    const body = new URLSearchParams([
      ['token', tokens.access_token],
      ['token', 'other'],
      ['client_id', confidential.client_id],
      ['client_secret', confidential.client_secret!],
    ]);
    const dup = await fetch(endpoint(server, 'revocation'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    assert.equal(dup.status, 400);
    assert.equal(((await dup.json()) as { error: string }).error, 'invalid_request');
    const json = await fetch(endpoint(server, 'introspection'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: tokens.access_token }),
    });
    assert.equal(json.status, 400);
    assert.equal(((await json.json()) as { error: string }).error, 'invalid_request');
  });
});
