/**
 * The client_credentials grant (RFC 6749 §4.4) for confidential clients an administrator
 * registered: the token's audience is a registered resource (RFC 8707), an unknown resource is
 * invalid_target, a wrong secret is invalid_client, and the store holds a keyed hash of the secret,
 * never the secret. A token with no user behind it is for pre-registered clients only: neither
 * dynamic registration nor a Client ID Metadata Document can obtain one.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import {
  addStaticClient,
  assertOAuthError,
  endpoint,
  introspect,
  mcpStatus,
  postForm,
  registerConfidential,
  registerRaw,
  type ClientCredentials,
} from '../helpers/authz.ts';
import { startHttpsFixture, type HttpsFixture } from '../helpers/https-fixture.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('client_credentials', () => {
  let server: TestServer;
  let machine: ClientCredentials & { client_id: string; client_secret: string };
  let docs: HttpsFixture;

  before(async () => {
    server = await startTestServer({ cimd: { allowPrivateAddresses: true } });
    docs = await startHttpsFixture();
    machine = await addStaticClient(server, { client_name: 'Nightly job' });
  });
  after(async () => {
    await docs?.close();
    await server?.stop();
  });

  const token = (client: ClientCredentials, params: Record<string, string> = {}) =>
    postForm(endpoint(server, 'token'), { grant_type: 'client_credentials', ...params }, client);

  it('issues a token whose audience is the registered resource, named or not', async () => {
    for (const params of [{ resource: server.mcpUrl }, {}] as Record<string, string>[]) {
      const res = await token(machine, params);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(String(res.body.token_type).toLowerCase(), 'bearer');
      assert.equal(res.body.refresh_token, undefined, 'no refresh token without a user');
      const claims = decodeJwt(String(res.body.access_token));
      assert.equal(claims.aud, server.mcpUrl);
      assert.equal(claims.client_id, machine.client_id);
      assert.equal(claims.sub, machine.client_id);
      assert.equal(await mcpStatus(server, String(res.body.access_token)), 200);
    }
  });

  it('gives a service account no more than its administrator allowed, and always says what it got', async () => {
    // Default: the resource's default scopes at most — a service account cannot take demo:delete.
    const wide = await token(machine, { resource: server.mcpUrl, scope: 'demo:read demo:delete' });
    assert.equal(wide.status, 200, JSON.stringify(wide.body));
    assert.equal(wide.body.scope, 'demo:read');
    // An explicit allow-list (clients add --scope) narrows further.
    const reader = await addStaticClient(server, { client_name: 'Reader job', portcullis_scopes: ['demo:read'] });
    const narrowed = await token(reader, { resource: server.mcpUrl, scope: 'demo:read demo:write' });
    assert.equal(narrowed.body.scope, 'demo:read');
    assert.equal(decodeJwt(String(narrowed.body.access_token)).scope, 'demo:read');
    // Asking for nothing yields nothing, and the response still carries `scope`.
    const none = await token(reader, { resource: server.mcpUrl });
    assert.equal(none.status, 200);
    assert.equal(none.body.scope, '');
  });

  it('carries the scopes asked for in the response and the token', async () => {
    const res = await token(machine, { resource: server.mcpUrl, scope: 'demo:read' });
    assert.equal(res.status, 200);
    assert.equal(res.body.scope, 'demo:read');
    assert.equal(decodeJwt(String(res.body.access_token)).scope, 'demo:read');
  });

  it('refuses an unknown resource (invalid_target)', async () => {
    for (const resource of ['https://evil.example/mcp', `${server.mcpUrl}/other`]) {
      assertOAuthError(await token(machine, { resource }), 'invalid_target', 400);
    }
  });

  it('refuses a wrong secret, an unknown client, and the stored hash used as a secret (invalid_client)', async () => {
    assertOAuthError(await token({ ...machine, client_secret: `${machine.client_secret}x` }), 'invalid_client', 401);
    assertOAuthError(await token({ ...machine, client_id: 'static_nobody' }), 'invalid_client', 401);
    // A copy of the database does not let anyone authenticate as the client.
    const stored = String((await server.store.clients.find(machine.client_id))!.metadata.client_secret);
    assertOAuthError(await token({ ...machine, client_secret: stored }), 'invalid_client', 401);
    // No credentials at all.
    assertOAuthError(await token({ client_id: machine.client_id, token_endpoint_auth_method: 'none' }), 'invalid_client', 401);
    // An empty secret in the Basic header: the engine calls that a malformed request.
    assertOAuthError(await token({ ...machine, client_secret: '' }), 'invalid_request', 400);
  });

  it('stores a keyed hash of the secret, never the secret', async () => {
    const stored = (await server.store.clients.find(machine.client_id))!;
    const value = String(stored.metadata.client_secret);
    assert.notEqual(value, machine.client_secret);
    assert.ok(!value.includes(machine.client_secret));
    assert.match(value, /^hmac:/);
    // Dynamically registered secrets too.
    const dynamic = await registerConfidential(server);
    const record = (await server.store.clients.find(dynamic.client_id))!;
    assert.ok(dynamic.client_secret);
    assert.ok(!JSON.stringify(record.metadata).includes(dynamic.client_secret));
  });

  it('lets the client introspect its own token', async () => {
    const res = await token(machine, { scope: 'demo:read' });
    const answer = await introspect(server, machine, String(res.body.access_token));
    assert.equal(answer.body.active, true);
    assert.equal(answer.body.client_id, machine.client_id);
    assert.equal(answer.body.scope, 'demo:read');
  });

  it('refuses to register a client_credentials client dynamically (invalid_client_metadata)', async () => {
    const res = await registerRaw(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
    assertOAuthError(res, 'invalid_client_metadata', 400);
    const mixed = await registerRaw(server, { grant_types: ['authorization_code', 'client_credentials'], redirect_uris: ['https://app.example.com/cb'] });
    assertOAuthError(mixed, 'invalid_client_metadata', 400);
  });

  it('refuses client_credentials to a dynamically registered confidential client', async () => {
    const dynamic = await registerConfidential(server);
    // oidc-provider answers invalid_request for a grant type the client did not register
    // (RFC 6749 §5.2 would say unauthorized_client).
    assertOAuthError(await token(dynamic), 'invalid_request', 400);
  });

  it('refuses client_credentials to a metadata-document client that claims it (unauthorized_client)', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const key: CryptoKey = pair.privateKey;
    const kid = 'job-1';
    const clientId = docs.url('/robot/client.json');
    docs.route('/robot/client.json', {
      client_id: clientId,
      client_name: 'Robot',
      redirect_uris: [docs.url('/robot/cb')],
      grant_types: ['client_credentials', 'authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' }] },
    });
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(endpoint(server, 'token'))
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(key);
    const res = await postForm(endpoint(server, 'token'), {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    assert.equal(res.body.access_token, undefined);
    assertOAuthError(res, 'unauthorized_client', 400);
  });
});
