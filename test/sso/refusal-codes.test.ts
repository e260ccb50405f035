/**
 * The SSO pages refuse with codes of the one error union (core/errors.ts), each with the status
 * its table gives: an unknown connection (404 unknown_connection), a return-to off this server
 * (400 invalid_return_to), an IdP that cannot be reached (502 idp_unavailable), and the codes a
 * refused callback answers with — a failed check (400 sso_refused), an account this server will
 * not sign in (403 sso_account_refused) — the reason going to the audit record, not the page.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { ssoRefusal } from '../../src/web/sso-routes.ts';
import { audited, Browser, refusalCode } from './support.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer({
    identityProviders: [
      // Nothing listens on port 9 of the loopback address: discovery fails at once.
      { id: 'down', type: 'oidc', name: 'Down SSO', issuer: 'http://127.0.0.1:9', clientId: 'c', clientSecret: 's', organization: 'down', domains: ['down.test'] },
    ],
  });
});
after(() => server?.stop());

describe('SSO refusal codes', () => {
  test('an unknown connection is 404 unknown_connection, at the start and at the callback', async () => {
    const browser = new Browser();
    for (const path of ['/sso/nope/start?return_to=%2F', '/sso/nope/callback?state=x&code=y']) {
      const answer = await browser.request(`${server.url}${path}`);
      assert.deepEqual([answer.status, refusalCode(answer.body)], [404, 'unknown_connection'], path);
    }
  });

  test('a return-to on another origin is 400 invalid_return_to', async () => {
    const answer = await new Browser().request(`${server.url}/sso/down/start?return_to=${encodeURIComponent('https://evil.example/')}`);
    assert.deepEqual([answer.status, refusalCode(answer.body)], [400, 'invalid_return_to']);
  });

  test('an IdP that cannot be reached is 502 idp_unavailable, never a sign-in', async () => {
    const browser = new Browser();
    const answer = await browser.request(`${server.url}/sso/down/start?return_to=%2F`);
    assert.deepEqual([answer.status, refusalCode(answer.body)], [502, 'idp_unavailable']);
    assert.equal(browser.jars.get(new URL(server.url).origin)?.has('__Host-pc_session') ?? false, false);
  });

  test('a callback without its sign-in is 400 sso_refused; the reason is audited, not shown', async () => {
    const answer = await new Browser().request(`${server.url}/sso/down/callback?code=abc`);
    assert.deepEqual([answer.status, refusalCode(answer.body)], [400, 'sso_refused']);
    assert.doesNotMatch(answer.body, /state_missing/);
    assert.ok((await audited(server, 'signin.failed', 'state_missing')) >= 1);
  });

  test('each refusal reason maps to its code and the status of the error table', () => {
    const connection = server.config.identityProviders[0]!;
    const cases: [string, string | undefined, string, number][] = [
      ['state_unknown', undefined, 'sso_refused', 400],
      ['login_csrf', undefined, 'sso_refused', 400],
      ['idp_unavailable', undefined, 'idp_unavailable', 502],
      ['account_exists', 'sso_account_refused', 'sso_account_refused', 403],
      ['unverified_email', 'sso_account_refused', 'sso_account_refused', 403],
    ];
    for (const [reason, given, code, status] of cases) {
      const err = ssoRefusal(connection, reason, given as never);
      assert.deepEqual([err.code, err.status, err.rule], [code, status, reason], reason);
    }
  });
});
