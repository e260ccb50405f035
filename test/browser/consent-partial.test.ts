/**
 * The consent page in a real browser (Debian's Chromium), driven by a real MCP client (the v1
 * SDK as a desktop app runs it): unticking permissions yields a token with only the ticked scopes,
 * and the gateway's `tools/list` then shows exactly the tools those scopes enable; a user in two
 * organizations picks one with the radio buttons (no JavaScript needed), sees what their role
 * there allows, and the token acts for that organization.
 */
import type { Org } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_TOOLS } from '../../src/demo/tools.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { DesktopClient, startCallbackServer, watchContext, type CallbackServer, type PageWatch } from './support.ts';

const toolsFor = (scopes: string[]) => DEMO_TOOLS.filter((t) => scopes.includes(t.scope)).map((t) => t.name).sort();
const at = () => Math.floor(Date.now() / 1000);

describe('consent in a browser: partial consent and the organization picker', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let callback: CallbackServer;
  let browser: Browser;
  const clients: DesktopClient[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    server = await startTestServer();
    callback = await startCallbackServer();
    browser = await launchChromium();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await Promise.all(contexts.map((c) => c.close().catch(() => {})));
    await browser?.close();
    await callback?.close();
    await server?.stop();
  });

  /** A fresh browser profile, watched for CSP violations, console errors and 5xx answers. */
  async function freshBrowser(): Promise<{ page: Page; watch: PageWatch }> {
    const context = await browser.newContext();
    contexts.push(context);
    const watch = await watchContext(context, server.url);
    return { page: await context.newPage(), watch };
  }

  /** An MCP desktop client that has just sent the user to the browser, which is at the consent page. */
  async function toConsent(page: Page, name: string, user: { email: string }): Promise<DesktopClient> {
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, name);
    clients.push(client);
    const authorizationUrl = await client.connect();
    assert.ok(authorizationUrl, 'the SDK sent the user to the browser');
    await page.goto(authorizationUrl.href);
    await page.locator('#email').fill(user.email);
    await page.locator('#password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    return client;
  }

  async function approve(page: Page, client: DesktopClient): Promise<Record<string, unknown>> {
    const before = callback.received.length;
    await Promise.all([page.waitForURL((url) => url.origin === callback.origin), page.getByRole('button', { name: 'Approve' }).click()]);
    assert.equal(callback.received.length, before + 1);
    await client.finish(callback.received.at(-1)!);
    const token = client.provider.tokens()?.access_token;
    assert.ok(token, 'the client holds an access token');
    return decodeJwt(token) as Record<string, unknown>;
  }

  const ticked = (page: Page) =>
    page.locator('input[name=grant]').evaluateAll((boxes) => (boxes as HTMLInputElement[]).filter((b) => b.checked).map((b) => b.value.split('|')[1]!));

  it('unticking permissions yields a token with only the ticked scopes, and tools/list shows exactly their tools', async () => {
    const { page, watch } = await freshBrowser();
    const client = await toConsent(page, 'Partial Notes', server.user);
    const offered = await ticked(page);
    assert.ok(offered.includes('demo:read') && offered.includes('demo:write'), `offered: ${offered.join(' ')}`);

    // Keep only "read": untick write (and anything else the client asked for).
    for (const scope of offered.filter((s) => s !== 'demo:read')) await page.locator(`input[name=grant][value$="|${scope}"]`).uncheck();
    assert.deepEqual(await ticked(page), ['demo:read']);
    const claims = await approve(page, client);

    assert.equal(claims.scope, 'demo:read');
    assert.equal(client.provider.tokens()?.scope, 'demo:read');
    assert.deepEqual(await client.toolNames(), toolsFor(['demo:read']));
    assert.ok(!(await client.toolNames()).includes('write_note'), 'no tool of an unticked permission');
    assert.deepEqual(watch.serverErrors, []);
    assert.deepEqual(watch.problems(), []);
  });

  describe('a user in two organizations', () => {
    let globex: Org;
    let grace: User;

    before(async () => {
      globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
      grace = await server.addUser('grace@example.com'); // admin of Acme
      await server.store.orgs.addMember(globex.id, grace.id, 'member', at());
      const lab = await server.store.orgs.createResource({ orgId: globex.id, kind: 'workspace', parentId: null, name: 'Lab', at: at() });
      await server.store.orgs.setResourceMember(lab.id, grace.id, 'viewer', at());
    });

    it('picks the org with the radio buttons, sees what her role there allows, and gets a token for that org', async () => {
      const { page, watch } = await freshBrowser();
      const client = await toConsent(page, 'Two Org Notes', grace);
      const radios = page.locator('input[type=radio][name=org]');
      assert.equal(await radios.count(), 2);
      await checkPage(page, 'consent-choose-org', { narrow: true });
      assert.ok(await page.locator(`input[name=org][value="${server.org.id}"]`).isChecked(), 'the first org comes chosen');
      assert.ok((await ticked(page)).includes('demo:write'), 'an admin of Acme may allow writing');

      await page.getByLabel('Globex').check();
      await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Show permissions for the chosen organization' }).click()]);
      await page.getByRole('button', { name: 'Approve' }).waitFor();
      assert.ok(await page.locator(`input[name=org][value="${globex.id}"]`).isChecked(), 'Globex stays chosen');
      assert.deepEqual(await ticked(page), ['demo:read'], 'a viewer in Globex may only allow reading');
      assert.ok(await page.locator('li.unavailable[data-scope="demo:write"] .reason').isVisible(), 'writing is shown as unavailable, with the reason');
      await checkPage(page, 'consent-scope-unavailable');
      assert.equal(await page.locator('input[name=grant][value$="|demo:write"]').count(), 0);

      const claims = await approve(page, client);
      assert.equal(claims.org_id, globex.id);
      assert.equal(claims.scope, 'demo:read');
      assert.deepEqual(await client.toolNames(), toolsFor(['demo:read']));
      assert.deepEqual(watch.serverErrors, []);
      assert.deepEqual(watch.problems(), []);
    });
  });
});
