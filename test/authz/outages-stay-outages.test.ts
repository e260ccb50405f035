/**
 * A store outage inside the authorization server stays an outage: 503, never renamed into an
 * answer the caller would act on — a wrong device code (which also counts as a guess), an
 * inactive token, an unknown client. Each check makes one store capability fail the way the SQL
 * store does when PostgreSQL is out of reach (PortcullisError `unavailable`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Provider from 'oidc-provider';
import { PortcullisError } from '../../src/core/errors.ts';
import { generateApiKey } from '../../src/api-keys/format.ts';
import { findCode } from '../../src/authz/device/requests.ts';
import { addStaticClient, introspect } from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const outage = () => new PortcullisError('unavailable', 'the database cannot be reached right now', { rule: 'store-unavailable' });

/** Make `object[method]` fail with an outage until the returned function restores it. */
function breakMethod<T extends object>(object: T, method: keyof T & string): () => void {
  const original = object[method];
  Object.assign(object, { [method]: async () => Promise.reject(outage()) });
  return () => Object.assign(object, { [method]: original });
}

describe('outages stay outages in the authorization server', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  it('looking up a device code: an outage is thrown, anything else unreadable is no code', async () => {
    const failing = (err: unknown) => ({ DeviceCode: { findByUserCode: async () => Promise.reject(err) } }) as unknown as Provider;
    await assert.rejects(findCode(failing(outage()), 'BCDFGHJK'), (err) => err instanceof PortcullisError && err.code === 'unavailable');
    assert.equal(await findCode(failing(new Error('unreadable payload')), 'BCDFGHJK'), undefined);
  });

  it('a device code entered while the store is down: 503, not "that code is not valid"', async () => {
    const ua = new UserAgent();
    const form = await ua.follow(`${server.url}/device`);
    const restore = breakMethod(server.store.oidc, 'findByUserCode');
    try {
      const answer = await ua.submit(form, /\/device$/, { user_code: 'BCDF-GHJK' });
      assert.equal(answer.status, 503);
      assert.equal(answer.headers.get('retry-after'), '5');
      assert.match(answer.body, /data-code="unavailable"/);
    } finally {
      restore();
    }
  });

  it('introspecting an API key while the store is down: 503 temporarily_unavailable, not active: false', async () => {
    const resourceServer = await addStaticClient(server, { client_name: 'Demo resource server', portcullis_resources: [server.mcpUrl] });
    const restore = breakMethod(server.store.apiKeys, 'byHash');
    try {
      const answer = await introspect(server, resourceServer, generateApiKey());
      assert.equal(answer.status, 503, JSON.stringify(answer.body));
      assert.equal(answer.body.error, 'temporarily_unavailable');
    } finally {
      restore();
    }
  });
});
