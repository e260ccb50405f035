/**
 * An issuer with a path (https://host/auth): RFC 8414 §3.1 puts the well-known segment before the
 * path, the OpenID form appends it, RFC 9728 likewise for the resource, and a whole sign-in works
 * with every URL under the path.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { authorizeInBrowser } from '../helpers/oauth-flow.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const insecure = { [oauth.allowInsecureRequests]: true };
const REDIRECT = 'http://127.0.0.1/callback';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('an issuer with a path', () => {
  let server: TestServer;
  let issuer: string;

  before(async () => {
    const port = await freePort();
    issuer = `http://localhost:${port}/auth`;
    server = await startTestServer({ port, publicUrl: issuer });
  });
  after(() => server?.stop());

  it('publishes both metadata forms with the exact issuer, and the resource under the path', async () => {
    const origin = new URL(issuer).origin;
    const rfc8414 = (await (await fetch(`${origin}/.well-known/oauth-authorization-server/auth`)).json()) as Record<string, string>;
    const openid = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    assert.equal(rfc8414.issuer, issuer);
    assert.equal(openid.issuer, issuer);
    assert.equal(rfc8414.token_endpoint, `${issuer}/oauth/token`);
    assert.equal(server.mcpUrl, `${issuer}/mcp`);
    const challenge = await fetch(server.mcpUrl, { method: 'POST' });
    assert.equal(challenge.status, 401);
    assert.match(challenge.headers.get('www-authenticate')!, new RegExp(`resource_metadata="${origin}/.well-known/oauth-protected-resource/auth/mcp"`));
    const prm = (await (await fetch(`${origin}/.well-known/oauth-protected-resource/auth/mcp`)).json()) as Record<string, unknown>;
    assert.equal(prm.resource, server.mcpUrl);
    assert.deepEqual(prm.authorization_servers, [issuer]);
  });

  it('builds every URL from the public URL, whatever Host or X-Forwarded-Proto a request claims', async () => {
    const { request } = await import('node:http');
    const url = new URL(`${issuer}/.well-known/openid-configuration`);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: url.port, path: url.pathname, headers: { host: 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const metadata = JSON.parse(body) as Record<string, unknown>;
    assert.equal(metadata.issuer, issuer);
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value === 'string' && key.endsWith('_endpoint')) assert.ok(value.startsWith(`${issuer}/`), `${key} = ${value}`);
    }
  });

  it('pages for a sign-in that no longer exists still load their stylesheet from under the path', async () => {
    const res = await fetch(`${issuer}/interaction/no-such-interaction`);
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /href="\/auth\/assets\/portcullis\.css"/);
    assert.equal((await fetch(`${issuer}/assets/portcullis.css`)).status, 200);
  });

  it('signs a client in end to end', async () => {
    const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }));
    const client = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(as, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }, insecure),
    );
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource: server.mcpUrl,
    }).toString();
    const { callback } = await authorizeInBrowser(url.href, { email: server.user.email, password: server.password, redirectUri: REDIRECT });
    const params = oauth.validateAuthResponse(as, client, callback, oauth.expectNoState);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, insecure),
    );
    const res = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    assert.equal(res.status, 200);
  });
});
