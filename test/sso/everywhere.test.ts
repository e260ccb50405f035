/**
 * Everywhere a person signs in goes through the company's IdP (issue 13 item 8), and what later
 * sign-ins through a real IdP change (item 5): an invitation for an address in an SSO domain can
 * never be turned into a Portcullis password (the form posted straight at the page goes to the
 * IdP too), the device page's "Continue with" button comes back to the code, and the groups and
 * the e-mail the IdP asserts at a later sign-in update memberships and address — never another
 * account's address.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { deviceStep, startDeviceAuthorization } from '../helpers/device.ts';
import { invite } from '../../src/identity/invitations.ts';
import type { IdentityDeps } from '../../src/identity/context.ts';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { audited, Browser, signInAtIdp, startTestIdp, type TestIdp, acmeConnection } from './support.ts';

const CONNECTION = 'acme-sso';
let idp: TestIdp;
let server: TestServer;

before(async () => {
  idp = await startTestIdp({
    hana: { email: 'hana@initech.test', email_verified: true, name: 'Hana', groups: ['eng'] },
    ivan: { email: 'ivan@initech.test', email_verified: true, name: 'Ivan', groups: [] },
    jo: { email: 'jo@initech.test', email_verified: true, name: 'Jo', groups: [] },
  });
  server = await startTestServer({
    identityProviders: [
      acmeConnection(idp, {
        id: CONNECTION,
        roles: { default: 'member' },
        memberships: { eng: [{ workspace: 'Engineering' }, { workspace: 'Engineering', project: 'MCP', role: 'editor' }] },
      }),
    ],
  });
  idp.serve(`${server.url}/sso/${CONNECTION}/callback`);
});

after(async () => {
  await server?.stop();
  await idp?.close();
});

const atCallback = (location: string) => location.startsWith(`${server.url}/sso/${CONNECTION}/callback`);

/** A whole sign-in through the IdP as `login`, from the connection's start. */
async function signInThroughIdp(login: string): Promise<Browser> {
  const browser = new Browser();
  const page = await browser.follow(`${server.url}/sso/${CONNECTION}/start?return_to=%2F`);
  const back = await signInAtIdp(browser, page, login, atCallback);
  assert.equal((await browser.request(back.location!)).status, 303);
  return browser;
}

function inviteDeps() {
  const { pepper } = loadRootSecret({ secretKey: server.config.secretKey, dataDir: server.config.dataDir }).secrets;
  return {
    store: server.store,
    pepper,
    now: () => Math.floor(Date.now() / 1000),
    revokeGrant: (async () => undefined) as unknown as IdentityDeps['revokeGrant'],
    revocations: { apply: () => undefined },
    retention: 3600,
    publicUrl: server.url,
  };
}

describe('signing in through the IdP everywhere', () => {
  test('an invitation for an SSO-domain address cannot be answered with a new password: the post goes to the IdP', async () => {
    const { link } = await invite(inviteDeps(), { userId: server.user.id, role: 'owner' }, server.org, { email: 'newbie@initech.test', role: 'member' });
    const browser = new Browser();
    const csrf = await browser.request(link!);
    assert.ok(csrf.location?.startsWith(`${server.url}/sso/${CONNECTION}/start`), `the page itself goes to the IdP: ${csrf.location}`);
    // The create-account form posted directly (as a script would), with a password of the attacker's choosing.
    const posted = await browser.request(link!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(server.url).origin },
      body: new URLSearchParams({ name: 'Newbie', password: TEST_PASSWORD, confirm: TEST_PASSWORD }),
    });
    assert.equal(posted.status, 303);
    assert.ok(posted.location?.startsWith(`${server.url}/sso/${CONNECTION}/start`), posted.location);
    assert.equal(await server.store.users.findByEmail('newbie@initech.test'), undefined, 'no account, no password');
  });

  test('the device page’s "Continue with Acme SSO" button signs in at the IdP and comes back to the code', async () => {
    const device = await startDeviceAuthorization(server);
    const browser = new Browser();
    const login = await browser.submit(await browser.follow(`${server.url}/device`), /\/device$/, { user_code: device.user_code });
    assert.equal(deviceStep(login.body), 'login');
    const button = /href="([^"]*\/sso\/acme-sso\/start[^"]*)"/.exec(login.body)?.[1];
    assert.ok(button, 'a "Continue with" button');
    const idpPage = await browser.follow(new URL(button.replaceAll('&amp;', '&'), server.url).href);
    assert.ok(idpPage.url.startsWith(idp.issuer), idpPage.url);
    const back = await signInAtIdp(browser, idpPage, 'jo', () => false);
    assert.equal(deviceStep(back.body), 'confirm', back.body.slice(0, 400));
  });
});

describe('later sign-ins through the IdP', () => {
  test('groups grant workspace and project memberships, and take them away when gone', async () => {
    const org = (await server.store.orgs.bySlug('initech')) ?? (await server.store.orgs.create({ slug: 'initech', name: 'Initech' }));
    const at = Math.floor(Date.now() / 1000);
    const engineering = await server.store.orgs.createResource({ orgId: org.id, kind: 'workspace', parentId: null, name: 'Engineering', at });
    const mcp = await server.store.orgs.createResource({ orgId: org.id, kind: 'project', parentId: engineering.id, name: 'MCP', at });
    await signInThroughIdp('hana');
    const hana = (await server.store.users.findByEmail('hana@initech.test'))!;
    const roles = async () => Object.fromEntries((await server.store.orgs.resourceMembers(org.id, hana.id)).map((m) => [m.resourceId, m.role]));
    assert.deepEqual(await roles(), { [engineering.id]: 'viewer', [mcp.id]: 'editor' });
    idp.accounts.set('hana', { ...idp.accounts.get('hana')!, groups: [] });
    await signInThroughIdp('hana');
    assert.deepEqual(await roles(), {});
    assert.equal(await audited(server, 'sso.membership.removed'), 2);
  });

  test('a new verified address in the domain is taken; another account’s address never is', async () => {
    await signInThroughIdp('ivan');
    const ivan = (await server.store.users.findByEmail('ivan@initech.test'))!;
    idp.accounts.set('ivan', { ...idp.accounts.get('ivan')!, email: 'ivan.petrov@initech.test' });
    await signInThroughIdp('ivan');
    assert.equal((await server.store.users.findById(ivan.id))!.email, 'ivan.petrov@initech.test');

    // The IdP (or whoever administers it) now asserts the address of someone who has an account here.
    const victim = await server.addUser('ceo@initech.test', TEST_PASSWORD, { role: null });
    idp.accounts.set('ivan', { ...idp.accounts.get('ivan')!, email: 'ceo@initech.test' });
    await signInThroughIdp('ivan');
    assert.equal((await server.store.users.findById(ivan.id))!.email, 'ivan.petrov@initech.test', 'the old address stays');
    assert.equal((await server.store.users.findByEmail('ceo@initech.test'))!.id, victim.id, 'the account keeps its address');
    assert.deepEqual(await server.store.ssoLinks.forUser(victim.id), [], 'and is not linked to the IdP subject');
    assert.equal(await audited(server, 'sso.email.conflict', 'email_taken'), 1);
  });
});
