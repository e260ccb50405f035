/**
 * RFC 8628 device authorization, as a terminal and the person at a browser live it: the device
 * gets a code to show, the person enters it on our pages, signs in, checks the code and the
 * permissions and approves (or not); the device polls until it gets tokens — and is told to slow
 * down, that the code expired, or that the person said no, exactly as the RFC says.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { formatUserCode, normalizeUserCode } from '../../src/authz/device/user-codes.ts';
import { assertOAuthError, assertTokens, register, registerPublic, serverTargets } from '../helpers/authz.ts';
import {
  approveDeviceOverHttp,
  DEVICE_CODE_GRANT,
  deviceStep,
  pollDeviceToken,
  startDeviceAuthorization,
  startDeviceAuthorizationRaw,
} from '../helpers/device.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { checkboxValues, findForm, UserAgent } from '../helpers/user-agent.ts';

const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

describe('device flow', () => {
  let server: TestServer;
  let ada: { email: string; password: string };

  before(async () => {
    server = await startTestServer();
    ada = { email: server.user.email, password: server.password };
  });
  after(() => server?.stop());

  it('discovery advertises the device authorization endpoint and grant', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata.device_authorization_endpoint, `${server.url}/oauth/device/authorize`);
    assert.ok((metadata.grant_types_supported as string[]).includes(DEVICE_CODE_GRANT));
  });

  it('a terminal signs in: code shown, entered, approved; the token is for the resource with the approved scopes and org', async () => {
    const device = await startDeviceAuthorization(server, { scope: 'openid demo:read demo:write', resource: server.mcpUrl });
    assert.match(device.user_code, USER_CODE);
    assert.equal(device.verification_uri, `${server.url}/device`);
    assert.equal(device.verification_uri_complete, `${server.url}/device?user_code=${device.user_code}`);
    assert.equal(device.expires_in, 15 * 60);
    assert.equal(device.interval, 5);

    assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending', 400);

    const { page, pages } = await approveDeviceOverHttp(server, device.user_code, ada);
    assert.deepEqual(pages.map((p) => deviceStep(p.body)), ['code', 'login', 'confirm', 'approved']);
    const confirm = pages[2]!;
    assert.ok(confirm.body.includes(device.user_code), 'the confirmation shows the code to compare with the device');
    assert.ok(confirm.body.includes('Portcullis CLI'), 'and the client by name');
    assert.deepEqual(checkboxValues(confirm.body, 'grant'), ['demo:read', 'demo:write']);
    assert.match(page.body, /return to your device/);

    const tokens = assertTokens(await pollDeviceToken(server, device.device_code));
    assert.equal(tokens.scope.split(' ').filter((s) => s.startsWith('demo:')).join(' '), 'demo:read demo:write');
    assert.equal(typeof tokens.refresh_token, 'string');
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.aud, server.mcpUrl);
    assert.equal(claims.sub, server.user.id);
    assert.equal(typeof claims.auth_time, 'number');
    assert.equal(claims.org_id, server.org.id, 'the token acts for the organization chosen');
    const context = await server.store.grantContexts.get(String(claims.grant_id));
    assert.equal(context?.orgId, server.org.id);
    assert.equal(context?.clientId, 'portcullis-cli');
  });

  it('takes the code in lowercase, without the dash, with spaces', async () => {
    for (const typed of [(c: string) => c.toLowerCase(), (c: string) => c.replace('-', ''), (c: string) => ` ${c.slice(0, 4)} ${c.slice(5)} `]) {
      const device = await startDeviceAuthorization(server);
      const { page } = await approveDeviceOverHttp(server, typed(device.user_code), ada);
      assert.equal(deviceStep(page.body), 'approved', `typed as ${typed(device.user_code)}`);
      assertTokens(await pollDeviceToken(server, device.device_code));
    }
  });

  it('user codes come from the consonant alphabet, fresh each time', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 20; i++) codes.add((await startDeviceAuthorization(server)).user_code);
    assert.equal(codes.size, 20);
    for (const code of codes) assert.match(code, USER_CODE);
  });

  it('works with resource like the code flow: no resource → the default; an unknown one → invalid_target', async () => {
    const device = await startDeviceAuthorization(server);
    await approveDeviceOverHttp(server, device.user_code, ada);
    const tokens = assertTokens(await pollDeviceToken(server, device.device_code));
    assert.equal(decodeJwt(tokens.access_token).aud, server.mcpUrl);
    assert.equal(tokens.scope, 'demo:read demo:write', "the resource's default scopes");

    assertOAuthError(await startDeviceAuthorizationRaw(server, { resource: 'https://elsewhere.example.com/mcp' }), 'invalid_target', 400);
  });

  it('only clients allowed the device grant may start one', async () => {
    const browserOnly = await registerPublic(server);
    assertOAuthError(await startDeviceAuthorizationRaw(server, { clientId: browserOnly.client_id }), 'unauthorized_client', 400);
    const unknown = await startDeviceAuthorizationRaw(server, { clientId: 'nobody' });
    assertOAuthError(unknown, 'invalid_client', 401);
  });

  it('the token holds only the permissions left ticked', async () => {
    const device = await startDeviceAuthorization(server, { scope: 'demo:read demo:write demo:delete' });
    const { page } = await approveDeviceOverHttp(server, device.user_code, { ...ada, grants: ['demo:read'] });
    assert.equal(deviceStep(page.body), 'approved');
    const tokens = assertTokens(await pollDeviceToken(server, device.device_code));
    assert.equal(tokens.scope, 'demo:read');
  });

  it('the person says no: the device gets access_denied, then the code is dead', async () => {
    const device = await startDeviceAuthorization(server);
    const { page } = await approveDeviceOverHttp(server, device.user_code, { ...ada, decision: 'deny' });
    assert.equal(deviceStep(page.body), 'denied');
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'access_denied', 400);
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'invalid_grant', 400);
  });

  it('a code is used once: approving it again is refused, and so is polling after the tokens', async () => {
    const device = await startDeviceAuthorization(server);
    await approveDeviceOverHttp(server, device.user_code, ada);
    const again = await approveDeviceOverHttp(server, device.user_code, ada);
    assert.equal(deviceStep(again.page.body), 'expired', 'approved, not yet collected: shown as used');
    assert.equal(again.page.status, 409);
    assertTokens(await pollDeviceToken(server, device.device_code));
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'invalid_grant', 400);
    const afterTokens = await approveDeviceOverHttp(server, device.user_code, ada);
    assert.equal(deviceStep(afterTokens.page.body), 'code', 'collected: no longer a code at all');
    assert.equal(afterTokens.page.status, 400);
  });

  it('two decisions sent together: exactly one is taken', async () => {
    const device = await startDeviceAuthorization(server);
    const ua = new UserAgent();
    const confirm = await ua.submit(await ua.follow(device.verification_uri_complete), /\/device\/login$/, ada);
    const answers = await Promise.all([
      ua.submit(confirm, /\/device\/confirm$/, { decision: 'approve', grant: ['demo:read'] }),
      ua.submit(confirm, /\/device\/confirm$/, { decision: 'approve', grant: ['demo:read', 'demo:write'] }),
      ua.submit(confirm, /\/device\/confirm$/, { decision: 'deny' }),
    ]);
    const steps = answers.map((a) => deviceStep(a.body));
    assert.equal(steps.filter((s) => s === 'expired').length, 2, steps.join(', '));
    const winner = steps.find((s) => s !== 'expired');
    const poll = await pollDeviceToken(server, device.device_code);
    if (winner === 'denied') assertOAuthError(poll, 'access_denied');
    else assertTokens(poll);
  });

  it("another client cannot poll someone else's device code", async () => {
    const other = await register(server, { grant_types: [DEVICE_CODE_GRANT], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'none' });
    const device = await startDeviceAuthorization(server);
    await approveDeviceOverHttp(server, device.user_code, ada);
    assertOAuthError(await pollDeviceToken(server, device.device_code, other.client_id), 'invalid_grant', 400);
    assertTokens(await pollDeviceToken(server, device.device_code));
  });

  it('the link with the code skips code entry but still asks to sign in and to confirm', async () => {
    const device = await startDeviceAuthorization(server);
    const ua = new UserAgent();
    const login = await ua.follow(device.verification_uri_complete);
    assert.equal(deviceStep(login.body), 'login');
    const confirm = await ua.submit(login, /\/device\/login$/, { email: ada.email, password: ada.password });
    assert.equal(deviceStep(confirm.body), 'confirm');
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending');
    // Signed in now: the link goes straight to the confirmation, never to an approval.
    const second = await startDeviceAuthorization(server);
    assert.equal(deviceStep((await ua.follow(second.verification_uri_complete)).body), 'confirm');
    assertOAuthError(await pollDeviceToken(server, second.device_code), 'authorization_pending');
  });

  it('a forged confirmation (no CSRF token, or from another origin) approves nothing', async () => {
    const device = await startDeviceAuthorization(server);
    const ua = new UserAgent();
    const confirm = await ua.submit(await ua.follow(device.verification_uri_complete), /\/device\/login$/, ada);
    const form = findForm(confirm.body, /\/device\/confirm$/);
    const post = (fields: Record<string, string>, origin: string) =>
      ua.request(new URL(form.action, server.url).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams({ ...form.hidden, decision: 'approve', grant: 'demo:read', ...fields }),
      });
    assert.equal((await post({ csrf: 'forged' }, server.url)).status, 403);
    assert.equal((await post({}, 'https://evil.example.com')).status, 403);
    // Another browser that has the link's ticket but not this browser's cookies gets nowhere either.
    const stranger = new UserAgent();
    const res = await stranger.request(new URL(form.action, server.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
      body: new URLSearchParams({ ...form.hidden, decision: 'approve' }),
    });
    assert.notEqual(deviceStep(res.body), 'approved');
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending');
  });

  it('malformed forms and queries get a 4xx page, never a 500, and approve nothing', async () => {
    const device = await startDeviceAuthorization(server);
    const ua = new UserAgent();
    const confirm = await ua.submit(await ua.follow(device.verification_uri_complete), /\/device\/login$/, ada);
    const { csrf, user_code, ticket } = findForm(confirm.body, /\/device\/confirm$/).hidden;
    const good = `csrf=${csrf}&user_code=${user_code}&ticket=${ticket}`;
    const bodies = ['user_code=a&user_code=b', 'user_code=%00%ff', '', `user_code=${'B'.repeat(50_000)}`, `${good}&user_code=${user_code}&decision=approve`,
      `${good}&ticket=x&decision=approve`, `${good}&decision=approve&org=a&org=b`, `${good}&decision=approve&decision=deny`];
    for (const path of ['/device', '/device/login', '/device/confirm']) {
      for (const body of bodies) {
        for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json']) {
          const res = await ua.request(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type, origin: server.url }, body });
          assert.ok(res.status >= 400 && res.status < 500, `${path} ${type} ${body.slice(0, 60)} → ${res.status}`);
        }
      }
    }
    for (const query of ['?user_code=a&user_code=b', '?user_code=%E0%A4%A', '?ticket=x&user_code=BBBB-BBBB']) {
      for (const path of ['/device', '/device/continue']) assert.ok((await ua.request(`${server.url}${path}${query}`)).status < 500, `${path}${query}`);
    }
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending');
  });

  it('a member is offered only what their role allows, and cannot approve more by editing the form', async () => {
    const member = await server.addUser('mo@example.com', undefined, { role: 'member' });
    const ws = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'workspace', parentId: null, name: 'Docs', at: 0 });
    await server.store.orgs.setResourceMember(ws.id, member.id, 'viewer', 0);
    const device = await startDeviceAuthorization(server, { scope: 'demo:read demo:write' });
    const ua = new UserAgent();
    const confirm = await ua.submit(await ua.follow(device.verification_uri_complete), /\/device\/login$/, { email: 'mo@example.com', password: server.password });
    assert.deepEqual(checkboxValues(confirm.body, 'grant'), ['demo:read']);
    const done = await ua.submit(confirm, /\/device\/confirm$/, { decision: 'approve', grant: ['demo:read', 'demo:write'] });
    assert.equal(deviceStep(done.body), 'approved');
    assert.equal(assertTokens(await pollDeviceToken(server, device.device_code)).scope, 'demo:read');
  });

  it("an organization whose allow-list leaves out the CLI is not offered; with none left, only Deny", async () => {
    const closed = await server.store.orgs.create({ slug: 'closed', name: 'Closed', settings: { clientAllowList: ['someone-else'] } });
    const cy = await server.addUser('cy@example.com', undefined, { role: 'owner', org: closed });
    const device = await startDeviceAuthorization(server);
    const ua = new UserAgent();
    const confirm = await ua.submit(await ua.follow(device.verification_uri_complete), /\/device\/login$/, { email: 'cy@example.com', password: server.password });
    assert.equal(deviceStep(confirm.body), 'confirm');
    assert.deepEqual(checkboxValues(confirm.body, 'grant'), []);
    assert.ok(!confirm.body.includes('value="approve"'), 'no Approve button');
    const forced = await ua.submit(confirm, /\/device\/confirm$/, { decision: 'approve', grant: 'demo:read', org: closed.id });
    assert.equal(forced.status, 400);
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending');
    assert.equal((await server.store.grantContexts.list({ userId: cy.id })).length, 0);
  });

  it('a person in several organizations picks the one the device acts for', async () => {
    const beta = await server.store.orgs.create({ slug: 'beta', name: 'Beta' });
    const bo = await server.addUser('bo@example.com');
    await server.store.orgs.addMember(beta.id, bo.id, 'owner', 0);
    const device = await startDeviceAuthorization(server);
    const { page, pages } = await approveDeviceOverHttp(server, device.user_code, { email: 'bo@example.com', password: server.password, org: beta.id });
    const confirm = pages.find((p) => deviceStep(p.body) === 'confirm')!;
    assert.equal([...confirm.body.matchAll(/<input type="radio" name="org"/g)].length, 2);
    assert.equal(deviceStep(page.body), 'approved');
    const tokens = assertTokens(await pollDeviceToken(server, device.device_code));
    assert.equal((await server.store.grantContexts.get(String(decodeJwt(tokens.access_token).grant_id)))?.orgId, beta.id);
    assert.equal(decodeJwt(tokens.access_token).org_id, beta.id);
  });
});

describe('device flow polling', () => {
  let server: TestServer;
  const clock = testClock();

  before(async () => {
    server = await startTestServer({}, { clock });
  });
  after(() => server?.stop());

  it('polling at the interval is fine', async () => {
    const device = await startDeviceAuthorization(server);
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending', 400);
    clock.advance(device.interval);
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending', 400);
  });

  it('polling too fast gets slow_down, and the interval grows by 5 seconds each time (RFC 8628 §3.5)', async () => {
    const device = await startDeviceAuthorization(server);
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending', 400);
    const first = await pollDeviceToken(server, device.device_code);
    assertOAuthError(first, 'slow_down', 400);
    assert.equal(first.body.interval, 10);
    // 5 s would have been enough before; now the device must wait 10.
    clock.advance(5);
    const second = await pollDeviceToken(server, device.device_code);
    assertOAuthError(second, 'slow_down', 400);
    assert.equal(second.body.interval, 15);
    // Once approved, the next poll gets the tokens whatever its timing.
    await approveDeviceOverHttp(server, device.user_code, { email: server.user.email, password: server.password });
    assertTokens(await pollDeviceToken(server, device.device_code));
  });
});

describe('device flow expiry', () => {
  let server: TestServer;
  const clock = testClock();

  before(async () => {
    server = await startTestServer({}, { clock });
  });
  after(() => server?.stop());

  it('an expired code: the device gets expired_token, the page no longer takes the code', async () => {
    const device = await startDeviceAuthorization(server);
    assert.equal(device.expires_in, 15 * 60, 'the default lifetime (RFC 8628 §3.2 expires_in)');
    clock.advance(device.expires_in + 1);
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'expired_token', 400);
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'expired_token', 400);
    const { page } = await approveDeviceOverHttp(server, device.user_code, { email: server.user.email, password: server.password });
    assert.equal(deviceStep(page.body), 'code');
    assert.equal(page.status, 400);
  });

  it('a code that expires while the person is on the confirmation page is not approved', async () => {
    const device = await startDeviceAuthorization(server);
    const ua = new UserAgent();
    const confirm = await ua.submit(await ua.follow(device.verification_uri_complete), /\/device\/login$/, {
      email: server.user.email,
      password: server.password,
    });
    assert.equal(deviceStep(confirm.body), 'confirm');
    clock.advance(device.expires_in + 1);
    const done = await ua.submit(confirm, /\/device\/confirm$/, { decision: 'approve' });
    assert.equal(deviceStep(done.body), 'expired');
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'expired_token', 400);
  });
});

for (const target of serverTargets()) {
  describe(`device flow on ${target.dialect}`, { skip: target.skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await target.start();
    });
    after(() => server?.stop());

    it('pending, slow_down, approval, tokens, then the code is spent', async () => {
      const device = await startDeviceAuthorization(server);
      assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending', 400);
      assertOAuthError(await pollDeviceToken(server, device.device_code), 'slow_down', 400);
      const { page } = await approveDeviceOverHttp(server, device.user_code.toLowerCase(), { email: server.user.email, password: server.password });
      assert.equal(deviceStep(page.body), 'approved');
      const tokens = assertTokens(await pollDeviceToken(server, device.device_code));
      assert.equal(decodeJwt(tokens.access_token).aud, server.mcpUrl);
      assertOAuthError(await pollDeviceToken(server, device.device_code), 'invalid_grant', 400);
    });
  });
}

describe('device flow and step-up', () => {
  const MAX_AGE = 300;
  const clock = testClock();
  let server: TestServer;
  before(async () => {
    server = await startTestServer(
      { applications: [{ slug: 'vault', name: 'Vault', upstream: { url: 'http://127.0.0.1:9/mcp' }, tools: { wipe: { stepUp: { maxAge: MAX_AGE } } }, autoApprove: true }] },
      { clock },
    );
  });
  after(() => server?.stop());

  it('a step-up scope asks for the password again when the sign-in is older than the step-up allows, and the token then has it', async () => {
    const vault = `${server.url}/mcp/vault`;
    const ua = new UserAgent();
    const first = await startDeviceAuthorization(server, { resource: vault, scope: 'vault:step-up' });
    const confirm = await ua.submit(await ua.follow(first.verification_uri_complete), /\/device\/login$/, { email: server.user.email, password: server.password });
    assert.equal(deviceStep(confirm.body), 'confirm', 'just signed in: fresh enough');
    assert.deepEqual(checkboxValues(confirm.body, 'grant'), ['vault:step-up']);
    await ua.submit(confirm, /\/device\/confirm$/, { decision: 'approve', grant: 'vault:step-up' });
    assert.match(assertTokens(await pollDeviceToken(server, first.device_code)).scope, /vault:step-up/);

    clock.advance(MAX_AGE + 1);
    const second = await startDeviceAuthorization(server, { resource: vault, scope: 'vault:step-up' });
    const again = await ua.follow(second.verification_uri_complete);
    assert.equal(deviceStep(again.body), 'login', 'the old sign-in is not enough for a step-up');
    const confirmed = await ua.submit(again, /\/device\/login$/, { email: server.user.email, password: server.password });
    assert.equal(deviceStep(confirmed.body), 'confirm');
    assert.equal(deviceStep((await ua.submit(confirmed, /\/device\/confirm$/, { decision: 'approve', grant: 'vault:step-up' })).body), 'approved');
    const tokens = assertTokens(await pollDeviceToken(server, second.device_code));
    assert.match(tokens.scope, /vault:step-up/);
    assert.equal(decodeJwt(tokens.access_token).aud, vault);
  });
});

describe('device flow under an issuer with a path', () => {
  let server: TestServer;
  before(async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    probe.close();
    server = await startTestServer({ port, publicUrl: `http://localhost:${port}/auth` });
  });
  after(() => server?.stop());

  it('the verification pages and the endpoints live under the path', async () => {
    const device = await startDeviceAuthorization(server);
    assert.equal(device.verification_uri, `${server.url}/device`);
    assert.match(server.url, /\/auth$/);
    const { page } = await approveDeviceOverHttp(server, device.user_code, { email: server.user.email, password: server.password });
    assert.equal(deviceStep(page.body), 'approved');
    assertTokens(await pollDeviceToken(server, device.device_code));
  });
});

describe('user codes as people type them', () => {
  it('any case, with or without the dash or spaces, is the stored form; anything else is not a code', () => {
    for (const typed of ['BCDF-GHJK', 'bcdf-ghjk', 'BCDFGHJK', ' bcdf ghjk ', 'Bcdf–Ghjk', 'BCDF_GHJK']) assert.equal(normalizeUserCode(typed), 'BCDFGHJK', typed);
    for (const typed of ['BCDF-GHJ', 'BCDF-GHJKL', 'ACDF-GHJK', 'BCD0-GHJK', '']) assert.equal(normalizeUserCode(typed), undefined, typed);
    assert.equal(formatUserCode('BCDFGHJK'), 'BCDF-GHJK');
  });
});
