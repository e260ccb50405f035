/**
 * Redirect URIs match exactly (OAuth 2.1 §4.1.1, RFC 9700 §4.1.3); a loopback registration
 * matches on any port, for web and native clients alike, and on nothing else (RFC 8252 §7.3).
 * A refused redirect URI never gets a redirect: the server shows its own error page, because the
 * address is the attacker's. Non-loopback http is refused at registration (OAuth 2.1 §2.3.1).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertOAuthError,
  assertTokens,
  authorizationUrl,
  authorizeOnce,
  engineErrorCode,
  obtainCode,
  redeemCode,
  register,
  registerRaw,
  type RegisteredClient,
} from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const WEB = 'https://app.example.com/callback';
const LOOPBACKS = ['http://127.0.0.1/callback', 'http://localhost/callback', 'http://[::1]/callback'];

describe('redirect URIs', () => {
  let server: TestServer;
  let web: RegisteredClient;
  let loopbackWeb: RegisteredClient;
  let loopbackNative: RegisteredClient;
  let ipv4Only: RegisteredClient;

  before(async () => {
    server = await startTestServer();
    web = await register(server, { redirect_uris: [WEB], token_endpoint_auth_method: 'none' });
    loopbackWeb = await register(server, { redirect_uris: LOOPBACKS, token_endpoint_auth_method: 'none' });
    loopbackNative = await register(server, { redirect_uris: LOOPBACKS, token_endpoint_auth_method: 'none', application_type: 'native' });
    ipv4Only = await register(server, { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' });
  });
  after(() => server?.stop());

  /** The request is refused with the server's own error page: no redirect anywhere. */
  async function assertRefused(client: RegisteredClient, redirectUri: string) {
    const answer = await authorizeOnce(authorizationUrl(server, client, { redirectUri }).url);
    assert.ok(answer.status < 500, `${redirectUri}: HTTP ${answer.status}`);
    assert.equal(answer.location, undefined, `${redirectUri}: redirected to ${answer.location?.href}`);
    assert.equal(answer.status, 400, redirectUri);
    assert.equal(engineErrorCode(answer.body), 'invalid_redirect_uri', redirectUri);
  }

  /** The request is accepted: the browser goes on to sign in at this server, not to the client. */
  async function assertAccepted(client: RegisteredClient, redirectUri: string) {
    const answer = await authorizeOnce(authorizationUrl(server, client, { redirectUri }).url);
    assert.equal(answer.status, 303, `${redirectUri}: HTTP ${answer.status} ${engineErrorCode(answer.body) ?? ''}`);
    assert.equal(answer.location?.origin, new URL(server.url).origin, redirectUri);
    assert.match(answer.location!.pathname, /^\/interaction\//, redirectUri);
  }

  it('accepts the registered URI exactly, and completes a flow with it', async () => {
    await assertAccepted(web, WEB);
    const grant = await obtainCode(server, web, { redirectUri: WEB });
    assert.equal(grant.callback.origin + grant.callback.pathname, WEB);
    assertTokens(await redeemCode(server, web, grant));
  });

  it('refuses look-alikes of an https redirect URI without redirecting to them', async () => {
    const tricks = [
      'https://app.example.com/call', // prefix
      'https://app.example.com/callback2', // suffix
      'https://app.example.com/callback/', // trailing slash
      'https://app.example.com/callback/evil', // extra path
      'https://app.example.com/callback/../evil',
      'https://app.example.com/callback?next=https://evil.example', // added query
      'https://app.example.com.evil.example/callback', // host suffix
      'https://app.example.com@evil.example/callback', // userinfo
      'https://evil.example/?https://app.example.com/callback',
      'https://APP.EXAMPLE.COM/callback', // case
      'https://app.example.com/Callback',
      'HTTPS://app.example.com/callback',
      'https://app.example.com/%63allback', // percent-encoding
      'https://app.example.com%2eevil.example/callback',
      'https://app.example.com/callback%23.evil.example',
      'https://app.example.com/callback#fragment', // fragment
      'http://app.example.com/callback', // scheme
      'https://app.example.com:443/callback', // explicit port
      'https://app.example.com:8443/callback',
      ' https://app.example.com/callback',
    ];
    for (const trick of tricks) await assertRefused(web, trick);
  });

  for (const [kind, client] of [
    ['web', () => loopbackWeb],
    ['native', () => loopbackNative],
  ] as const) {
    it(`accepts a loopback redirect on any port for a ${kind} client (RFC 8252 §7.3)`, async () => {
      for (const registered of LOOPBACKS) {
        const url = new URL(registered);
        for (const port of ['', ':1', ':8080', ':53682', ':65535']) {
          await assertAccepted(client(), `http://${url.host}${port}${url.pathname}`);
        }
      }
    });

    it(`refuses every other variation of a loopback redirect for a ${kind} client`, async () => {
      const tricks = [
        'http://127.0.0.1@evil.example/callback', // userinfo
        'http://127.0.0.1:80@evil.example/callback',
        'http://localhost@evil.example/callback',
        'http://127.0.0.1.evil.example/callback', // host suffix
        'http://localhost.evil.example:8080/callback',
        'http://127.0.0.2:8080/callback', // another address
        'http://0x7f000001:8080/callback',
        'http://[::ffff:127.0.0.1]:8080/callback',
        'https://127.0.0.1:8080/callback', // scheme
        'HTTP://127.0.0.1:8080/callback',
        'http://LOCALHOST:8080/callback', // case
        'http://127.0.0.1:8080/Callback',
        'http://127.0.0.1:8080/%63allback', // percent-encoding
        'http://127.0.0.1:8080/callback/evil', // extra path
        'http://127.0.0.1:8080//evil.example/callback',
        'http://127.0.0.1:8080/call', // prefix
        'http://127.0.0.1:8080/callbackx', // suffix
        'http://127.0.0.1:8080/callback?x=1', // added query
        'http://127.0.0.1:8080/callback#x', // fragment
        'http://127.0.0.1:abc/callback',
      ];
      for (const trick of tricks) await assertRefused(client(), trick);
    });
  }

  it('only the registered loopback host varies by port: 127.0.0.1 does not admit localhost or [::1]', async () => {
    await assertAccepted(ipv4Only, 'http://127.0.0.1:4321/callback');
    await assertRefused(ipv4Only, 'http://localhost:4321/callback');
    await assertRefused(ipv4Only, 'http://[::1]:4321/callback');
  });

  it('completes a flow on an ephemeral port and redeems with that exact redirect_uri', async () => {
    const redirectUri = 'http://[::1]:41234/callback';
    const grant = await obtainCode(server, loopbackWeb, { redirectUri });
    assert.equal(grant.callback.host, '[::1]:41234');
    // The token request must name the same redirect_uri as the authorization request, port included.
    assertOAuthError(await redeemCode(server, loopbackWeb, { ...grant, redirectUri: 'http://[::1]:41235/callback' }), 'invalid_grant', 400);
    assertTokens(await redeemCode(server, loopbackWeb, grant));
  });

  it('refuses non-loopback http redirect URIs at registration (invalid_redirect_uri)', async () => {
    for (const uri of [
      'http://app.example.com/callback',
      'http://localhost.evil.example/callback',
      'http://127.0.0.1.nip.io/callback',
      'http://10.0.0.1/callback',
      'http://127.0.0.1@evil.example/callback',
    ]) {
      const res = await registerRaw(server, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      assertOAuthError(res, 'invalid_redirect_uri', 400);
    }
    // Even next to a valid one.
    const mixed = await registerRaw(server, { redirect_uris: [WEB, 'http://evil.example/callback'], token_endpoint_auth_method: 'none' });
    assertOAuthError(mixed, 'invalid_redirect_uri', 400);
    // A fragment is never allowed in a registered redirect URI (RFC 6749 §3.1.2).
    assertOAuthError(await registerRaw(server, { redirect_uris: ['https://app.example.com/cb#x'] }), 'invalid_redirect_uri', 400);
  });
});
