/**
 * Retiring a signing key early at /server/keys, in a real browser: only a retired key offers it;
 * the confirmation says tokens it signed stop verifying (checked by axe, at phone width too);
 * after confirming by keyboard the key leaves the JWKS and a token it signed is refused at the
 * gateway (RFC 7515 §4.1.4: the `kid` names no published key). Then attacked over HTTP: a
 * non-administrator, no CSRF token, the key that signs (409, rotate first).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import type { Browser } from 'playwright-core';
import { hashPassword } from '../../src/core/crypto.ts';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { rotateSigningKey } from '../../src/signing-keys/key-ring.ts';
import { assertTokens, mcpStatus, obtainCode, redeemCode, registerPublic } from '../helpers/authz.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { adminClient } from '../admin/support.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, personSignedIn, postForm, type Person } from './account-support.ts';

const PASSWORD = TEST_PASSWORD; // adminClient signs root in with it too

describe('retiring a signing key early in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let root: Person;

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    await server.store.users.create({ email: 'root@example.com', passwordHash: await hashPassword(PASSWORD), isAdmin: true });
    root = await personSignedIn(browser, server, 'root@example.com', PASSWORD);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const jwksKids = async () => ((await (await fetch(`${server.url}/oauth/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  const rotate = async () => {
    const { dataKey } = loadRootSecret({ secretKey: server.config.secretKey, dataDir: server.config.dataDir }).secrets;
    const fresh = await rotateSigningKey(server.store, dataKey, Math.floor(Date.now() / 1000));
    await server.engine.reload(); // what the running server does within seconds on its own
    return fresh.kid;
  };

  it('a retired key: confirm by keyboard, it leaves the JWKS and a token it signed is refused at the gateway', async () => {
    const client = await registerPublic(server, { client_name: 'Retire Client' });
    const tokens = assertTokens(await redeemCode(server, client, await obtainCode(server, client, { email: server.user.email, password: server.password, scope: 'demo:read' })));
    assert.equal(await mcpStatus(server, tokens.access_token), 200);
    const oldKid = decodeProtectedHeader(tokens.access_token).kid!;
    const newKid = await rotate();
    assert.equal(await mcpStatus(server, tokens.access_token), 200, 'after a rotation the old token still verifies');

    const { page } = root;
    await page.goto(`${server.url}/server/keys`);
    const row = (kid: string) => page.locator(`[data-testid="signing-key"][data-kid="${kid}"]`);
    assert.equal(await row(newKid).locator('[data-testid="retire-start"]').count(), 0, 'the key that signs offers no retire');
    await row(oldKid).locator('[data-testid="retire-start"]').focus();
    await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/retire')), page.keyboard.press('Enter')]);
    assert.match(await page.locator('main').innerText(), /stops verifying/, 'the confirmation says what happens to its tokens');
    await checkPage(page, 'server-keys-retire-confirm');
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page, 'server-keys-retire-confirm-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.ok((await jwksKids()).includes(oldKid), 'nothing changes before the confirmation');

    await page.getByRole('button', { name: 'Stop publishing it' }).focus();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'retired'), page.keyboard.press('Enter')]);
    assert.equal(await codeOf(page, 'notice'), 'retired');
    assert.equal(await row(oldKid).count(), 0);
    await checkPage(page, 'server-keys-after-retire');

    const deadline = Date.now() + 10_000;
    while ((await jwksKids()).includes(oldKid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(await jwksKids(), [newKid], 'only the signing key is published');
    assert.equal(await mcpStatus(server, tokens.access_token), 401, 'a token signed by the retired key is refused');
    const records = await server.store.audit.list({ kind: 'signing_key.retired' });
    assert.deepEqual(records.map((r) => r.details?.kid), [oldKid]);
    assertClean(root);
  });

  it('refused: a non-administrator (403), no CSRF token, and the key that signs (409: rotate first)', async () => {
    const signing = await rotate();
    const retired = (await server.store.signingKeys.list()).find((k) => k.retiredAt !== null)!.kid;
    const member = await httpSignedIn(server, server.user.email, server.password);
    assert.equal((await member.request(`${server.url}/server/keys/${retired}/retire`)).status, 403);
    assert.equal((await postForm(member, server, `/server/keys/${retired}/retire`, {})).status, 403);

    const admin = await httpSignedIn(server, 'root@example.com', PASSWORD);
    const noToken = await postForm(admin, server, `/server/keys/${retired}/retire`, {});
    assert.equal(htmlCode(noToken.body), 'csrf_failed');
    const confirm = await admin.request(`${server.url}/server/keys/${retired}/retire`);
    const forSigning = await postForm(admin, server, `/server/keys/${signing}/retire`, {}, { ...confirm, body: confirm.body.replaceAll(`/server/keys/${retired}/retire`, `/server/keys/${signing}/retire`) });
    assert.equal(forSigning.status, 409);
    assert.equal(htmlCode(forSigning.body), 'conflict');
    assert.deepEqual((await server.store.signingKeys.list()).map((k) => k.kid).sort(), [retired, signing].sort(), 'nothing was removed');
  });

  it('admin API: GET /signing-keys lists the ring; DELETE retires a retired key (204), refuses the signing key (409) and an org owner (403)', async () => {
    const signing = await rotate();
    const api = await adminClient(server, 'root@example.com');
    const listed = await api.call('GET', '/signing-keys');
    const keys = listed.body.keys as { kid: string; status: string }[];
    const retired = keys.find((k) => k.status === 'retired')!.kid;
    assert.equal(keys.find((k) => k.kid === signing)?.status, 'active');
    assert.ok(!JSON.stringify(listed.body).includes('privateJwk'), 'never the private half');
    const owner = await adminClient(server, server.user.email, false);
    assert.equal((await owner.call('DELETE', `/signing-keys/${retired}`)).status, 403);
    const refused = await api.call('DELETE', `/signing-keys/${signing}`);
    assert.deepEqual([refused.status, refused.body.error], [409, 'conflict']);
    assert.equal((await api.call('DELETE', `/signing-keys/${retired}`)).status, 204);
    assert.equal((await api.call('DELETE', `/signing-keys/${retired}`)).status, 404);
    assert.ok(!(await server.store.signingKeys.list()).some((k) => k.kid === retired));
  });
});
