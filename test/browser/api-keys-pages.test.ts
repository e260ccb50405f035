/**
 * API keys on /account/keys in a real browser: creating one shows its secret once — on the form's
 * answer, and never again (not in the list, not after a reload, not in the database); the key
 * works at the gateway; revoking it is immediate and permanent (it stays listed as revoked, the
 * gateway refuses it within a second, a second revoke is refused). The form's choices reach the
 * key (applications, resources, granular levels, expiry), and asking for more than you hold is
 * refused field by field. Attacks over HTTP: no CSRF token, another person's key id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { mcpStatus } from '../helpers/authz.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, personSignedIn, postForm, press, type Person } from './account-support.ts';

const PASSWORD = 'api keys password';
const KEY_SHAPE = /^pcs_[0-9A-Za-z]{40}$/;

describe('API keys in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let keira: Person;
  let secret: string;
  let keyId: string;
  const people: Person[] = [];

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    await server.addUser('keira@example.com', PASSWORD);
    keira = await personSignedIn(browser, server, 'keira@example.com', PASSWORD);
    people.push(keira);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a new key\'s secret is shown once, on the answer to the form, and never again', async () => {
    const { page } = keira;
    await page.goto(`${server.url}/account/keys`);
    assert.equal(await hook(page, 'no-keys').count(), 1);
    await page.locator('#key-name').fill('CI deploy');
    assert.equal(await press(page, page.getByRole('button', { name: 'Create key' })), 200);
    secret = (await hook(page, 'secret').innerText()).trim();
    assert.match(secret, KEY_SHAPE);
    keyId = (await hook(page, 'created').getAttribute('data-key'))!;
    const row = page.locator(`[data-testid="key"][data-key="${keyId}"]`);
    assert.equal(await row.getAttribute('data-status'), 'active');
    assert.equal(await row.locator('[data-testid="prefix"]').innerText(), `${secret.slice(0, 8)}…`, 'the prefix tells it apart');
    assert.equal((await page.content()).split(secret).length - 1, 1, 'the secret appears once, in the notice');
    await checkPage(page, 'account-key-created', { narrow: true });

    await page.goto(`${server.url}/account/keys`);
    assert.ok(!(await page.content()).includes(secret.slice(8)), 'the list never shows the secret');
    assert.equal(await hook(page, 'secret').count(), 0);
    const stored = JSON.stringify(await server.store.apiKeys.list({}));
    assert.ok(!stored.includes(secret.slice(8)), 'only a keyed hash is stored');
  });

  it('the key works at the gateway; revoking it in the page ends it within a second, for good', async () => {
    assert.equal(await mcpStatus(server, secret), 200, 'a live key is accepted');
    const { page } = keira;
    await page.goto(`${server.url}/account/keys`);
    const row = page.locator(`[data-testid="key"][data-key="${keyId}"]`);
    await press(page, row.locator('[data-testid="revoke"]'));
    const landed = page.waitForURL((url) => url.searchParams.get('done') === 'revoked');
    await page.locator('[data-testid="confirm"]').click();
    const clickedAt = Date.now();
    let status = await mcpStatus(server, secret);
    while (status !== 401 && Date.now() - clickedAt < 1000) status = await mcpStatus(server, secret);
    assert.equal(status, 401, 'refused within a second');
    await landed;
    assert.equal(await codeOf(page, 'notice'), 'revoked');
    assert.equal(await row.getAttribute('data-status'), 'revoked', 'it stays listed, as revoked');
    assert.equal(await row.locator('[data-testid="revoke"]').count(), 0, 'nothing can re-enable it');

    await page.goto(`${server.url}/account/keys`);
    await page.locator('#key-name').fill('Keeps a revoke form on the page');
    await press(page, page.getByRole('button', { name: 'Create key' }));
    const ua = await httpSignedIn(server, 'keira@example.com', PASSWORD);
    const again = await postForm(ua, server, '/account/keys/revoke', { key: keyId, confirm: 'yes' }, await ua.request(`${server.url}/account/keys`));
    assert.equal(again.status, 409);
    assert.equal(htmlCode(again.body), 'already_revoked');
    assert.equal(await mcpStatus(server, secret), 401);
  });

  it('the choices on the form reach the key: one application, picked resources at granular levels, an expiry date', async () => {
    const ws = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'workspace', parentId: null, name: 'Research', at: 1 });
    const prj = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'project', parentId: ws.id, name: 'Lab notes', at: 1 });
    const { page } = keira;
    await page.goto(`${server.url}/account/keys`);
    await page.locator('#key-name').fill('Nightly report');
    await page.locator('input[name=apps][value=pick]').check();
    await page.locator('input[name=app][value=demo]').check();
    await page.locator('input[name=scope][value=pick]').check();
    await page.locator(`input[name=resource][value="${ws.id}"]`).check();
    await page.locator(`input[name=resource][value="${prj.id}"]`).check();
    await page.locator('input[name=mode][value=granular]').check();
    await page.locator(`select[name="level:${ws.id}"]`).selectOption('read');
    await page.locator(`select[name="level:${prj.id}"]`).selectOption('write');
    await page.locator('select[name=expiry]').selectOption('date');
    const date = new Date(Date.now() + 40 * 86400_000).toISOString().slice(0, 10);
    await page.locator('input[name=expiryDate]').fill(date);
    assert.equal(await press(page, page.getByRole('button', { name: 'Create key' })), 200);
    const id = (await hook(page, 'created').getAttribute('data-key'))!;
    const key = await server.store.apiKeys.get(id);
    assert.deepEqual(key?.applications, ['demo']);
    assert.deepEqual(key?.resources?.sort(), [ws.id, prj.id].sort());
    assert.deepEqual(key?.permissions, { mode: 'granular', levels: { [ws.id]: 'read', [prj.id]: 'write' } });
    assert.equal(new Date(key!.expiresAt! * 1000).toISOString().slice(0, 10), date);
    const row = page.locator(`[data-testid="key"][data-key="${id}"]`);
    assert.ok((await row.innerText()).includes('Lab notes'), 'resources by name');
  });

  it('asking for more than you hold, or for nothing, is refused field by field and creates nothing', async () => {
    await server.addUser('liam@example.com', PASSWORD, { role: 'member' });
    const liam = await personSignedIn(browser, server, 'liam@example.com', PASSWORD);
    people.push(liam);
    const { page } = liam;
    await page.goto(`${server.url}/account/keys`);
    await page.locator('#key-name').fill('Too much');
    await page.locator('select[name=level]').selectOption('read-write');
    assert.equal(await press(page, page.getByRole('button', { name: 'Create key' })), 400);
    assert.equal(await codeOf(page, 'problem'), 'invalid_request');
    assert.equal(await page.locator('[data-testid="field-errors"] li[data-path="permissions.level"]').count(), 1, 'a member with no memberships holds nothing');
    await checkPage(page, 'account-keys-refused', { narrow: true });

    await page.locator('#key-name').fill('No applications');
    await page.locator('input[name=apps][value=pick]').check();
    assert.equal(await press(page, page.getByRole('button', { name: 'Create key' })), 400);
    assert.equal(await page.locator('[data-testid="field-errors"] li[data-path="applications"]').count(), 1);
    assert.equal(await hook(page, 'secret').count(), 0);
    const liamUser = await server.store.users.findByEmail('liam@example.com');
    assert.deepEqual(await server.store.apiKeys.list({ userId: liamUser!.id }), []);
  });

  it('no page logged an error, violated the CSP or answered 5xx', () => {
    assertClean(...people);
  });
});

describe('API key forms under attack', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await server.addUser('owner@example.com', PASSWORD);
    await server.addUser('mallory@example.com', PASSWORD);
  });
  after(() => server?.stop());

  async function createKey(email: string, name: string): Promise<{ id: string; secret: string }> {
    const ua = await httpSignedIn(server, email, PASSWORD);
    const form = await ua.request(`${server.url}/account/keys`);
    const answer = await postForm(ua, server, '/account/keys', { name, apps: 'all', scope: 'all', mode: 'simple', level: 'read', expiry: 'never' }, form);
    assert.equal(answer.status, 200);
    return { id: /data-testid="created" data-key="([^"]+)"/.exec(answer.body)![1]!, secret: /data-testid="secret">([^<]+)</.exec(answer.body)![1]! };
  }

  it("another person's key cannot be revoked: 404, and it keeps working", async () => {
    const victim = await createKey('owner@example.com', 'victim key');
    await createKey('mallory@example.com', 'mallory key');
    const mallory = await httpSignedIn(server, 'mallory@example.com', PASSWORD);
    const answer = await postForm(mallory, server, '/account/keys/revoke', { key: victim.id, confirm: 'yes' }, await mallory.request(`${server.url}/account/keys`));
    assert.equal(answer.status, 404);
    assert.equal(htmlCode(answer.body), 'not_found');
    assert.equal((await server.store.apiKeys.get(victim.id))?.revokedAt, null);
    assert.equal(await mcpStatus(server, victim.secret), 200);
  });

  it('creating or revoking without the CSRF token is refused and changes nothing', async () => {
    const victim = await createKey('owner@example.com', 'another key');
    const ua = await httpSignedIn(server, 'owner@example.com', PASSWORD);
    const before = (await server.store.apiKeys.list({})).length;
    const create = await postForm(ua, server, '/account/keys', { name: 'forged', apps: 'all', scope: 'all', mode: 'simple', level: 'read', expiry: 'never' });
    assert.equal(create.status, 403);
    const revoke = await postForm(ua, server, '/account/keys/revoke', { key: victim.id });
    assert.equal(revoke.status, 403);
    assert.equal((await server.store.apiKeys.list({})).length, before);
    assert.equal((await server.store.apiKeys.get(victim.id))?.revokedAt, null);
  });

  it('a key for an organization you do not belong to is refused: 404', async () => {
    const other = await server.store.orgs.create({ slug: 'elsewhere', name: 'Elsewhere' });
    const ua = await httpSignedIn(server, 'mallory@example.com', PASSWORD);
    const form = await ua.request(`${server.url}/account/keys`);
    const answer = await postForm(ua, server, '/account/keys', { name: 'x', org: other.id, apps: 'all', scope: 'all', mode: 'simple', level: 'read', expiry: 'never' }, form);
    assert.equal(answer.status, 404);
    assert.deepEqual(await server.store.apiKeys.list({ orgId: other.id }), []);
  });
});
