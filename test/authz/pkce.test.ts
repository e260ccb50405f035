/**
 * PKCE is required, S256 only (OAuth 2.1 §4.1.1, RFC 9700 §2.1.1): a request without a challenge,
 * with `plain`, or redeemed with another verifier gets nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertOAuthError,
  assertTokens,
  authorizationUrl,
  authorizeOnce,
  newPkce,
  obtainCode,
  redeemCode,
  registerPublic,
  type RegisteredClient,
} from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('PKCE', () => {
  let server: TestServer;
  let client: RegisteredClient;

  before(async () => {
    server = await startTestServer();
    client = await registerPublic(server);
  });
  after(() => server?.stop());

  /** The error the authorization endpoint sends back to the client's redirect URI. */
  async function authorizeError(params: Record<string, string | undefined>) {
    const { url, redirectUri, state } = authorizationUrl(server, client, { params });
    const answer = await authorizeOnce(url);
    assert.ok(answer.status < 500, `HTTP ${answer.status}`);
    assert.ok(answer.location, `expected a redirect to the client, got ${answer.status}`);
    assert.equal(answer.location.origin + answer.location.pathname, redirectUri);
    assert.equal(answer.location.searchParams.get('state'), state);
    assert.equal(answer.location.searchParams.get('code'), null);
    return answer.location.searchParams.get('error');
  }

  it('refuses an authorization request without code_challenge (invalid_request)', async () => {
    assert.equal(await authorizeError({ code_challenge: undefined, code_challenge_method: undefined }), 'invalid_request');
  });

  it('refuses code_challenge_method=plain (invalid_request)', async () => {
    const { verifier } = newPkce();
    assert.equal(await authorizeError({ code_challenge: verifier, code_challenge_method: 'plain' }), 'invalid_request');
  });

  it('refuses a code_challenge with no method (it would mean plain) (invalid_request)', async () => {
    const { verifier } = newPkce();
    assert.equal(await authorizeError({ code_challenge: verifier, code_challenge_method: undefined }), 'invalid_request');
  });

  it('refuses a code redeemed with the wrong code_verifier (invalid_grant), and without one', async () => {
    const grant = await obtainCode(server, client);
    assertOAuthError(await redeemCode(server, client, { ...grant, pkce: newPkce() }), 'invalid_grant', 400);
    assertOAuthError(await redeemCode(server, client, grant, { code_verifier: undefined }), 'invalid_grant', 400);
    // The challenge itself is not a verifier either (a `plain` downgrade at the token endpoint).
    assertOAuthError(await redeemCode(server, client, grant, { code_verifier: grant.pkce.challenge }), 'invalid_grant', 400);
  });

  it('redeems a code with the right verifier', async () => {
    const grant = await obtainCode(server, client);
    assertTokens(await redeemCode(server, client, grant));
  });
});
