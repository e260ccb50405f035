/**
 * Signing in through an MCP client in a real browser (Debian's Chromium): a user who is not yet
 * signed in gets the sign-in page from the authorization URL, a wrong password is refused, the
 * right one leads to consent and back to the client; "Cancel" sends the client `access_denied`;
 * and no other site can frame the sign-in or consent pages. Rendered in the dark colour scheme
 * (the first-run story covers the light one).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_TOOLS } from '../../src/demo/tools.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { DesktopClient, startCallbackServer, watchContext, type CallbackServer, type PageWatch } from './support.ts';

describe('signing in from an MCP client in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let callback: CallbackServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  const screenshots = mkdtempSync(join(tmpdir(), 'portcullis-screens-'));
  const clients: DesktopClient[] = [];

  before(async () => {
    server = await startTestServer();
    callback = await startCallbackServer();
    browser = await launchChromium();
    context = await browser.newContext({ colorScheme: 'dark' });
    watch = await watchContext(context, server.url);
    page = await context.newPage();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await browser?.close();
    await callback?.close();
    await server?.stop();
    if (!process.env.PORTCULLIS_TEST_KEEP_SCREENSHOTS) rmSync(screenshots, { recursive: true, force: true });
    else console.log(`# screenshots kept in ${screenshots}`);
  });

  async function newClient(name: string): Promise<{ client: DesktopClient; authorizationUrl: URL }> {
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, name);
    clients.push(client);
    const authorizationUrl = await client.connect();
    assert.ok(authorizationUrl, 'the SDK sent the user to the browser');
    return { client, authorizationUrl };
  }

  const backAtClient = () => page.waitForURL((url) => url.origin === callback.origin);

  it('no other site can frame the sign-in page', async () => {
    const { authorizationUrl } = await newClient('Framed Client');
    const other = await browser.newContext();
    try {
      const framing = await other.newPage();
      await framing.goto(callback.framing(authorizationUrl.href));
      const frame = framing.frames().find((f) => f !== framing.mainFrame());
      assert.ok(frame, 'the other site has its frame');
      assert.equal(await frame.locator('form[action*="/interaction/"]').count(), 0, 'no form of ours rendered inside another site');
      assert.equal(await frame.locator('input[type=password]').count(), 0);
    } finally {
      await other.close();
    }
  });

  it('a wrong password is refused on the sign-in page; the right one leads to consent and back to the client', async () => {
    const { client, authorizationUrl } = await newClient('Research Helper');
    await page.goto(authorizationUrl.href);
    assert.match(new URL(page.url()).pathname, /^\/interaction\//);
    assert.equal(await page.locator('strong', { hasText: 'Research Helper' }).count(), 1, 'names the client');
    await page.screenshot({ path: join(screenshots, 'sign-in-dark.png'), fullPage: true });
    await checkPage(page, 'interaction-sign-in', { narrow: true });

    await page.locator('#email').fill(server.user.email);
    await page.locator('#password').fill('not the password');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/login')),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    assert.equal(refused.status(), 401);
    await page.waitForLoadState();
    assert.ok(await page.locator('.error[role=alert]').isVisible(), 'says the sign-in failed');
    await checkPage(page, 'interaction-sign-in-refused');

    await page.locator('#email').fill(server.user.email);
    await page.locator('#password').fill(server.password);
    await Promise.all([page.waitForURL((url) => url.pathname.startsWith('/interaction/')), page.getByRole('button', { name: 'Sign in' }).click()]);
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    await page.screenshot({ path: join(screenshots, 'consent-dark.png'), fullPage: true });
    await checkPage(page, 'interaction-consent', { narrow: true });
    await Promise.all([backAtClient(), page.getByRole('button', { name: 'Approve' }).click()]);

    const back = callback.received.at(-1)!;
    assert.equal(back.searchParams.get('iss'), server.url);
    assert.equal(back.searchParams.get('state'), client.provider.lastState);
    await client.finish(back);
    const expected = DEMO_TOOLS.filter((t) => t.scope === 'demo:read' || t.scope === 'demo:write').map((t) => t.name).sort();
    assert.deepEqual(await client.toolNames(), expected);
  });

  it('"Cancel" on the sign-in page sends the client access_denied with iss and state', async () => {
    const other = await browser.newContext();
    try {
      const otherWatch = await watchContext(other, server.url);
      const otherPage = await other.newPage();
      const { client, authorizationUrl } = await newClient('Cancelled Client');
      await otherPage.goto(authorizationUrl.href);
      await Promise.all([otherPage.waitForURL((url) => url.origin === callback.origin), otherPage.getByRole('button', { name: 'Cancel' }).click()]);
      const back = callback.received.at(-1)!;
      assert.equal(back.searchParams.get('error'), 'access_denied');
      assert.equal(back.searchParams.get('iss'), server.url);
      assert.equal(back.searchParams.get('state'), client.provider.lastState);
      assert.deepEqual(otherWatch.serverErrors, []);
      assert.deepEqual(otherWatch.problems(), []);
    } finally {
      await other.close();
    }
  });

  it("an address that leads nowhere gets the console's error page, readable in both schemes and on a phone", async () => {
    const other = await browser.newContext();
    try {
      const lost = await other.newPage();
      const answer = await lost.goto(`${server.url}/no-such-page`);
      assert.equal(answer?.status(), 404);
      await checkPage(lost, 'error-not-found', { narrow: true });
    } finally {
      await other.close();
    }
  });

  it('the sign-in and consent pages carry a strict CSP, and nothing logged an error or a CSP violation', () => {
    const interactionPages = watch.documents.filter((d) => new URL(d.url).pathname.startsWith('/interaction/'));
    assert.ok(interactionPages.length >= 3, 'sign-in, refused sign-in, consent');
    for (const document of watch.documents) {
      const csp = document.headers['content-security-policy'] ?? '';
      assert.match(csp, /(^|;)\s*frame-ancestors 'none'\s*(;|$)/, document.url);
      assert.match(csp, /(^|;)\s*default-src 'none'\s*(;|$)/, document.url);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, document.url);
      assert.equal(document.headers['x-frame-options'], 'DENY', document.url);
    }
    assert.deepEqual(watch.serverErrors, []);
    assert.deepEqual(watch.problems(), []);
  });
});
