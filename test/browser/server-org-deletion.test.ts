/**
 * Deleting an organization from /server/people, in a real browser, and through the admin API's
 * `DELETE /orgs/:org` (the same service): the confirmation says what goes with it (axe, phone
 * width too); after confirming by keyboard the organization is gone, its member's app token is
 * refused at the gateway at once, and their account stays. Attacked: an organization that owns
 * an application (409, it would turn server-wide), the org's own owner (403), a non-administrator
 * on the page (403), a form without its CSRF token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { assertTokens, mcpStatus, obtainCode, redeemCode, registerPublic } from '../helpers/authz.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { adminClient, type AdminClient } from '../admin/support.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, personSignedIn, postForm, type Person } from './account-support.ts';

describe('deleting an organization (server administrators)', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let api: AdminClient;
  let root: Person;

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    api = await adminClient(server); // root@example.com, a server administrator and no org's member
    root = await personSignedIn(browser, server, 'root@example.com', TEST_PASSWORD);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('confirm by keyboard: the organization goes, its member\'s token is refused at the gateway, the account stays', async () => {
    const doomed = await server.store.orgs.create({ slug: 'doomed', name: 'Doomed Ltd' });
    const bo = await server.addUser('bo@example.com', TEST_PASSWORD, { role: 'owner', org: doomed });
    const client = await registerPublic(server, { client_name: 'Doomed Client' });
    const tokens = assertTokens(await redeemCode(server, client, await obtainCode(server, client, { email: bo.email, password: TEST_PASSWORD, scope: 'demo:read' })));
    assert.equal(await mcpStatus(server, tokens.access_token), 200);

    const { page } = root;
    await page.goto(`${server.url}/server/people`);
    const row = page.locator('[data-testid="organization"][data-slug="doomed"]');
    await row.locator('[data-testid="delete-org-start"]').focus();
    await Promise.all([page.waitForURL((u) => u.pathname === '/server/people/orgs/delete'), page.keyboard.press('Enter')]);
    assert.match(await page.locator('main').innerText(), /accounts stay/, 'the confirmation says what goes and what stays');
    await checkPage(page, 'server-org-delete-confirm');
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page, 'server-org-delete-confirm-390');
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.ok(await server.store.orgs.bySlug('doomed'), 'nothing changes before the confirmation');

    await hook(page, 'confirm').focus();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'org-deleted'), page.keyboard.press('Enter')]);
    assert.equal(await codeOf(page, 'notice'), 'org-deleted');
    assert.equal(await row.count(), 0);
    assert.equal(await server.store.orgs.bySlug('doomed'), undefined);
    assert.ok(await server.store.users.findById(bo.id), 'the account stays');
    assert.equal(await mcpStatus(server, tokens.access_token), 401, 'the token acting for the deleted org is refused');
    const [record] = await server.store.audit.list({ kind: 'admin.org.deleted' });
    assert.equal(record?.details?.slug, 'doomed');
    assertClean(root);
  });

  it('admin API: an org that owns an application is refused (409); its own owner may not (403); a server administrator may (204)', async () => {
    const keeper = await server.store.orgs.create({ slug: 'keeper', name: 'Keeper' });
    const definition = { slug: 'kept', name: 'Kept', upstream: { url: 'http://127.0.0.1:9/mcp' } };
    await server.store.applications.create({ slug: 'kept', definition: JSON.stringify(definition), source: 'api', at: Math.floor(Date.now() / 1000), orgId: keeper.id });
    const owns = await api.call('DELETE', '/orgs/keeper');
    assert.deepEqual([owns.status, owns.body.error], [409, 'conflict']);
    assert.ok(await server.store.orgs.bySlug('keeper'), 'still there');
    await root.page.goto(`${server.url}/server/people/orgs/delete?org=keeper`);
    assert.equal(await hook(root.page, 'owns-applications').count(), 1, 'the page says so before anything is posted');
    assert.equal(await hook(root.page, 'confirm').count(), 0);

    const ada = await adminClient(server, server.user.email, false); // owner of acme, not a server administrator
    const refused = await ada.call('DELETE', '/orgs/acme');
    assert.deepEqual([refused.status, refused.body.error], [403, 'forbidden']);
    assert.ok(await server.store.orgs.bySlug('acme'));

    await server.store.applications.setOrg('kept', null, Math.floor(Date.now() / 1000));
    assert.equal((await api.call('DELETE', `/orgs/${keeper.id}`)).status, 204);
    assert.equal(await server.store.orgs.get(keeper.id), undefined);
    assert.equal((await api.call('DELETE', '/orgs/keeper')).status, 404);
  });

  it('the page refuses a non-administrator (403) and a form without its CSRF token', async () => {
    await server.store.orgs.create({ slug: 'safe', name: 'Safe' });
    const member = await httpSignedIn(server, server.user.email, TEST_PASSWORD);
    assert.equal((await member.request(`${server.url}/server/people/orgs/delete?org=safe`)).status, 403);
    assert.equal((await postForm(member, server, '/server/people/orgs/delete', { org: 'safe' })).status, 403);
    const admin = await httpSignedIn(server, 'root@example.com', TEST_PASSWORD);
    assert.equal(htmlCode((await postForm(admin, server, '/server/people/orgs/delete', { org: 'safe' })).body), 'csrf_failed');
    assert.ok(await server.store.orgs.bySlug('safe'), 'nothing was deleted');
  });
});
