/**
 * Where the guard gets its keys, and what it refuses to get them from: after `keys rotate` a token
 * with the new `kid` is verified (the JWKS is fetched again on the unknown kid) while tokens signed
 * before still verify; the issuer's endpoints must be https (http only for loopback outside
 * production); metadata naming another issuer, a redirecting JWKS and an unreachable one all end in
 * 503 — the token is never accepted on keys the guard could not trust, nor called bad for it.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { loadRootSecret } from '../../../src/core/secrets.ts';
import { createGuard, type Guard, type GuardOptions } from '../../../src/sdk/guard/index.ts';
import { rotateSigningKey } from '../../../src/signing-keys/key-ring.ts';
import { startTestServer } from '../../helpers/server.ts';
import { NOTES_SCOPES, startWorld, until, type GuardWorld } from './fixtures.ts';

describe('guard SDK: keys', () => {
  let world: GuardWorld;
  const guards: Guard[] = [];
  const servers: Server[] = [];
  before(async () => {
    world = await startWorld({ start: startTestServer });
  });
  after(async () => {
    for (const guard of guards) await guard.close();
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await world?.server.stop();
  });

  function guardWith(overrides: Partial<GuardOptions> = {}): Guard {
    const guard = createGuard({ issuer: world.server.url, resource: world.resource, scopesSupported: NOTES_SCOPES, toolScopes: {}, ...overrides });
    guards.push(guard);
    return guard;
  }

  /** A throwaway http server on loopback answering with `handler`. */
  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('after keys rotate, a token with the new kid is verified (JWKS fetched again) and older tokens still are', async () => {
    const guard = guardWith({ jwksCooldownMs: 200 });
    const before = await world.tokens('notes:read');
    assert.equal((await guard.authenticate(`Bearer ${before.access_token}`)).ok, true, 'keys fetched once');

    const { dataKey } = loadRootSecret({ secretKey: world.server.config.secretKey, dataDir: world.server.config.dataDir }).secrets;
    const fresh = await rotateSigningKey(world.server.store, dataKey, Math.floor(Date.now() / 1000));
    await world.server.engine.reload(); // what the running server does within seconds on its own
    const afterRotation = await world.tokens('notes:read');
    assert.equal(decodeProtectedHeader(afterRotation.access_token).kid, fresh.kid);
    assert.notEqual(decodeProtectedHeader(before.access_token).kid, fresh.kid);

    await until(async () => ((await guard.authenticate(`Bearer ${afterRotation.access_token}`)).ok ? true : undefined), 3000, 'the new key');
    assert.equal((await guard.authenticate(`Bearer ${before.access_token}`)).ok, true, 'the retired key is still published');
  });

  it('outbound URLs must be https; plain http only for loopback, and not in production', () => {
    const base = { resource: 'https://notes.example.com/mcp', scopesSupported: [], toolScopes: {} };
    const refused = (options: Partial<GuardOptions>) =>
      assert.throws(() => createGuard({ ...base, issuer: 'https://auth.example.com', ...options }), (err: { code?: string }) => err.code === 'config_invalid');
    refused({ issuer: 'http://auth.example.com' });
    refused({ jwksUri: 'http://auth.example.com/jwks' });
    refused({ issuer: 'http://localhost:3000', allowHttpLoopback: false });
    refused({ revocations: { streamUrl: 'http://10.0.0.1/oauth/revocations', clientId: 'a', clientSecret: 'b' } });
    refused({ introspection: { clientId: 'a', clientSecret: 'b', endpoint: 'https://user:pw@auth.example.com/introspect' } });
    refused({ resource: 'https://notes.example.com/mcp#fragment' });
    refused({ revocations: { streamUrl: 'https://auth.example.com/oauth/revocations', clientId: 'a', clientSecret: '' } });
    const nodeEnv = process.env.NODE_ENV;
    try {
      process.env.NODE_ENV = 'production';
      refused({ issuer: 'http://localhost:3000' });
      process.env.NODE_ENV = 'development';
      guards.push(createGuard({ ...base, issuer: 'http://localhost:3000' }));
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
    guards.push(createGuard({ ...base, issuer: 'http://127.0.0.1:1', allowHttpLoopback: true }));
    guards.push(createGuard({ ...base, issuer: 'https://auth.example.com' }));
  });

  it('metadata naming another issuer, a redirecting JWKS or an unreachable one: 503, never accepted, never called a bad token', async () => {
    const tokens = await world.tokens('notes:read');
    const realJwks = `${world.server.url}/oauth/jwks`;
    const impostor = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: 'https://someone-else.example', jwks_uri: realJwks }));
    });
    const redirector = await serve((req, res) => void res.writeHead(302, { location: realJwks }).end());
    const down = await serve((req, res) => void res.writeHead(500).end());

    for (const [what, options] of [
      ['metadata for another issuer', { issuer: impostor }],
      ['a JWKS that redirects', { jwksUri: `${redirector}/jwks` }],
      ['a JWKS that fails', { jwksUri: `${down}/jwks` }],
      ['a JWKS nobody listens on', { jwksUri: 'http://127.0.0.1:1/jwks' }],
    ] as const) {
      const guard = guardWith(options);
      const result = await guard.authenticate(`Bearer ${tokens.access_token}`);
      assert.ok(!result.ok, what);
      assert.equal(result.error.code, 'unavailable', what);
      assert.equal(result.challenge.status, 503, what);
    }
  });
});
