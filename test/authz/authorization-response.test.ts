/**
 * What the authorization endpoint sends back to the client: `state` exactly as the client sent
 * it (RFC 6749 §4.1.2), and `iss` on every response, successful or not (RFC 9207 §2), so a client
 * talking to several servers can tell which one answered (mix-up attacks, RFC 9700 §4.4).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorizationUrl, authorizeOnce, obtainCode, registerPublic, type RegisteredClient } from '../helpers/authz.ts';
import { authorizeInBrowser } from '../helpers/oauth-flow.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { UserAgent } from '../helpers/user-agent.ts';

describe('authorization responses', () => {
  let server: TestServer;
  let client: RegisteredClient;

  before(async () => {
    server = await startTestServer();
    client = await registerPublic(server);
  });
  after(() => server?.stop());

  it('returns state unchanged, whatever characters it holds, with iss next to the code', async () => {
    for (const state of ['abc', 'a b&c=d+e/f?g#h%20', 'ünïcødé-✓', 'x'.repeat(300)]) {
      const grant = await obtainCode(server, client, { state });
      assert.equal(grant.callback.searchParams.get('state'), state);
      assert.equal(grant.callback.searchParams.get('iss'), server.url);
      assert.ok(grant.callback.searchParams.get('code'));
    }
  });

  it('sends access_denied with iss and state when the user denies consent', async () => {
    const { url, state, redirectUri } = authorizationUrl(server, client);
    const { callback } = await authorizeInBrowser(url, { email: server.user.email, password: server.password, redirectUri, decision: 'deny' });
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('iss'), server.url);
    assert.equal(callback.searchParams.get('state'), state);
    assert.equal(callback.searchParams.get('code'), null);
  });

  it('sends access_denied with iss and state when the user cancels at sign-in', async () => {
    const { url, state, redirectUri } = authorizationUrl(server, client);
    const ua = new UserAgent();
    const atClient = (location: string) => location.startsWith('http://127.0.0.1:');
    const signInPage = await ua.follow(url, atClient);
    assert.equal(signInPage.status, 200);
    const back = await ua.submit(signInPage, /\/abort$/, {}, atClient);
    const callback = new URL(back.url);
    assert.equal(callback.origin + callback.pathname, redirectUri);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('iss'), server.url);
    assert.equal(callback.searchParams.get('state'), state);
  });

  it('puts iss and state on errors the endpoint answers at once (invalid_request, unsupported_response_type, invalid_target)', async () => {
    const cases: [Record<string, string | undefined>, string][] = [
      [{ code_challenge: undefined }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ resource: 'https://unknown.example/mcp' }, 'invalid_target'],
    ];
    for (const [params, code] of cases) {
      const { url, state } = authorizationUrl(server, client, { params });
      const answer = await authorizeOnce(url);
      assert.ok(answer.status < 500 && answer.location, `${code}: HTTP ${answer.status}`);
      // response_type=token's default response mode is the fragment (OAuth 2.0 Multiple Response Types §5).
      const response = answer.location.search ? answer.location.searchParams : new URLSearchParams(answer.location.hash.slice(1));
      assert.equal(response.get('error'), code);
      assert.equal(response.get('iss'), server.url, code);
      assert.equal(response.get('state'), state, code);
    }
  });
});
