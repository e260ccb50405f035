/**
 * Single sign-on in a real browser (Debian's Chromium): an MCP SDK client sends the user to
 * Portcullis, "Continue with Acme SSO" leads to the company's IdP (a second oidc-provider), its
 * sign-in page, back to Portcullis's consent and to the client, whose tools/list then works; the
 * user exists in the connection's organization with the role the IdP's groups map to.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startTestIdp, type TestIdp, acmeConnection } from '../sso/support.ts';
import { DesktopClient, startCallbackServer, watchContext, type CallbackServer, type PageWatch } from './support.ts';

describe('single sign-on in a browser', { skip: chromiumSkip() }, () => {
  let idp: TestIdp;
  let server: TestServer;
  let callback: CallbackServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  const clients: DesktopClient[] = [];

  before(async () => {
    idp = await startTestIdp({ alice: { email: 'alice@initech.test', email_verified: true, name: 'Alice', groups: ['mcp-admins'] } }, 'localhost');
    server = await startTestServer({
      identityProviders: [
        acmeConnection(idp),
      ],
    });
    idp.serve(`${server.url}/sso/acme-sso/callback`);
    callback = await startCallbackServer();
    browser = await launchChromium();
    context = await browser.newContext();
    watch = await watchContext(context, server.url);
    page = await context.newPage();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await browser?.close();
    await callback?.close();
    await server?.stop();
    await idp?.close();
  });

  it('"Continue with Acme SSO" → the IdP’s sign-in → consent → the client calls tools', async () => {
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, 'SSO Client');
    clients.push(client);
    const authorizationUrl = await client.connect();
    assert.ok(authorizationUrl);
    await page.goto(authorizationUrl.href);
    await checkPage(page, 'interaction-sign-in-sso', { narrow: true });
    await Promise.all([page.waitForURL((url) => url.origin === new URL(idp.issuer).origin), page.getByRole('link', { name: 'Continue with Acme SSO' }).click()]);
    await page.locator('input[name=login]').fill('alice');
    await page.locator('input[name=password]').fill('anything');
    await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign-in' }).click()]);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    await checkPage(page, 'consent-after-sso');
    await Promise.all([page.waitForURL((url) => url.origin === callback.origin), page.getByRole('button', { name: 'Approve' }).click()]);

    await client.finish(callback.received.at(-1)!);
    assert.ok((await client.toolNames()).length > 0, 'the client lists tools with its token');
    const alice = await server.store.users.findByEmail('alice@initech.test');
    const org = await server.store.orgs.bySlug('initech');
    assert.equal((await server.store.orgs.member(org!.id, alice!.id))?.role, 'admin');
    assert.deepEqual(watch.serverErrors, []);
    // The test IdP's own pages (its development sign-in page loads web fonts) are not ours to judge.
    assert.deepEqual(watch.problems().filter((p) => !p.includes(idp.issuer)), []);
  });

  it('the console’s sign-in, e-mail only: home-realm discovery leads to the IdP and back, signed in', async () => {
    const other = await browser.newContext();
    try {
      const tab = await other.newPage();
      await tab.goto(`${server.url}/login`);
      await tab.locator('#email').fill('alice@initech.test');
      // The form's redirect chain ends at the IdP: CSP form-action must allow it (web/sso-routes.ts).
      await Promise.all([tab.waitForURL((url) => url.origin === new URL(idp.issuer).origin), tab.getByRole('button', { name: 'Sign in' }).click()]);
      await tab.locator('input[name=login]').fill('alice');
      await tab.locator('input[name=password]').fill('anything');
      await Promise.all([tab.waitForLoadState(), tab.getByRole('button', { name: 'Sign-in' }).click()]);
      await Promise.all([tab.waitForURL((url) => url.origin === new URL(server.url).origin), tab.getByRole('button', { name: 'Continue' }).click()]);
      assert.ok((await other.cookies(server.url)).some((cookie) => cookie.name === '__Host-pc_session'), 'signed in to Portcullis');
    } finally {
      await other.close();
    }
  });

  it('the refusal pages (a used sign-in, an unknown connection) say what happened and are readable', async () => {
    const other = await browser.newContext();
    try {
      const tab = await other.newPage();
      await tab.goto(`${server.url}/sso/acme-sso/callback?state=not-one-of-ours&code=x`);
      assert.equal(await tab.getByTestId('error').getAttribute('data-code'), 'sso_refused');
      await checkPage(tab, 'sso-refused', { narrow: true });
      await tab.goto(`${server.url}/sso/no-such-connection/callback`);
      assert.equal(await tab.getByTestId('error').getAttribute('data-code'), 'unknown_connection');
      await checkPage(tab, 'sso-unknown-connection');
    } finally {
      await other.close();
    }
  });
});
