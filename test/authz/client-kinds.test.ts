/**
 * `clientKinds` decides which kinds of clients may connect at all: a kind an administrator
 * switched off stops working at once, including for clients registered before the switch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addStaticClient, assertOAuthError, authorizationUrl, endpoint, postForm, registerPublic, registerRaw } from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('client kinds', () => {
  let dynamicOnly: TestServer;
  let preRegisteredOnly: TestServer;

  before(async () => {
    dynamicOnly = await startTestServer({ clientKinds: ['dynamic'] });
    preRegisteredOnly = await startTestServer({ clientKinds: ['pre-registered'] });
  });
  after(async () => {
    await dynamicOnly?.stop();
    await preRegisteredOnly?.stop();
  });

  it('refuses pre-registered clients when only dynamic ones are allowed (invalid_client)', async () => {
    const machine = await addStaticClient(dynamicOnly, { client_name: 'Switched off' });
    const res = await postForm(endpoint(dynamicOnly, 'token'), { grant_type: 'client_credentials', resource: dynamicOnly.mcpUrl }, machine);
    assertOAuthError(res, 'invalid_client', 401);
    // Dynamic registration still works there.
    const client = await registerPublic(dynamicOnly);
    const { url } = authorizationUrl(dynamicOnly, client);
    const page = await fetch(url, { redirect: 'manual' });
    assert.equal(page.status, 303);
  });

  it('turns registration off and refuses stored dynamic clients when only pre-registered ones are allowed', async () => {
    const res = await registerRaw(preRegisteredOnly, { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' });
    // Registration is off: the endpoint does not exist.
    assert.equal(res.status, 404, `registration must be off, got ${res.status}`);
    // A dynamic client stored earlier (e.g. before the administrator changed the setting) no longer resolves.
    await preRegisteredOnly.store.clients.upsert({
      clientId: 'dyn_registered_earlier',
      kind: 'dynamic',
      metadata: { client_id: 'dyn_registered_earlier', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
    });
    const { url } = authorizationUrl(preRegisteredOnly, { client_id: 'dyn_registered_earlier' }, { redirectUri: 'http://127.0.0.1/cb' });
    const page = await fetch(url, { redirect: 'manual' });
    assert.equal(page.status, 400);
    assert.equal(page.headers.get('location'), null, 'never redirects for an unknown client');
    const discovery = (await (await fetch(`${preRegisteredOnly.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(discovery.registration_endpoint, undefined);
    assert.equal(discovery.client_id_metadata_document_supported, undefined);
  });
});
