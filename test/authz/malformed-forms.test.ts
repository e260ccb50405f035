/**
 * A browser form whose body cannot be read — a multipart body with a broken boundary, or one cut
 * off mid-upload — is the sender's mistake: every page answers 400, never a 500 (which is what
 * Hono's parseBody throwing into the error handler gave before web.ts readableForms).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const FORM_PAGES = [
  '/login',
  '/setup',
  '/forgot-password',
  '/reset-password',
  '/account',
  '/account/password',
  '/account/keys',
  '/account/keys/revoke',
  '/account/sessions/end-all',
  '/account/apps/disconnect',
  '/invitations/not-a-real-token',
  '/interaction/not-a-real-uid/login',
  '/orgs/acme/invitations',
  '/device',
];

const BROKEN_BODIES: { name: string; type: string; body: string }[] = [
  { name: 'a boundary that never appears', type: 'multipart/form-data; boundary=xyz', body: 'this is not multipart at all' },
  {
    name: 'a part cut off before its end',
    type: 'multipart/form-data; boundary=b',
    body: '--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nada@example.com',
  },
  { name: 'no boundary at all', type: 'multipart/form-data', body: '--b\r\n\r\n' },
];

describe('forms that cannot be read', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  for (const broken of BROKEN_BODIES) {
    it(`every page answers ${broken.name} with 400, never a 500`, async () => {
      for (const path of FORM_PAGES) {
        const response = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': broken.type, origin: server.url },
          body: broken.body,
          redirect: 'manual',
        });
        const text = await response.text();
        assert.equal(response.status, 400, `${path}: ${response.status}`);
        assert.doesNotMatch(text, /\bat \S+ \(|node:internal|\.ts:\d+/, `${path} leaked a stack trace`);
      }
    });
  }

  it('a well-formed form still reaches its page (a wrong password is a 401, not a 400)', async () => {
    const form = new FormData();
    form.set('email', 'ada@example.com');
    form.set('password', 'wrong');
    const response = await fetch(`${server.url}/login`, { method: 'POST', body: form, headers: { origin: server.url }, redirect: 'manual' });
    assert.notEqual(response.status, 400);
    assert.ok(response.status < 500);
  });
});

describe('addresses under /oauth that are no endpoint', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  it('answer 404 in the OAuth error shape (RFC 6749 §5.2 JSON), not a text page', async () => {
    for (const [method, path] of [['GET', '/oauth/nope'], ['POST', '/oauth/tokens'], ['GET', '/oauth/token/extra']] as const) {
      const res = await fetch(`${server.url}${path}`, { method, redirect: 'manual' });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
    }
  });
});
