/**
 * Client ID Metadata Documents with the shapes real MCP clients publish, served over https from
 * loopback (cimd.allowPrivateAddresses is on, as in development): each one runs a whole
 * authorization — sign-in, consent, code redemption, a call to the demo MCP server.
 * Dynamic registration, which Claude falls back to (sometimes twice per connection), is here too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { startHttpsFixture, type HttpsFixture } from '../helpers/https-fixture.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { approve, authorizationRequest, callMcp, clientAssertion, codeGrant, tokenRequest } from './flow.ts';

describe('Client ID Metadata Documents: real client shapes', () => {
  let server: TestServer;
  let docs: HttpsFixture;
  let tokenEndpoint: string;

  before(async () => {
    server = await startTestServer({ cimd: { allowPrivateAddresses: true } });
    docs = await startHttpsFixture();
    tokenEndpoint = `${server.url}/oauth/token`;
  });
  after(async () => {
    await docs?.close();
    await server?.stop();
  });

  it('discovery advertises metadata documents and public clients (what claude.ai checks before using one)', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = (await (await fetch(`${server.url}${path}`)).json()) as Record<string, unknown>;
      assert.equal(metadata.client_id_metadata_document_supported, true, path);
      const methods = metadata.token_endpoint_auth_methods_supported as string[];
      assert.ok(methods.includes('none'), path);
      assert.ok(methods.includes('private_key_jwt'), path);
    }
  });

  describe('ChatGPT: private_key_jwt with an RS256 key at its jwks_uri', () => {
    let key: CryptoKey;
    let clientId: string;
    const kid = 'chatgpt-2026';
    let redirectUri: string;

    before(async () => {
      const pair = await generateKeyPair('RS256', { extractable: true });
      key = pair.privateKey;
      const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' };
      docs.route('/chatgpt/jwks.json', { keys: [jwk] });
      clientId = docs.url('/chatgpt/oauth-client.json');
      redirectUri = docs.url('/connector_platform_oauth_redirect');
      docs.route('/chatgpt/oauth-client.json', {
        client_id: clientId,
        client_name: 'ChatGPT',
        client_uri: docs.url('/'),
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
        token_endpoint_auth_signing_alg: 'RS256',
        jwks_uri: docs.url('/chatgpt/jwks.json'),
      });
    });

    it('completes with private_key_jwt at the token endpoint, refreshes, and revokes the same way', async () => {
      const pending = authorizationRequest(server, clientId, redirectUri);
      const { code } = await approve(server, pending);
      const tokens = await tokenRequest(server, { ...codeGrant(server, pending, code), ...(await clientAssertion(clientId, tokenEndpoint, key, kid)) });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(tokens.body.token_type, 'Bearer');
      assert.equal(tokens.body.scope, 'demo:read demo:write');
      assert.ok(tokens.body.refresh_token);
      assert.ok(docs.hits('/chatgpt/jwks.json') >= 1, 'the server fetched the client keys from its jwks_uri');
      assert.equal(await callMcp(server, tokens.body.access_token!), 200);

      // Refresh, authenticated with a fresh assertion (audience: the issuer this time).
      const refreshed = await tokenRequest(server, {
        grant_type: 'refresh_token',
        refresh_token: tokens.body.refresh_token!,
        ...(await clientAssertion(clientId, server.url, key, kid)),
      });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.equal(await callMcp(server, refreshed.body.access_token!), 200);

      // Revocation (served by Portcullis itself, not the engine) authenticates the client the same way.
      const revoke = await fetch(`${server.url}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: refreshed.body.refresh_token!, ...(await clientAssertion(clientId, `${server.url}/oauth/revoke`, key, kid)) }),
      });
      assert.equal(revoke.status, 200);
      assert.equal(await callMcp(server, refreshed.body.access_token!), 401, 'the revoked grant is refused at the MCP server');
    });

    it('does not fall back to "none": without an assertion, or with one signed by another key, the code is not redeemed', async () => {
      const pending = authorizationRequest(server, clientId, redirectUri);
      const { code } = await approve(server, pending);
      const grant = codeGrant(server, pending, code);

      const asPublic = await tokenRequest(server, { ...grant, client_id: clientId });
      assert.equal(asPublic.status, 401);
      assert.equal(asPublic.body.error, 'invalid_client');

      const impostor = await generateKeyPair('RS256');
      const forged = await tokenRequest(server, { ...grant, ...(await clientAssertion(clientId, tokenEndpoint, impostor.privateKey, kid)) });
      assert.equal(forged.status, 401);
      assert.equal(forged.body.error, 'invalid_client');

      const wrongAlg = await generateKeyPair('PS256');
      const otherAlg = await tokenRequest(server, { ...grant, ...(await clientAssertion(clientId, tokenEndpoint, wrongAlg.privateKey, kid, 'PS256')) });
      assert.equal(otherAlg.status, 401);
      assert.equal(otherAlg.body.error, 'invalid_client');

      // The code survived the failed attempts: the real client still redeems it.
      const genuine = await tokenRequest(server, { ...grant, ...(await clientAssertion(clientId, tokenEndpoint, key, kid)) });
      assert.equal(genuine.status, 200, JSON.stringify(genuine.body));
    });

    it('refuses a replayed client assertion', async () => {
      const pending = authorizationRequest(server, clientId, redirectUri);
      const { code } = await approve(server, pending);
      const assertion = await clientAssertion(clientId, tokenEndpoint, key, kid);
      const first = await tokenRequest(server, { ...codeGrant(server, pending, code), ...assertion });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const replay = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token!, ...assertion });
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error, 'invalid_client');
    });
  });

  it('Claude (claude.ai): a public client with an https redirect on its own host', async () => {
    const clientId = docs.url('/oauth/mcp-oauth-client-metadata');
    const redirectUri = docs.url('/api/mcp/auth_callback');
    docs.route('/oauth/mcp-oauth-client-metadata', {
      client_id: clientId,
      client_name: 'Claude',
      client_uri: docs.url('/'),
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const pending = authorizationRequest(server, clientId, redirectUri);
    const { code } = await approve(server, pending);
    const tokens = await tokenRequest(server, { ...codeGrant(server, pending, code), client_id: clientId });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(await callMcp(server, tokens.body.access_token!), 200);
    const refreshed = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token!, client_id: clientId });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  });

  it('Claude Code: a public client whose loopback redirect comes back on any port', async () => {
    const clientId = docs.url('/oauth/claude-code-client-metadata');
    docs.route('/oauth/claude-code-client-metadata', {
      client_id: clientId,
      client_name: 'Claude Code',
      client_uri: 'https://claude.ai',
      redirect_uris: ['http://localhost/callback', 'http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const pending = authorizationRequest(server, clientId, 'http://localhost:54545/callback');
    const { code } = await approve(server, pending);
    const tokens = await tokenRequest(server, { ...codeGrant(server, pending, code), client_id: clientId });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(await callMcp(server, tokens.body.access_token!), 200);
  });

  it('VS Code: logo_uri on another domain is accepted, and the consent page shows the logo', async () => {
    const clientId = docs.url('/vscode/client-metadata.json');
    const logo = 'https://code.visualstudio-assets.example/assets/favicon.ico';
    docs.route('/vscode/client-metadata.json', {
      client_id: clientId,
      client_name: 'Visual Studio Code',
      client_uri: 'https://code.visualstudio.com',
      logo_uri: logo,
      redirect_uris: ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const pending = authorizationRequest(server, clientId, 'http://127.0.0.1:33418/');
    const { code, pages } = await approve(server, pending);
    const consent = pages.find((page) => page.body.includes('/consent"'));
    assert.ok(consent, 'a consent page was shown');
    assert.ok(consent.body.includes(`<img src="${logo}"`), 'the consent page shows the client logo');
    assert.ok(consent.body.includes('Visual Studio Code'));
    // The page's CSP lets the browser load it.
    const imgSrc = /img-src ([^;]*)/.exec(consent.headers.get('content-security-policy') ?? '')?.[1]?.split(' ') ?? [];
    assert.ok(imgSrc.includes('https:') || imgSrc.includes(new URL(logo).origin), `img-src ${imgSrc.join(' ')} blocks the logo`);
    const tokens = await tokenRequest(server, { ...codeGrant(server, pending, code), client_id: clientId });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  });

  it('unknown extra fields in a document are ignored, never fatal', async () => {
    const clientId = docs.url('/extra/client.json');
    const redirectUri = docs.url('/extra/callback');
    docs.route('/extra/client.json', {
      client_id: clientId,
      client_name: 'Extra fields',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      x_vendor: { nested: { deep: [1, 2, { three: true }] } },
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt', 'made_up'],
      future_metadata_field: 'value',
      dpop_bound_access_tokens_maybe: 42,
      'with-dash': null,
    });
    const pending = authorizationRequest(server, clientId, redirectUri);
    const { code } = await approve(server, pending);
    const tokens = await tokenRequest(server, { ...codeGrant(server, pending, code), client_id: clientId });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  });

  it('dynamic registration twice within two seconds for one connection: two client_ids, both work', async () => {
    const registration = {
      client_name: 'Claude',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
    const register = async () => {
      const response = await fetch(`${server.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(registration) });
      assert.equal(response.status, 201);
      return ((await response.json()) as { client_id: string }).client_id;
    };
    const started = Date.now();
    const [first, second] = await Promise.all([register(), register()]);
    assert.ok(Date.now() - started < 2000);
    assert.notEqual(first, second);

    // One browser: the second authorization reuses the sign-in of the first.
    const ua = new UserAgent();
    for (const clientId of [second!, first!]) {
      const pending = authorizationRequest(server, clientId, registration.redirect_uris[0]!);
      const { code } = await approve(server, pending, ua);
      const tokens = await tokenRequest(server, { ...codeGrant(server, pending, code), client_id: clientId });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(await callMcp(server, tokens.body.access_token!), 200);
    }
  });
});
