/**
 * Single sign-on through a company's OpenID Connect provider, end to end: a second, real
 * oidc-provider is the company's IdP; an MCP client's authorization goes through it, and the
 * attacks the issue names (login CSRF, replayed state, IdP mix-up, open redirect, takeover
 * through an unverified or foreign e-mail) are refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { assertTokens, authorizationUrl, redeemCode, registerPublic } from '../helpers/authz.ts';
import { deviceStep, startDeviceAuthorization } from '../helpers/device.ts';
import { invite } from '../../src/identity/invitations.ts';
import type { IdentityDeps } from '../../src/identity/context.ts';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { audited, Browser, refusalCode, signInAtIdp, startTestIdp, type Answer, type TestIdp, acmeConnection } from './support.ts';

const CONNECTION = 'acme-sso';
let idp: TestIdp;
const assertionKey = (() => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicJwk: { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }, privateJwk: { ...privateKey.export({ format: 'jwk' }), kid: 'k1' } };
})();
let server: TestServer;

before(async () => {
  idp = await startTestIdp({
    alice: { email: 'alice@initech.test', email_verified: true, name: 'Alice Admin', groups: ['mcp-admins'] },
    bob: { email: 'bob@initech.test', email_verified: false, name: 'Bob', groups: [] },
    carol: { email: 'carol@initech.test', email_verified: true, name: 'Carol', groups: [] },
    dave: { email: 'dave@initech.test', email_verified: false, name: 'Dave', groups: [] },
    mallory: { email: 'victim@other.test', email_verified: true, name: 'Mallory', groups: ['mcp-admins'] },
    root: { email: 'root@initech.test', email_verified: true, name: 'Root', groups: [] },
    frank: { email: 'frank@initech.test', email_verified: true, name: 'Frank', groups: [] },
    grace: { email: 'grace@initech.test', email_verified: true, name: 'Grace', groups: [] },
    kim: { email: 'kim@keyed.test', email_verified: true, name: 'Kim', groups: [] },
  });
  server = await startTestServer({
    identityProviders: [
      acmeConnection(idp, { id: CONNECTION, requireSso: true, breakGlass: ['root@initech.test'] }),
      {
        id: 'keyed',
        type: 'oidc',
        name: 'Keyed SSO',
        issuer: idp.issuer,
        clientId: 'portcullis-keyed',
        privateKeyJwt: { jwk: assertionKey.privateJwk },
        organization: 'keyed',
        domains: ['keyed.test'],
      },
    ],
  });
  idp.serve(`${server.url}/sso/${CONNECTION}/callback`, [
    {
      client_id: 'portcullis-keyed',
      redirect_uris: [`${server.url}/sso/keyed/callback`],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [assertionKey.publicJwk] },
    },
  ]);
});

after(async () => {
  await server?.stop();
  await idp?.close();
});

const atIdp = (location: string) => location.startsWith(idp.issuer);
const atCallback = (location: string) => location.startsWith(`${server.url}/sso/${CONNECTION}/callback`);

async function orgRole(email: string): Promise<string | undefined> {
  const user = await server.store.users.findByEmail(email);
  if (!user) return undefined;
  const org = await server.store.orgs.bySlug('initech');
  return (await server.store.orgs.member(org!.id, user.id))?.role;
}


/** Start at the console's sign-in, type only the e-mail, and arrive at the IdP's sign-in page. */
async function toIdpFromConsole(browser: Browser, email: string, next = '/'): Promise<Answer> {
  const form = await browser.request(`${server.url}/login?next=${encodeURIComponent(next)}`);
  const page = await browser.submit(form, /\/login$/, { email, password: '' });
  assert.equal(page.status, 200, 'the IdP shows its sign-in page');
  assert.ok(page.url.startsWith(idp.issuer), `home-realm discovery leads to the IdP, got ${page.url}`);
  return page;
}

/** Sign in at the IdP as `login`, stopping at Portcullis's callback (not followed). */
async function callbackFor(browser: Browser, email: string, login: string): Promise<Answer> {
  const page = await toIdpFromConsole(browser, email);
  const answer = await signInAtIdp(browser, page, login, atCallback);
  assert.ok(answer.location && atCallback(answer.location), `the IdP sends the browser back: ${answer.location ?? answer.body.slice(0, 300)}`);
  return answer;
}


