/**
 * A person connects a terminal in a real browser (Debian's Chromium): types the code the terminal
 * shows, signs in, checks the code and unticks a permission, approves, and is told to return to
 * the terminal — whose next poll gets a token with only what was left ticked. Opening the link
 * with the code goes straight to sign-in; every page works under our CSP (no inline script, no
 * violations, no console errors) and none can be framed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { assertOAuthError, assertTokens } from '../helpers/authz.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { approveDeviceInBrowser, pollDeviceToken, startDeviceAuthorization } from '../helpers/device.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { watchContext } from './support.ts';

describe('device verification in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('code → sign in → confirm with one permission unticked → done; the token holds only the ticked scope', async () => {
    const device = await startDeviceAuthorization(server, { scope: 'demo:read demo:write' });
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending');
    const result = await approveDeviceInBrowser(browser, device.verification_uri, {
      // Typed as people do: lowercase, no dash.
      userCode: device.user_code.toLowerCase().replace('-', ''),
      email: server.user.email,
      password: server.password,
      grants: ['demo:read'],
    });
    assert.equal(result, 'approved');
    const tokens = assertTokens(await pollDeviceToken(server, device.device_code));
    assert.equal(tokens.scope, 'demo:read');
  });

  it('the link skips the code entry, not the sign-in or the confirmation; every page keeps to the CSP', async () => {
    const device = await startDeviceAuthorization(server);
    const context = await browser.newContext();
    const watch = await watchContext(context, server.url);
    try {
      const page = await context.newPage();
      const first = await page.goto(device.verification_uri_complete);
      assert.equal(await page.locator('form#device-login').count(), 1, 'sign-in comes first');
      await checkPage(page, 'device-sign-in', { narrow: true });
      const csp = first?.headers()['content-security-policy'] ?? '';
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline/);

      await page.fill('form#device-login input[name=email]', server.user.email);
      await page.fill('form#device-login input[name=password]', server.password);
      await Promise.all([page.waitForNavigation(), page.click('form#device-login button[type=submit]')]);
      assert.equal(await page.locator('form#device-confirm').count(), 1);
      assert.ok((await page.textContent('main'))?.includes(device.user_code), 'the code is shown to compare');
      await checkPage(page, 'device-confirm', { narrow: true });
      assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending', 400);

      await Promise.all([page.waitForNavigation(), page.click('form#device-confirm button[name=decision][value=deny]')]);
      assert.equal(await page.locator('main#device-denied').count(), 1);
      await checkPage(page, 'device-denied');
      assertOAuthError(await pollDeviceToken(server, device.device_code), 'access_denied', 400);
      assert.deepEqual(watch.problems(), []);
      assert.deepEqual(watch.serverErrors, []);
    } finally {
      await context.close();
    }
  });

  it('the code entry page is readable in both schemes and on a phone', async () => {
    const device = await startDeviceAuthorization(server);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      assert.equal((await page.goto(device.verification_uri))?.status(), 200);
      await checkPage(page, 'device-code-entry', { narrow: true });
    } finally {
      await context.close();
    }
  });
});
