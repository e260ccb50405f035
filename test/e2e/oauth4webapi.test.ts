/**
 * A strict OAuth 2.1 client (oauth4webapi) against a running server: discovery, dynamic
 * registration, authorization code + PKCE with RFC 9207 `iss` and RFC 8707 `resource`, a call to
 * the demo MCP server, refresh, introspection, revocation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeInBrowser } from '../helpers/oauth-flow.ts';

const insecure = { [oauth.allowInsecureRequests]: true };
const REDIRECT = 'http://127.0.0.1:8765/callback';

describe('a strict OAuth 2.1 client (oauth4webapi)', () => {
  let server: TestServer;
  let as: oauth.AuthorizationServer;
  let client: oauth.Client;

  before(async () => {
    server = await startTestServer();
    const issuer = new URL(server.url);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    client = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(as, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }, insecure),
    );
  });
  after(() => server?.stop());

  async function signIn(scope?: string) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', REDIRECT);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    url.searchParams.set('resource', server.mcpUrl);
    if (scope) url.searchParams.set('scope', scope);
    const { callback } = await authorizeInBrowser(url.href, { email: server.user.email, password: server.password, redirectUri: REDIRECT });
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, {
      additionalParameters: { resource: server.mcpUrl },
      ...insecure,
    });
    return oauth.processAuthorizationCodeResponse(as, client, response);
  }

  it('signs in with PKCE and gets an RFC 9068 access token bound to the MCP server', async () => {
    const tokens = await signIn();
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'demo:read demo:write');
    assert.ok(tokens.refresh_token, 'interactive clients get a refresh token without offline_access');
    const header = decodeProtectedHeader(tokens.access_token);
    assert.equal(header.alg, 'ES256');
    assert.equal(header.typ, 'at+jwt');
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.aud, server.mcpUrl);
    assert.equal(claims.sub, server.user.id);
    assert.equal(claims.client_id, client.client_id);
    assert.ok(claims.grant_id && claims.jti && claims.auth_time);
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.exp! - claims.iat!, 1800);
  });

  it('calls the demo MCP server with the token, refreshes, and is refused after revocation', async () => {
    const tokens = await signIn();
    const call = (token: string) =>
      fetch(server.mcpUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
    assert.equal((await call(tokens.access_token)).status, 200);

    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure));
    assert.equal(refreshed.scope, 'demo:read demo:write');
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate');
    assert.equal((await call(refreshed.access_token)).status, 200);

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), refreshed.refresh_token!, insecure));
    const refused = await call(refreshed.access_token);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate')!, /error="invalid_token"/);
    const again = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, insecure);
    await assert.rejects(oauth.processRefreshTokenResponse(as, client, again), (err: oauth.ResponseBodyError) => err.error === 'invalid_grant');
  });
});
