/**
 * The newcomer's story in a real browser (issue 14 item 7), driven by a real MCP client (the SDK
 * as a desktop app runs it): an owner invites someone as a plain member; they join; their MCP
 * client sends them to the consent page, which — their roles allowing none of the application's
 * permissions — says so plainly with "Request access" as the main action (not "Approve"); the
 * request reaches the owner's "Access requests" page, who approves it with a viewer role on a
 * workspace; the member's account page shows it; their retry goes through and the token works.
 * "Cancel" (and "Back to the application") send the client `access_denied` (RFC 6749 §4.1.2.1).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DEMO_TOOLS } from '../../src/demo/tools.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { hook, personSignedIn, press, type Person } from './account-support.ts';
import { DesktopClient, startCallbackServer, watchContext, type CallbackServer } from './support.ts';

const readTools = DEMO_TOOLS.filter((t) => t.scope === 'demo:read').map((t) => t.name).sort();

describe('a newcomer without access asks for it, and an administrator approves', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let callback: CallbackServer;
  let browser: Browser;
  let ada: Person;
  let newcomer: Person;
  const clients: DesktopClient[] = [];

  before(async () => {
    server = await startTestServer();
    callback = await startCallbackServer();
    browser = await launchChromium();
    await server.store.orgs.createResource({ orgId: server.org.id, kind: 'workspace', parentId: null, name: 'Docs', at: Math.floor(Date.now() / 1000) });
    ada = await personSignedIn(browser, server, server.user.email, TEST_PASSWORD);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await ada?.context.close();
    await newcomer?.context.close();
    await browser?.close();
    await callback?.close();
    await server?.stop();
  });

  /** An MCP client that has just sent the (signed-in) newcomer's browser to /authorize. */
  async function authorize(page: Page, client: DesktopClient): Promise<void> {
    const authorizationUrl = await client.connect();
    assert.ok(authorizationUrl, 'the SDK sent the user to the browser');
    await page.goto(authorizationUrl.href);
  }

  it('invite → join → authorize → no access → request → approved → retry → the token works', async () => {
    // The owner invites a plain member (no workspace role).
    await ada.page.goto(`${server.url}/orgs/acme/invitations`);
    await ada.page.fill('#invite-email', 'newcomer@example.com');
    await press(ada.page, ada.page.getByRole('button', { name: 'Invite' }));
    const link = await hook(ada.page, 'invitation-link').innerText();

    // The newcomer joins.
    const context = await browser.newContext();
    newcomer = { context, watch: await watchContext(context, server.url), page: await context.newPage() };
    const { page } = newcomer;
    await page.goto(link);
    await page.fill('#name', 'New Comer');
    await page.fill('#password', 'a long enough passphrase');
    await page.fill('#confirm', 'a long enough passphrase');
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type="submit"]')]);

    // Their MCP client: the consent page says plainly there is no access, and offers a request.
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, 'Newcomer Notes');
    clients.push(client);
    await authorize(page, client);
    await hook(page, 'no-access').waitFor();
    assert.match(await hook(page, 'no-access').innerText(), /You have no access to .+ in Acme/);
    assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 0, 'no "Approve" that grants nothing');
    assert.equal(await page.locator('button.primary').innerText(), 'Request access');
    assert.match(await hook(page, 'how-access-works').innerText(), /viewer role on any workspace or project/);
    await checkPage(page, 'consent-no-access');
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page, 'consent-no-access-390');
    await page.setViewportSize({ width: 1280, height: 800 });

    await press(page, page.getByRole('button', { name: 'Request access' }));
    await hook(page, 'access-requested').waitFor();
    await checkPage(page, 'consent-access-requested');
    const [request] = await server.store.accessRequests.listForOrg(server.org.id);
    assert.equal(request?.status, 'pending');
    // Back to the application: the client is told the user did not grant access.
    await Promise.all([page.waitForURL((url) => url.origin === callback.origin), page.getByRole('button', { name: 'Back to the application' }).click()]);
    assert.equal(callback.received.at(-1)?.searchParams.get('error'), 'access_denied');

    await page.goto(`${server.url}/account`);
    assert.equal(await hook(page, 'my-access-request').getAttribute('data-status'), 'pending');

    // The owner sees the request and approves it with a viewer role on Docs.
    await ada.page.goto(`${server.url}/orgs/acme/requests`);
    const row = ada.page.locator(`[data-testid="access-request"][data-request="${request!.id}"]`);
    assert.match(await row.innerText(), /newcomer@example\.com/);
    await checkPage(ada.page, 'org-access-requests');
    await row.getByLabel('Role for newcomer@example.com').selectOption('viewer');
    await press(ada.page, row.getByRole('button', { name: 'Approve' }));
    assert.equal(await ada.page.locator(`[data-testid="access-request"][data-request="${request!.id}"]`).getAttribute('data-status'), 'approved');

    await page.goto(`${server.url}/account`);
    assert.equal(await hook(page, 'my-access-request').getAttribute('data-status'), 'approved');
    await checkPage(page, 'account-access-request-approved');

    // The retry: the ordinary consent page, reading allowed; the token reaches the read tools.
    await authorize(page, client);
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    const before = callback.received.length;
    await Promise.all([page.waitForURL((url) => url.origin === callback.origin), page.getByRole('button', { name: 'Approve' }).click()]);
    assert.equal(callback.received.length, before + 1);
    await client.finish(callback.received.at(-1)!);
    assert.equal(client.provider.tokens()?.scope, 'demo:read');
    assert.deepEqual(await client.toolNames(), readTools);

    const kinds = (await server.store.audit.list({ orgId: server.org.id })).map((e) => e.kind);
    assert.ok(kinds.includes('access_request.created') && kinds.includes('access_request.approved'), kinds.join(' '));
    assert.deepEqual(newcomer.watch.serverErrors, []);
    assert.deepEqual(newcomer.watch.problems(), []);
    assert.deepEqual(ada.watch.problems(), []);
  });

  it('the settings page sets the default access for new members, and the invite form offers a starting role', async () => {
    const [docs] = await server.store.orgs.resources(server.org.id);
    await ada.page.goto(`${server.url}/orgs/acme/settings`);
    await ada.page.getByLabel('New members get').selectOption(`${docs!.id}|viewer`);
    await press(ada.page, hook(ada.page, 'new-member-access').getByRole('button', { name: 'Save' }));
    assert.deepEqual((await server.store.orgs.get(server.org.id))?.settings.newMemberAccess, { resourceId: docs!.id, role: 'viewer' });
    assert.equal(await ada.page.getByLabel('New members get').inputValue(), `${docs!.id}|viewer`, 'the page shows what is saved');
    await checkPage(ada.page, 'org-settings-new-member-access');

    await ada.page.goto(`${server.url}/orgs/acme/invitations`);
    await ada.page.fill('#invite-email', 'starter@example.com');
    await ada.page.getByLabel('Starting access').selectOption(`${docs!.id}|editor`);
    await press(ada.page, ada.page.getByRole('button', { name: 'Invite' }));
    const [made] = (await server.store.invitations.list(server.org.id)).filter((i) => i.email === 'starter@example.com');
    assert.deepEqual([made?.startResourceId, made?.startRole], [docs!.id, 'editor']);
    const row = ada.page.locator(`[data-testid="invitation"][data-invitation="${made!.id}"]`);
    assert.equal(await row.locator('[data-testid="starting-access"]').innerText(), `editor on ${docs!.kind} ${docs!.name}`, 'the table shows the starting access');
    await checkPage(ada.page, 'org-invitations-starting-access');
    // Back to no default, for the stories that follow.
    await ada.page.goto(`${server.url}/orgs/acme/settings`);
    await ada.page.getByLabel('New members get').selectOption('');
    await press(ada.page, hook(ada.page, 'new-member-access').getByRole('button', { name: 'Save' }));
    assert.equal((await server.store.orgs.get(server.org.id))?.settings.newMemberAccess, null);
    assert.deepEqual(ada.watch.problems(), []);
  });

  it('"Cancel" on the no-access page sends the client access_denied and records no request', async () => {
    const other = await server.addUser('bystander@example.com', TEST_PASSWORD, { role: 'member' });
    const person = await personSignedIn(browser, server, other.email, TEST_PASSWORD);
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, 'Cancelled Notes');
    clients.push(client);
    await authorize(person.page, client);
    await hook(person.page, 'no-access').waitFor();
    await Promise.all([person.page.waitForURL((url) => url.origin === callback.origin), person.page.getByRole('button', { name: 'Cancel' }).click()]);
    assert.equal(callback.received.at(-1)?.searchParams.get('error'), 'access_denied');
    assert.equal((await server.store.accessRequests.listForUser(other.id)).length, 0);
    assert.deepEqual(person.watch.problems(), []);
    await person.context.close();
  });

  it('client approval: the member\'s consent asks the admins; the owner approves on "Clients"; the retry gets a token', async () => {
    const mia = await server.addUser('mia@example.com', TEST_PASSWORD, { role: 'member' });
    const [docs] = await server.store.orgs.resources(server.org.id);
    await server.store.orgs.setResourceMember(docs!.id, mia.id, 'viewer', Math.floor(Date.now() / 1000));

    // The owner switches on "admin approval" on the Clients page.
    await ada.page.goto(`${server.url}/orgs/acme/clients`);
    await ada.page.getByLabel('Members may use only the applications approved here').check();
    await press(ada.page, hook(ada.page, 'client-approval-mode').getByRole('button', { name: 'Save' }));
    assert.equal((await server.store.orgs.get(server.org.id))?.settings.clientApproval, true);

    const person = await personSignedIn(browser, server, mia.email, TEST_PASSWORD);
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, 'Unapproved Notes');
    clients.push(client);
    await authorize(person.page, client);
    const received = callback.received.length;
    // Said before pressing Approve: the consent becomes a request to the administrators.
    assert.match(await hook(person.page, 'approval-needed').innerText(), /Acme has to approve Unapproved Notes/);
    await checkPage(person.page, 'consent-awaits-approval');
    await press(person.page, person.page.getByRole('button', { name: 'Approve' }));
    await hook(person.page, 'access-requested').waitFor();
    assert.match(await person.page.locator('main, body').first().innerText(), /is not one yet/);
    await checkPage(person.page, 'consent-client-approval-requested');
    assert.equal(callback.received.length, received, 'no code went to the client');
    const [asked] = (await server.store.accessRequests.listForUser(mia.id)).filter((r) => r.kind === 'client');
    assert.equal(asked?.status, 'pending');

    // The owner approves it.
    await ada.page.goto(`${server.url}/orgs/acme/clients`);
    const waiting = ada.page.locator(`[data-testid="client-waiting"][data-client="${asked!.clientId}"]`);
    assert.match(await waiting.innerText(), /mia@example\.com/);
    await checkPage(ada.page, 'org-clients');
    await ada.page.setViewportSize({ width: 390, height: 844 });
    await checkPage(ada.page, 'org-clients-390');
    await ada.page.setViewportSize({ width: 1280, height: 800 });
    await press(ada.page, waiting.getByRole('button', { name: 'Approve Unapproved Notes' }));
    assert.equal(await ada.page.locator(`[data-testid="client-approved"][data-client="${asked!.clientId}"]`).count(), 1);

    await person.page.goto(`${server.url}/account`);
    assert.match(await hook(person.page, 'my-access-requests').innerText(), /Approval of Unapproved Notes in Acme.*approved/s);

    // The retry goes through: a token, and the read tools.
    await authorize(person.page, client);
    await person.page.getByRole('button', { name: 'Approve' }).waitFor();
    assert.equal(await hook(person.page, 'approval-needed').count(), 0, 'approved: no more talk of approval');
    await Promise.all([person.page.waitForURL((url) => url.origin === callback.origin), person.page.getByRole('button', { name: 'Approve' }).click()]);
    await client.finish(callback.received.at(-1)!);
    assert.deepEqual(await client.toolNames(), readTools);

    // Withdrawing the approval asks first.
    await ada.page.goto(`${server.url}/orgs/acme/clients`);
    await press(ada.page, ada.page.getByRole('button', { name: 'Withdraw approval of Unapproved Notes' }));
    assert.equal(await hook(ada.page, 'confirm-title').innerText(), 'Refuse this application?');
    assert.deepEqual((await server.store.orgs.get(server.org.id))?.settings.clientAllowList, [asked!.clientId], 'nothing changed before the confirmation');
    await press(ada.page, hook(ada.page, 'confirm'));
    assert.deepEqual((await server.store.orgs.get(server.org.id))?.settings.clientAllowList, []);
    assert.deepEqual(person.watch.serverErrors, []);
    assert.deepEqual(person.watch.problems(), []);
    await person.context.close();
  });
});
