/**
 * Rates on the OAuth token endpoint (per client, per client address) and on dynamic client
 * registration (per address), from the configuration's `limits.tokenEndpoint` and
 * `limits.registration`: over a rate the answer is 429 with Retry-After in the RFC 6749 §5.2
 * error shape, and the engine does nothing for the request (no client registered, no token).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addStaticClient, endpoint, postForm, registerRaw, type OAuthResponse } from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

function assertTooMany(res: OAuthResponse): void {
  assert.equal(res.status, 429, JSON.stringify(res.body));
  assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After');
  assert.equal(res.body.error, 'temporarily_unavailable');
  assert.equal(typeof res.body.error_description, 'string');
  assert.equal(res.headers.get('cache-control'), 'no-store');
}

describe('the token endpoint', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ limits: { tokenEndpoint: { client: { limit: 2, window: 60 }, ip: { limit: 5, window: 60 } } } });
  });
  after(() => server?.stop());

  const token = (client: Parameters<typeof postForm>[2]) => postForm(endpoint(server, 'token'), { grant_type: 'client_credentials' }, client);

  it('holds one client to its rate, whether it authenticates in the header or in the body; another client goes on', async () => {
    const basic = await addStaticClient(server, { client_name: 'Nightly job' });
    const inBody = await addStaticClient(server, { client_name: 'Form poster', token_endpoint_auth_method: 'client_secret_post' });
    assert.equal((await token(basic)).status, 200);
    assert.equal((await token(basic)).status, 200);
    assertTooMany(await token(basic));
    assert.equal((await token(inBody)).status, 200);
    assert.equal((await token(inBody)).status, 200);
    assertTooMany(await token(inBody));
  });

  it('holds one address to its rate, whatever the client', async () => {
    // Six requests so far from this address (two of them refused above still counted at the address).
    const fresh = await addStaticClient(server, { client_name: 'Fresh' });
    assertTooMany(await token(fresh));
  });
});

describe('dynamic client registration', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ limits: { registration: { ip: '2/1h' } } });
  });
  after(() => server?.stop());

  it('registers a few clients from one address, then refuses with 429 and registers nothing', async () => {
    const metadata = { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', client_name: 'Agent' };
    assert.equal((await registerRaw(server, metadata)).status, 201);
    assert.equal((await registerRaw(server, metadata)).status, 201);
    const before = (await server.store.clients.list()).length;
    const refused = await registerRaw(server, metadata);
    assertTooMany(refused);
    assert.ok(Number(refused.headers.get('retry-after')) <= 3600);
    assert.equal((await server.store.clients.list()).length, before, 'nothing registered');
  });
});
