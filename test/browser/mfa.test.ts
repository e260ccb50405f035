/**
 * Two-step sign-in in a real browser (Debian's Chromium): a person turns TOTP on at
 * /account/mfa — the QR code renders as inline SVG under the strict CSP, the key is shown as text,
 * the recovery codes once — then an MCP client sends them to sign in: password, then the code
 * from the app, consent, and back to the client, whose tool calls work. No page logs an error or
 * a CSP violation on the way (the code form's redirect chain may end at the client).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { totpCode } from '../mfa/support.ts';
import { DesktopClient, startCallbackServer, watchContext, type CallbackServer, type PageWatch } from './support.ts';

describe('two-step sign-in in a browser', { skip: chromiumSkip() }, () => {
  const clock = testClock();
  let server: TestServer;
  let callback: CallbackServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  let secret = '';
  const clients: DesktopClient[] = [];

  before(async () => {
    server = await startTestServer({}, { clock });
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
  });

  it('turns TOTP on at /account/mfa: QR code, key, a code to confirm, recovery codes once', async () => {
    await page.goto(`${server.url}/login?next=/account/mfa`);
    await page.locator('#email').fill(server.user.email);
    await page.locator('#password').fill(server.password);
    await Promise.all([page.waitForURL((url) => url.pathname === '/account/mfa'), page.getByRole('button', { name: 'Sign in' }).click()]);
    await page.getByTestId('mfa-setup').click();
    const qr = page.getByTestId('totp-qr').locator('svg');
    await qr.waitFor();
    const box = await qr.boundingBox();
    assert.ok(box && box.width > 50 && box.height > 50, 'the QR code is drawn');
    secret = (await page.getByTestId('totp-secret').getAttribute('data-secret')) ?? '';
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await checkPage(page, 'account-mfa-totp-setup', { narrow: true });
    await page.locator('#code').fill(totpCode(secret, clock));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    assert.equal(await page.getByTestId('recovery-codes').locator('li').count(), 10);
    await checkPage(page, 'account-mfa-recovery-codes');
    await page.getByTestId('continue').click();
    assert.equal(await page.getByTestId('mfa-status').getAttribute('data-code'), 'on');
    await checkPage(page, 'account-mfa-on');
    await page.getByTestId('sign-out').click();
  });

  it('an MCP client signs in with the password, then the code, and its tool calls work', async () => {
    clock.advance(30);
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, 'Two-Step Client');
    clients.push(client);
    const authorizationUrl = await client.connect();
    assert.ok(authorizationUrl);
    await page.goto(authorizationUrl.href);
    await page.locator('#email').fill(server.user.email);
    await page.locator('#password').fill(server.password);
    await Promise.all([page.waitForURL((url) => url.pathname === '/sign-in/second-factor'), page.getByRole('button', { name: 'Sign in' }).click()]);
    await checkPage(page, 'second-factor-totp', { narrow: true });
    await page.locator('#code').fill(totpCode(secret, clock));
    await Promise.all([page.waitForURL((url) => url.pathname.startsWith('/interaction/')), page.getByRole('button', { name: 'Continue' }).click()]);
    await Promise.all([page.waitForURL((url) => url.origin === callback.origin), page.getByRole('button', { name: 'Approve' }).click()]);
    await client.finish(callback.received.at(-1)!);
    assert.ok((await client.toolNames()).length > 0, 'tools listed with the token');
  });

  it('no page logged an error or a CSP violation, and every page kept the strict CSP', () => {
    for (const document of watch.documents) {
      const csp = document.headers['content-security-policy'] ?? '';
      assert.match(csp, /(^|;)\s*default-src 'none'\s*(;|$)/, document.url);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, document.url);
    }
    assert.ok(watch.documents.some((d) => new URL(d.url).pathname === '/sign-in/second-factor'));
    assert.deepEqual(watch.serverErrors, []);
    assert.deepEqual(watch.problems(), []);
  });
});
