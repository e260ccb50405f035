/**
 * Discovery decides where the user's tokens go, so a server that points elsewhere is refused:
 * resource metadata for another resource (RFC 9728 §3.3), authorization-server metadata naming
 * another issuer (RFC 8414 §3.3), plain http to a host that is not loopback, a server without the
 * device grant. And an ID token issued to another client never names the signed-in user.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createGuardFetch } from '../../src/shared/outbound.ts';
import { discoverFromMcpUrl } from '../../src/sdk/device-login/discovery.ts';
import { DeviceLoginError } from '../../src/sdk/device-login/errors.ts';
import { identityFrom } from '../../src/sdk/device-login/oauth.ts';

/** A fake MCP server + authorization server whose documents each test sets. */
describe('discovery refuses servers that point elsewhere', () => {
  let http: Server;
  let base: string;
  let documents: Record<string, unknown> = {};
  const fetch = createGuardFetch({ allowHttpLoopback: true });

  before(async () => {
    http = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/mcp') {
        res.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"` }).end();
        return;
      }
      const body = documents[req.url ?? ''];
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => http.close(() => resolve())));

  const metadata = (overrides: Record<string, unknown> = {}) => ({
    issuer: base,
    token_endpoint: `${base}/oauth/token`,
    device_authorization_endpoint: `${base}/oauth/device/authorize`,
    ...overrides,
  });

  async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
    try {
      await promise;
    } catch (err) {
      assert.ok(err instanceof DeviceLoginError, String(err));
      return err.code;
    }
    return undefined;
  }

  it('follows the 401 to the resource metadata and the authorization server', async () => {
    documents = {
      '/.well-known/oauth-protected-resource/mcp': { resource: `${base}/mcp`, authorization_servers: [base] },
      '/.well-known/oauth-authorization-server': metadata(),
    };
    const target = await discoverFromMcpUrl(fetch, `${base}/mcp`);
    assert.equal(target.resource, `${base}/mcp`);
    assert.equal(target.deviceAuthorizationEndpoint, `${base}/oauth/device/authorize`);
  });

  it('resource metadata describing another resource is refused (tokens would be minted for it)', async () => {
    documents = {
      '/.well-known/oauth-protected-resource/mcp': { resource: 'https://victim.example.com/mcp', authorization_servers: [base] },
      '/.well-known/oauth-authorization-server': metadata(),
    };
    assert.equal(await codeOf(discoverFromMcpUrl(fetch, `${base}/mcp`)), 'discovery_failed');
  });

  it('authorization-server metadata naming another issuer is refused', async () => {
    documents = {
      '/.well-known/oauth-protected-resource/mcp': { resource: `${base}/mcp`, authorization_servers: [base] },
      '/.well-known/oauth-authorization-server': metadata({ issuer: 'https://attacker.example.com' }),
    };
    assert.equal(await codeOf(discoverFromMcpUrl(fetch, `${base}/mcp`)), 'discovery_failed');
  });

  it('an authorization server on plain http that is not loopback is never contacted', async () => {
    documents = {
      '/.well-known/oauth-protected-resource/mcp': { resource: `${base}/mcp`, authorization_servers: ['http://auth.example.com'] },
    };
    assert.equal(await codeOf(discoverFromMcpUrl(fetch, `${base}/mcp`)), 'discovery_failed');
  });

  it('a server without the device grant says so', async () => {
    documents = {
      '/.well-known/oauth-protected-resource/mcp': { resource: `${base}/mcp`, authorization_servers: [base] },
      '/.well-known/oauth-authorization-server': metadata({ device_authorization_endpoint: undefined }),
    };
    assert.equal(await codeOf(discoverFromMcpUrl(fetch, `${base}/mcp`)), 'device_flow_unsupported');
  });
});

describe('who signed in', () => {
  const key = new TextEncoder().encode('x'.repeat(32));
  const idToken = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);

  it('is read from an ID token for this client from this issuer, org claims included when present', async () => {
    const token = await idToken({ iss: 'https://auth.example.com', aud: 'portcullis-cli', sub: 'usr_1', email: 'ada@example.com', org_id: 'org_1', org_slug: 'acme', workspaces: [{ id: 'ws_1', name: 'R&D' }, { bogus: true }] });
    assert.deepEqual(identityFrom(token, 'https://auth.example.com', 'portcullis-cli'), {
      sub: 'usr_1',
      email: 'ada@example.com',
      org: { id: 'org_1', slug: 'acme' },
      workspaces: [{ id: 'ws_1', name: 'R&D' }],
    });
    const bare = await idToken({ iss: 'https://auth.example.com', aud: ['portcullis-cli'], sub: 'usr_2' });
    assert.deepEqual(identityFrom(bare, 'https://auth.example.com', 'portcullis-cli'), { sub: 'usr_2' }, 'absent claims are simply absent');
  });

  it('never from an ID token issued to another client or by another issuer', async () => {
    const other = await idToken({ iss: 'https://auth.example.com', aud: 'someone-else', sub: 'usr_1' });
    assert.equal(identityFrom(other, 'https://auth.example.com', 'portcullis-cli'), undefined);
    const foreign = await idToken({ iss: 'https://evil.example.com', aud: 'portcullis-cli', sub: 'usr_1' });
    assert.equal(identityFrom(foreign, 'https://auth.example.com', 'portcullis-cli'), undefined);
    assert.equal(identityFrom('not a jwt', 'https://auth.example.com', 'portcullis-cli'), undefined);
  });
});
