/**
 * A real access token from the server stops working at its expiry (plus the guard's clock skew,
 * never more), with a challenge a client answers by refreshing — and the refreshed token works.
 * Access tokens live one second here so the wait stays short.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { CLOCK_SKEW } from '../../src/core/clock.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bearerParams, postMcp, signIn, toolsList } from './sign-in.ts';

describe('guard over HTTP: access-token expiry', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ tokens: { accessTokenTtl: 1 } });
  });
  after(() => server?.stop());

  it('an expired token gets 401 invalid_token within the clock skew, and a refreshed one works', async () => {
    const tokens = await signIn({ url: server.url, mcpUrl: server.mcpUrl, email: server.user.email, password: server.password });
    const { exp } = decodeJwt(tokens.access_token);
    assert.equal((await postMcp(server.mcpUrl, toolsList, { token: tokens.access_token })).status, 200);

    let answer = await postMcp(server.mcpUrl, toolsList, { token: tokens.access_token });
    while (answer.status === 200 && Date.now() / 1000 < exp! + CLOCK_SKEW + 3) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await postMcp(server.mcpUrl, toolsList, { token: tokens.access_token });
    }
    assert.equal(answer.status, 401, answer.text);
    assert.equal(bearerParams(answer.headers.get('www-authenticate')).error, 'invalid_token');
    assert.ok(Date.now() / 1000 <= exp! + CLOCK_SKEW + 2, 'refused no later than expiry plus the clock skew');

    const response = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: tokens.clientId }),
    });
    assert.equal(response.status, 200);
    const refreshed = (await response.json()) as { access_token: string };
    assert.equal((await postMcp(server.mcpUrl, toolsList, { token: refreshed.access_token })).status, 200);
  });
});
