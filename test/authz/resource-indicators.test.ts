/**
 * Resource indicators (RFC 8707) and the scopes MCP clients get: an unknown `resource` is
 * `invalid_target` wherever it is named; the token's audience is the resource; a request naming
 * no scope gets the resource's default scopes (MCP clients omit `scope` when none is advertised);
 * a client registered with nothing but redirect_uris works end to end; every token response
 * carries `token_type` and `scope` (the MCP SDK client needs `scope` to step up).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  assertOAuthError,
  assertTokens,
  authorizationUrl,
  authorizeOnce,
  mcpStatus,
  obtainCode,
  redeemCode,
  refresh,
  register,
  registerPublic,
  signIn,
  type RegisteredClient,
} from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const DEFAULT_SCOPES = 'demo:read demo:write';

describe('resource indicators and default scopes', () => {
  let server: TestServer;
  let client: RegisteredClient;

  before(async () => {
    server = await startTestServer();
    client = await registerPublic(server);
  });
  after(() => server?.stop());

  it('refuses an unknown resource at the authorization endpoint (invalid_target)', async () => {
    for (const resource of ['https://evil.example/mcp', `${server.url}/other`, `${server.mcpUrl}/x`, `${server.mcpUrl}#frag`, 'not a url']) {
      const { url } = authorizationUrl(server, client, { resource });
      const answer = await authorizeOnce(url);
      assert.ok(answer.status < 500, `${resource}: HTTP ${answer.status}`);
      assert.equal(answer.location?.searchParams.get('error'), 'invalid_target', resource);
      assert.equal(answer.location?.searchParams.get('code'), null);
    }
  });

  it('refuses an unknown resource at the token endpoint (invalid_target), for codes and refresh tokens', async () => {
    const refused = await obtainCode(server, client);
    assertOAuthError(await redeemCode(server, client, refused, { resource: 'https://evil.example/mcp' }), 'invalid_target', 400);
    const grant = await obtainCode(server, client);
    const tokens = assertTokens(await redeemCode(server, client, grant, { resource: server.mcpUrl }));
    assertOAuthError(await refresh(server, client, tokens.refresh_token!, { resource: 'https://evil.example/mcp' }), 'invalid_target', 400);
    // The refused refresh did not spend the token.
    assertTokens(await refresh(server, client, tokens.refresh_token!, { resource: server.mcpUrl }));
  });

  it('binds the access token to the resource (aud) and the MCP server accepts it', async () => {
    const tokens = await signIn(server, client);
    assert.equal(decodeJwt(tokens.access_token).aud, server.mcpUrl);
    assert.equal(await mcpStatus(server, tokens.access_token), 200);
  });

  it('grants the default scopes to a request with no scope at all, never access_denied', async () => {
    const withResource = await signIn(server, client, { scope: undefined });
    assert.equal(withResource.scope, DEFAULT_SCOPES);
    const withNothing = await signIn(server, client, { scope: undefined, resource: null });
    assert.equal(withNothing.scope, DEFAULT_SCOPES);
    assert.equal(decodeJwt(withNothing.access_token).aud, server.mcpUrl);
    // Only OpenID scopes named: the resource's defaults are added; the token response describes
    // the access token (its scope), and the ID token answers `openid`.
    const openidOnly = await signIn(server, client, { scope: 'openid' });
    assert.equal(openidOnly.scope, DEFAULT_SCOPES);
    assert.equal(decodeJwt(openidOnly.access_token).scope, DEFAULT_SCOPES);
    assert.equal(typeof openidOnly.id_token, 'string');
  });

  it('grants exactly the scopes asked for when the request names some', async () => {
    const tokens = await signIn(server, client, { scope: 'demo:read' });
    assert.equal(tokens.scope, 'demo:read');
    assert.equal(decodeJwt(tokens.access_token).scope, 'demo:read');
    const refreshed = assertTokens(await refresh(server, client, tokens.refresh_token!));
    assert.equal(refreshed.scope, 'demo:read');
  });

  it('works end to end for a client registered with nothing but redirect_uris', async () => {
    const minimal = await register(server, { redirect_uris: ['https://minimal.example/cb'] });
    assert.equal(minimal.token_endpoint_auth_method, 'client_secret_basic');
    assert.ok(minimal.client_secret);
    const tokens = await signIn(server, minimal, { redirectUri: 'https://minimal.example/cb', scope: undefined, resource: null });
    assert.equal(tokens.scope, DEFAULT_SCOPES);
    assert.ok(tokens.refresh_token, 'interactive clients get refresh tokens without offline_access');
    assert.equal(await mcpStatus(server, tokens.access_token), 200);
    const refreshed = assertTokens(await refresh(server, minimal, tokens.refresh_token!));
    assert.equal(refreshed.scope, DEFAULT_SCOPES);
    assert.equal(await mcpStatus(server, refreshed.access_token), 200);
  });

  it('carries token_type and scope in every token response (code, refresh, partial consent)', async () => {
    const code = await obtainCode(server, client, { scope: 'demo:read demo:write demo:delete' });
    const first = assertTokens(await redeemCode(server, client, code));
    assert.equal(first.token_type, 'Bearer');
    assert.equal(first.scope, 'demo:read demo:write demo:delete');
    const second = assertTokens(await refresh(server, client, first.refresh_token!));
    assert.equal(second.token_type, 'Bearer');
    assert.equal(second.scope, first.scope);
    // Narrowing on refresh still says which scopes the new token has.
    const narrowed = assertTokens(await refresh(server, client, second.refresh_token!, { scope: 'demo:read' }));
    assert.equal(narrowed.scope, 'demo:read');
    // Widening on refresh is refused.
    assertOAuthError(await refresh(server, client, narrowed.refresh_token!, { scope: 'demo:read openid' }), 'invalid_scope', 400);

    // The user unticks a permission on the consent page: the response says what was granted.
    const partial = await obtainCode(server, client, { scope: 'demo:read demo:write', untick: ['demo:write'] });
    const partialTokens = assertTokens(await redeemCode(server, client, partial));
    assert.equal(partialTokens.scope, 'demo:read');
    assert.equal(decodeJwt(partialTokens.access_token).scope, 'demo:read');
  });
});
