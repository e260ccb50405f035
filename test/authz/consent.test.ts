/**
 * Remembered consent, only where the server can tell the client is who it says it is
 * (RFC 8252 §8.6, RFC 9700 §4.15): a confidential client approved once is not asked again in the
 * same browser; a public client — loopback or not — is asked every time, because any local
 * program can use its client_id and loopback redirect.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertTokens, authorizationUrl, obtainCode, redeemCode, registerConfidential, registerPublic, type RegisteredClient } from '../helpers/authz.ts';
import type { PageResponse } from '../helpers/user-agent.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const REDIRECT = 'https://app.example.com/callback';

const sawConsent = (pages: PageResponse[]) => pages.some((p) => p.body.includes('/consent"'));
const sawSignIn = (pages: PageResponse[]) => pages.some((p) => p.body.includes('/login"'));

describe('remembered consent', () => {
  let server: TestServer;
  let confidential: RegisteredClient;
  let loopback: RegisteredClient;
  let publicWeb: RegisteredClient;

  before(async () => {
    server = await startTestServer();
    confidential = await registerConfidential(server, { redirect_uris: [REDIRECT] });
    loopback = await registerPublic(server);
    publicWeb = await registerPublic(server, { redirect_uris: [REDIRECT] });
  });
  after(() => server?.stop());

  it('does not ask again for a confidential client approved once', async () => {
    const ua = new UserAgent();
    const first = await obtainCode(server, confidential, { redirectUri: REDIRECT, ua });
    assert.ok(sawSignIn(first.pages) && sawConsent(first.pages));
    assertTokens(await redeemCode(server, confidential, first));

    const second = await obtainCode(server, confidential, { redirectUri: REDIRECT, ua });
    assert.equal(sawConsent(second.pages), false, 'no consent page the second time');
    assert.equal(sawSignIn(second.pages), false);
    const tokens = assertTokens(await redeemCode(server, confidential, second));
    assert.equal(tokens.scope, 'demo:read demo:write');
  });

  it('asks again when a confidential client wants more than was approved, or the client demands it', async () => {
    const ua = new UserAgent();
    await obtainCode(server, confidential, { redirectUri: REDIRECT, ua, scope: 'demo:read' });
    const wider = await obtainCode(server, confidential, { redirectUri: REDIRECT, ua, scope: 'demo:read demo:delete' });
    assert.ok(sawConsent(wider.pages), 'a new scope needs consent');
    const consentPage = wider.pages.find((p) => p.body.includes('/consent"'))!;
    assert.ok(consentPage.body.includes('value="0|demo:delete"'), 'asks for the new scope');
    assert.ok(!consentPage.body.includes('value="0|demo:read"'), 'not for the one already approved');
    const forced = await obtainCode(server, confidential, { redirectUri: REDIRECT, ua, scope: 'demo:read', params: { prompt: 'consent' } });
    assert.ok(sawConsent(forced.pages), 'prompt=consent asks');
  });

  it('asks a public client with a loopback redirect every time', async () => {
    const ua = new UserAgent();
    for (let i = 0; i < 3; i++) {
      const grant = await obtainCode(server, loopback, { ua });
      assert.ok(sawConsent(grant.pages), `consent page on authorization ${i + 1}`);
      if (i > 0) assert.equal(sawSignIn(grant.pages), false, 'the sign-in is remembered, the consent is not');
      assertTokens(await redeemCode(server, loopback, grant));
    }
  });

  it('never issues a silent code (prompt=none) to a public client, only to an approved confidential one', async () => {
    const ua = new UserAgent();
    await obtainCode(server, loopback, { ua });
    const { url, state } = authorizationUrl(server, loopback, { params: { prompt: 'none' } });
    const silent = await ua.follow(url, (location) => location.startsWith('http://127.0.0.1:'));
    const callback = new URL(silent.url);
    assert.equal(callback.searchParams.get('error'), 'consent_required');
    assert.equal(callback.searchParams.get('code'), null);
    assert.equal(callback.searchParams.get('state'), state);
    assert.equal(callback.searchParams.get('iss'), server.url);

    await obtainCode(server, confidential, { redirectUri: REDIRECT, ua });
    const approved = authorizationUrl(server, confidential, { redirectUri: REDIRECT, params: { prompt: 'none' } });
    const back = new URL((await ua.follow(approved.url, (location) => location.startsWith(REDIRECT))).url);
    assert.ok(back.searchParams.get('code'), `expected a code, got ${back.search}`);
  });

  it('asks a public client with an https redirect every time too', async () => {
    const ua = new UserAgent();
    await obtainCode(server, publicWeb, { redirectUri: REDIRECT, ua });
    const again = await obtainCode(server, publicWeb, { redirectUri: REDIRECT, ua });
    assert.ok(sawConsent(again.pages));
  });

  it("does not carry one client's approval over to another client", async () => {
    const ua = new UserAgent();
    await obtainCode(server, confidential, { redirectUri: REDIRECT, ua });
    const otherClient = await registerConfidential(server, { redirect_uris: [REDIRECT] });
    const other = await obtainCode(server, otherClient, { redirectUri: REDIRECT, ua });
    assert.ok(sawConsent(other.pages));
  });
});
