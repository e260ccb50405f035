/**
 * Dynamic client registration (RFC 7591) under each policy, and the clean-up of registrations
 * that never complete an authorization (clients that register on every attempt must not pile up).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerRaw, signIn } from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PUBLIC_CLIENT = { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' };
const IAT = 'initial-access-token-for-tests-0123456789';

describe('registration policies', () => {
  let open: TestServer;
  let gated: TestServer;
  let off: TestServer;

  before(async () => {
    open = await startTestServer();
    gated = await startTestServer({ registration: { policy: 'initial-access-token', initialAccessToken: IAT } });
    off = await startTestServer({ registration: { policy: 'off' } });
  });
  after(async () => {
    await Promise.all([open?.stop(), gated?.stop(), off?.stop()]);
  });

  it('open: anyone registers, and never receives an existing client_id', async () => {
    const first = await registerRaw(open, PUBLIC_CLIENT);
    const second = await registerRaw(open, { ...PUBLIC_CLIENT, client_id: first.body.client_id });
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.notEqual(second.body.client_id, first.body.client_id, 'a client_id in the request is ignored');
    assert.equal(first.body.registration_access_token, undefined, 'RFC 7592 management is off');
  });

  it('initial-access-token: refused without the token or with a wrong one, accepted with it', async () => {
    const url = `${gated.url}/oauth/register`;
    const attempt = (token?: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(PUBLIC_CLIENT),
      });
    for (const token of [undefined, 'wrong-token-wrong-token-wrong']) {
      const res = await attempt(token);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_token');
    }
    const ok = await attempt(IAT);
    assert.equal(ok.status, 201);
  });

  it('off: no registration endpoint, and discovery does not advertise one', async () => {
    const res = await registerRaw(off, PUBLIC_CLIENT);
    assert.equal(res.status, 404, 'no registration endpoint');
    const discovery = (await (await fetch(`${off.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(discovery.registration_endpoint, undefined);
  });

  it('removes dynamic clients that never completed an authorization, and keeps the ones that did', async () => {
    const idle = (await registerRaw(open, PUBLIC_CLIENT)).body;
    const used = (await registerRaw(open, PUBLIC_CLIENT)).body;
    await signIn(open, { client_id: String(used.client_id), token_endpoint_auth_method: 'none' });
    const day = open.config.registration.unusedClientTtl;
    // Not yet: registrations younger than the limit stay.
    await open.housekeep(Math.floor(Date.now() / 1000) + 60);
    assert.ok(await open.store.clients.find(String(idle.client_id)));
    const report = await open.housekeep(Math.floor(Date.now() / 1000) + day + 60);
    assert.ok(report.clients! >= 1);
    assert.equal(await open.store.clients.find(String(idle.client_id)), undefined, 'the never-used registration is gone');
    assert.ok(await open.store.clients.find(String(used.client_id)), 'the client that signed a user in stays');
  });
});