describe('single sign-on through an OpenID Connect provider', () => {
  test('the sign-in page shows "Continue with Acme SSO" and lets the password be left empty', async () => {
    const browser = new Browser();
    const page = await browser.request(`${server.url}/login`);
    assert.match(page.body, /Continue with Acme SSO/);
    assert.doesNotMatch(page.body, /id="password"[^>]*required/);
    const start = /href="([^"]*\/sso\/acme-sso\/start[^"]*)"/.exec(page.body)?.[1];
    assert.ok(start);
    const answer = await browser.request(new URL(start.replaceAll('&amp;', '&'), server.url).href);
    assert.equal(answer.status, 303);
    assert.ok(answer.location && atIdp(answer.location));
    const sent = new URL(answer.location);
    assert.equal(sent.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(sent.searchParams.get('state') && sent.searchParams.get('nonce'));
    assert.equal(sent.searchParams.get('redirect_uri'), `${server.url}/sso/${CONNECTION}/callback`);
  });

  test('an MCP client authorizes through SSO: created in the right org with the mapped role, then a tools/call', async () => {
    const client = await registerPublic(server);
    const { url, pkce, redirectUri } = authorizationUrl(server, client);
    const browser = new Browser();
    const atClient = (location: string) => location.startsWith(redirectUri);
    const signInPage = await browser.follow(url, atClient);
    assert.match(signInPage.body, /Continue with Acme SSO/);
    const csp = (await fetch(signInPage.url, { headers: { cookie: [...browser.jars.get(new URL(server.url).origin)!].map(([k, v]) => `${k}=${v}`).join('; ') } })).headers.get('content-security-policy') ?? '';
    assert.match(csp, new RegExp(`form-action 'self'[^;]* ${idp.issuer}`), 'the e-mail-first form may end at the IdP (CSP form-action covers redirects)');
    const idpPage = await browser.submit(signInPage, /\/login$/, { email: 'alice@initech.test', password: '' }, atClient);
    assert.ok(idpPage.url.startsWith(idp.issuer), `home-realm discovery: ${idpPage.url}`);
    const consent = await signInAtIdp(browser, idpPage, 'alice', atClient);
    assert.equal(consent.status, 200, consent.body.slice(0, 500));
    const grants = [...consent.body.matchAll(/name="grant" value="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&'));
    const back = await browser.submit(consent, /\/consent$/, { decision: 'approve', grant: grants }, atClient);
    const code = new URL(back.location!).searchParams.get('code');
    assert.ok(code, `a code at the client: ${back.location}`);
    const tokens = assertTokens(await redeemCode(server, client, { code, pkce, redirectUri }, { resource: server.mcpUrl }));

    assert.equal(await orgRole('alice@initech.test'), 'admin', 'groups ["mcp-admins"] map to admin in initech');
    const alice = (await server.store.users.findByEmail('alice@initech.test'))!;
    assert.equal(alice.name, 'Alice Admin');
    assert.equal(alice.passwordHash, null, 'an SSO account has no Portcullis password');
    const [session] = await server.store.sessions.listForUser(alice.id);
    assert.deepEqual([session?.amr, session?.ssoConnection], [['ext'], CONNECTION], 'the session records how and through which connection');
    assert.equal(await audited(server, 'sso.user.created'), 1);
    assert.ok((await audited(server, 'signin.succeeded', 'sso')) >= 1);

    const call = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_projects', arguments: {} } }),
    });
    const text = await call.text();
    assert.equal(call.status, 200, text);
    assert.match(text, /"result"/);
    assert.doesNotMatch(text, /"error"/);
  });

  test('a later sign-in updates the name and the role from the groups', async () => {
    idp.accounts.set('alice', { ...idp.accounts.get('alice')!, groups: ['engineering'], name: 'Alice A.' });
    const browser = new Browser();
    const back = await browser.follow((await callbackFor(browser, 'alice@initech.test', 'alice')).location!);
    assert.equal(back.status, 200);
    assert.equal(await orgRole('alice@initech.test'), 'member', 'no mapped group: the default role');
    assert.equal((await server.store.users.findByEmail('alice@initech.test'))!.name, 'Alice A.');
    assert.equal(await audited(server, 'sso.user.created'), 1, 'the same account, not a new one');
  });

  test('an existing account is linked when the IdP asserts its verified address in the connection’s domain', async () => {
    const carol = await server.addUser('carol@initech.test', TEST_PASSWORD, { role: null });
    const browser = new Browser();
    const callback = await callbackFor(browser, 'carol@initech.test', 'carol');
    const answer = await browser.request(callback.location!);
    assert.equal(answer.status, 303);
    const links = await server.store.ssoLinks.forUser(carol.id);
    assert.deepEqual(links.map((l) => [l.issuer, l.subject, l.connectionId]), [[idp.issuer, 'carol', CONNECTION]]);
    assert.equal(await audited(server, 'sso.user.linked'), 1);
    assert.equal(await orgRole('carol@initech.test'), 'member');
  });

  test('an unverified e-mail never takes over an existing account (nor creates one)', async () => {
    const bob = await server.addUser('bob@initech.test', TEST_PASSWORD, { role: null });
    const browser = new Browser();
    const answer = await browser.request((await callbackFor(browser, 'bob@initech.test', 'bob')).location!);
    assert.equal(answer.status, 403);
    assert.equal(refusalCode(answer.body), 'sso_account_refused');
    assert.deepEqual(await server.store.ssoLinks.forUser(bob.id), []);
    assert.equal(browser.jars.get(new URL(server.url).origin)?.has('__Host-pc_session') ?? false, false, 'not signed in');
    assert.ok((await audited(server, 'signin.failed', 'unverified_email')) >= 1);

    const other = new Browser();
    assert.equal((await other.request((await callbackFor(other, 'dave@initech.test', 'dave')).location!)).status, 403);
    assert.equal(await server.store.users.findByEmail('dave@initech.test'), undefined, 'no account from an unverified address');
  });

  test('an IdP asserting an e-mail of another organization’s domain is refused', async () => {
    const victim = await server.addUser('victim@other.test');
    const browser = new Browser();
    const answer = await browser.request((await callbackFor(browser, 'someone@initech.test', 'mallory')).location!);
    assert.equal(answer.status, 403);
    assert.equal(refusalCode(answer.body), 'sso_account_refused');
    assert.deepEqual(await server.store.ssoLinks.forUser(victim.id), []);
    assert.ok((await audited(server, 'signin.failed', 'email_domain')) >= 1);
  });

  test('a replayed state is refused', async () => {
    const browser = new Browser();
    const callback = (await callbackFor(browser, 'carol@initech.test', 'carol')).location!;
    assert.equal((await browser.request(callback)).status, 303);
    const replay = await browser.request(callback);
    assert.equal(replay.status, 400);
    assert.equal(refusalCode(replay.body), 'sso_refused');
    assert.ok((await audited(server, 'signin.failed', 'state_unknown')) >= 1);
  });

  test('a callback this browser did not start (login CSRF) is refused', async () => {
    const attacker = new Browser();
    const callback = (await callbackFor(attacker, 'carol@initech.test', 'carol')).location!;
    const victim = new Browser();
    const answer = await victim.request(callback);
    assert.equal(answer.status, 400);
    assert.equal(victim.jars.get(new URL(server.url).origin)?.has('__Host-pc_session') ?? false, false, 'the victim is not signed in as the attacker');
    assert.ok((await audited(server, 'signin.failed', 'login_csrf')) >= 1);
  });

  test('an authorization response from another issuer (IdP mix-up, RFC 9207) is refused', async () => {
    const browser = new Browser();
    const callback = new URL((await callbackFor(browser, 'carol@initech.test', 'carol')).location!);
    assert.equal(callback.searchParams.get('iss'), idp.issuer, 'the test IdP sends iss');
    callback.searchParams.set('iss', 'https://evil.example');
    const answer = await browser.request(callback.href);
    assert.equal(answer.status, 400);
    await server.audit.flush();
    const reasons = (await server.store.audit.list({ kind: 'signin.failed', order: 'asc' })).map((r) => r.reason);
    assert.ok(reasons.includes('iss'), JSON.stringify(reasons));
  });

  test('return-to must be a path on this server (no open redirect)', async () => {
    const browser = new Browser();
    for (const target of ['https://evil.example/', '//evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      const answer = await browser.request(`${server.url}/sso/${CONNECTION}/start?return_to=${encodeURIComponent(target)}`);
      assert.equal(answer.status, 400, target);
      assert.equal(refusalCode(answer.body), 'invalid_return_to');
    }
    const callback = await callbackFor(browser, 'carol@initech.test', 'carol');
    const answer = await browser.request(callback.location!);
    assert.equal(new URL(answer.location!).origin, new URL(server.url).origin);
  });

  test('requireSso: a member’s password stops working; the break-glass owner still signs in', async () => {
    const org = (await server.store.orgs.bySlug('initech'))!;
    await server.addUser('erin@elsewhere.test', TEST_PASSWORD, { role: 'member', org });
    const browser = new Browser();
    const form = await browser.request(`${server.url}/login`);
    const refused = await browser.submit(form, /\/login$/, { email: 'erin@elsewhere.test', password: TEST_PASSWORD });
    assert.equal(refused.status, 403);
    assert.equal(refusalCode(refused.body), 'sso_required');
    assert.match(refused.body, /Continue with Acme SSO/);
    assert.ok((await audited(server, 'signin.failed', 'sso_required')) >= 1);

    await server.addUser('root@initech.test', TEST_PASSWORD, { role: 'owner', org });
    const owner = new Browser();
    const page = await owner.request(`${server.url}/login`);
    const signedIn = await owner.submit(page, /\/login$/, { email: 'root@initech.test', password: TEST_PASSWORD }, () => true);
    assert.equal(signedIn.status, 303, 'the break-glass owner signs in with a password');
    assert.ok(owner.jars.get(new URL(server.url).origin)?.has('__Host-pc_session'));
  });

  test('the device page (portcullis login) signs in through the IdP and comes back to confirm the code', async () => {
    const device = await startDeviceAuthorization(server);
    const browser = new Browser();
    const entry = await browser.follow(`${server.url}/device`);
    const login = await browser.submit(entry, /\/device$/, { user_code: device.user_code });
    assert.equal(deviceStep(login.body), 'login');
    assert.match(login.body, /Continue with Acme SSO/);
    const idpPage = await browser.submit(login, /\/device\/login$/, { email: 'frank@initech.test', password: '' });
    assert.ok(idpPage.url.startsWith(idp.issuer), `home-realm discovery: ${idpPage.url}`);
    const back = await signInAtIdp(browser, idpPage, 'frank', () => false);
    assert.equal(deviceStep(back.body), 'confirm', back.body.slice(0, 400));
    assert.equal(await orgRole('frank@initech.test'), 'member');
  });

  test('an invitation for an address in an SSO domain goes to the IdP, then back to join', async () => {
    const { pepper } = loadRootSecret({ secretKey: server.config.secretKey, dataDir: server.config.dataDir }).secrets;
    const deps = {
      store: server.store,
      pepper,
      now: () => Math.floor(Date.now() / 1000),
      revokeGrant: (async () => undefined) as unknown as IdentityDeps['revokeGrant'],
      revocations: { apply: () => undefined },
      retention: 3600,
      publicUrl: server.url,
    };
    const { link } = await invite(deps, { userId: server.user.id, role: 'owner' }, server.org, { email: 'grace@initech.test', role: 'member' });
    const browser = new Browser();
    const idpPage = await browser.follow(link!);
    assert.ok(idpPage.url.startsWith(idp.issuer), `the invitation goes to the IdP: ${idpPage.url}`);
    const back = await signInAtIdp(browser, idpPage, 'grace', () => false);
    assert.equal(back.url, link, 'back at the invitation, signed in');
    const joined = await browser.submit(back, /\/invitations\//, {}, () => true);
    assert.equal(joined.status, 303);
    const grace = (await server.store.users.findByEmail('grace@initech.test'))!;
    assert.equal((await server.store.orgs.member(server.org.id, grace.id))?.role, 'member');
  });

  test('a connection authenticating with private_key_jwt (RFC 7523) signs people in', async () => {
    const browser = new Browser();
    const idpPage = await browser.follow(`${server.url}/sso/keyed/start?return_to=%2F`);
    assert.ok(idpPage.url.startsWith(idp.issuer), idpPage.url);
    const back = await signInAtIdp(browser, idpPage, 'kim', (location) => location.startsWith(`${server.url}/sso/keyed/callback`));
    const answer = await browser.request(back.location!);
    assert.equal(answer.status, 303, answer.body.slice(0, 300));
    assert.equal(answer.location, `${server.url}/`);
    const kim = (await server.store.users.findByEmail('kim@keyed.test'))!;
    const org = (await server.store.orgs.bySlug('keyed'))!;
    assert.equal((await server.store.orgs.member(org.id, kim.id))?.role, 'member');
  });
});
