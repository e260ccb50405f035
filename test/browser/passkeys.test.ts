/**
 * Passkeys in a real browser (Debian's Chromium) with the DevTools virtual authenticator (a
 * platform authenticator with resident keys and user verification, CDP WebAuthn domain): a person
 * adds a passkey at /account/mfa, signs out, signs in with it alone (no e-mail, no password), and
 * then an MCP client sends them to sign in with the password and the passkey as the second factor,
 * and another with the passkey alone — back to the client, whose tool calls work. The two scripts are served from our origin under
 * the strict CSP (script-src 'self', nothing inline): no page logs an error or a CSP violation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { DesktopClient, startCallbackServer, watchContext, type CallbackServer, type PageWatch } from './support.ts';

describe('passkeys in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let callback: CallbackServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId = '';
  let watch: PageWatch;
  const clients: DesktopClient[] = [];

  before(async () => {
    server = await startTestServer();
    callback = await startCallbackServer();
    browser = await launchChromium();
    context = await browser.newContext();
    watch = await watchContext(context, server.url);
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    authenticatorId = added.authenticatorId;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await browser?.close();
    await callback?.close();
    await server?.stop();
  });

  it('adds a passkey at /account/mfa; the authenticator holds a discoverable credential', async () => {
    await page.goto(`${server.url}/login?next=/account/mfa`);
    await page.locator('#email').fill(server.user.email);
    await page.locator('#password').fill(server.password);
    await Promise.all([page.waitForURL((url) => url.pathname === '/account/mfa'), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
    await page.locator('#passkey-name').fill('Virtual laptop');
    await Promise.all([page.waitForURL((url) => url.searchParams.get('done') === 'passkey-added'), page.getByTestId('passkey-add').click()]);
    assert.equal(await page.getByTestId('passkey').count(), 1);
    assert.match((await page.getByTestId('passkey').textContent()) ?? '', /Virtual laptop/);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]!.isResidentCredential, true);
    assert.equal(credentials[0]!.rpId, 'localhost');
    await checkPage(page, 'account-mfa-passkey', { narrow: true });
    await page.getByTestId('sign-out').click();
  });

  it('signs in with the passkey alone: no e-mail, no password', async () => {
    await page.goto(`${server.url}/login`);
    await checkPage(page, 'login-passkey', { narrow: true });
    await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.getByTestId('passkey-sign-in').click()]);
    await page.getByText(`Signed in as ${server.user.email}`).waitFor();
    const user = await server.store.users.findByEmail(server.user.email);
    const sessions = await server.store.sessions.listForUser(user!.id);
    assert.ok(sessions.some((s) => s.amr.join() === 'hwk,user,mfa'), JSON.stringify(sessions.map((s) => s.amr)));
    await page.getByTestId('sign-out').click();
  });

  it('an MCP client signs in with the password, then the passkey as the second factor, and its tool calls work', async () => {
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, 'Passkey Client');
    clients.push(client);
    const authorizationUrl = await client.connect();
    assert.ok(authorizationUrl);
    await page.goto(authorizationUrl.href);
    await page.locator('#email').fill(server.user.email);
    await page.locator('#password').fill(server.password);
    await Promise.all([page.waitForURL((url) => url.pathname === '/sign-in/second-factor'), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
    assert.equal(await page.locator('#code').count(), 0, 'no authenticator app: no code field');
    await checkPage(page, 'second-factor-passkey', { narrow: true });
    await Promise.all([page.waitForURL((url) => url.pathname.startsWith('/interaction/')), page.getByTestId('passkey-second-factor').click()]);
    await Promise.all([page.waitForURL((url) => url.origin === callback.origin), page.getByRole('button', { name: 'Approve' }).click()]);
    await client.finish(callback.received.at(-1)!);
    assert.ok((await client.toolNames()).length > 0, 'tools listed with the token');
  });

  it('an MCP client signs in with the passkey alone: back to its authorization, then consent', async () => {
    await page.goto(`${server.url}/`);
    await page.getByTestId('sign-out').click();
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, 'Password-less Client');
    clients.push(client);
    const authorizationUrl = await client.connect();
    assert.ok(authorizationUrl);
    await page.goto(authorizationUrl.href);
    await Promise.all([page.waitForURL((url) => url.pathname.startsWith('/interaction/') && !url.pathname.endsWith('/resume')), page.getByTestId('passkey-sign-in').click()]);
    await Promise.all([page.waitForURL((url) => url.origin === callback.origin), page.getByRole('button', { name: 'Approve' }).click()]);
    await client.finish(callback.received.at(-1)!);
    assert.ok((await client.toolNames()).length > 0, 'tools listed with the token');
  });

  it('no page logged an error or a CSP violation, and every page kept the strict CSP', () => {
    for (const document of watch.documents) {
      const csp = document.headers['content-security-policy'] ?? '';
      assert.match(csp, /(^|;)\s*default-src 'none'\s*(;|$)/, document.url);
      assert.match(csp, /(^|;)\s*script-src 'self'\s*(;|$)/, document.url);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, document.url);
    }
    assert.ok(watch.documents.some((d) => new URL(d.url).pathname === '/sign-in/second-factor'));
    assert.deepEqual(watch.serverErrors, []);
    assert.deepEqual(watch.problems(), []);
  });
});
