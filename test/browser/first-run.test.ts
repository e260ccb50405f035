/**
 * The first-run story in a real browser (Debian's Chromium through playwright-core): the setup
 * link creates the administrator, who lands signed in on the home page showing the MCP URL; an
 * MCP client (the v1 SDK) registers dynamically and sends the user to the consent page in the
 * same browser; the user unticks `demo:write` and approves; the client sees only the read tools.
 * A second client is denied, and gets `access_denied` with `iss` and `state`. Throughout, every
 * page carries a strict CSP and the cookies are Secure, HttpOnly and SameSite=Lax.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { DEMO_SCOPES, DEMO_TOOLS } from '../../src/demo/tools.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { DesktopClient, startCallbackServer, startFreshServer, watchContext, type CallbackServer, type FreshServer, type PageWatch } from './support.ts';

const ADMIN = { name: 'Grace Hopper', email: 'grace@example.com', password: 'a long enough password' };
const CLIENT_NAME = 'Notebook Assistant';
const READ_TOOLS = DEMO_TOOLS.filter((t) => t.scope === 'demo:read').map((t) => t.name).sort();

describe('first run in a browser: set up, connect an MCP client, consent', { skip: chromiumSkip() }, () => {
  let server: FreshServer;
  let callback: CallbackServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  const screenshots = mkdtempSync(join(tmpdir(), 'portcullis-screens-'));
  const clients: DesktopClient[] = [];
  /** Every cookie the browser held at the consent page (the engine's are path-scoped there). */
  let cookiesAtConsent: Cookie[] = [];

  before(async () => {
    server = await startFreshServer();
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
    if (!process.env.PORTCULLIS_TEST_KEEP_SCREENSHOTS) rmSync(screenshots, { recursive: true, force: true });
    else console.log(`# screenshots kept in ${screenshots}`);
  });

  /** The consent page's checkbox for `scope` of the first resource. */
  const scopeBox = (scope: string) => page.locator(`input[type=checkbox][name=grant][value="0|${scope}"]`);

  it('the setup link creates the administrator, who lands signed in on the home page with the MCP URL', async () => {
    await page.goto(server.setupLink);
    await page.screenshot({ path: join(screenshots, 'setup.png'), fullPage: true });
    await checkPage(page, 'setup', { narrow: true });
    await page.getByLabel('Name').fill(ADMIN.name);
    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Repeat the password').fill(ADMIN.password);
    await Promise.all([page.waitForURL(`${server.url}/`), page.getByRole('button', { name: 'Create account' }).click()]);
    assert.match(await page.locator('h1').innerText(), new RegExp(ADMIN.email.replace('.', '\\.')));
    assert.ok(await page.locator('code', { hasText: server.mcpUrl }).isVisible(), 'the home page shows the MCP URL');
    await page.screenshot({ path: join(screenshots, 'home.png'), fullPage: true });
    await checkPage(page, 'home', { narrow: true });
    const users = await server.store.users.count();
    assert.equal(users, 1);
    // The link worked once: opening it again does not offer the form.
    const again = await context.newPage();
    const answer = await again.goto(server.setupLink);
    assert.equal(answer?.status(), 410);
    assert.equal(await again.locator('input[name=password]').count(), 0);
    await checkPage(again, 'setup-used');
    await again.close();
  });

  it('an MCP client registers itself; the signed-in user sees the consent page, unticks demo:write, and the client gets only read tools', async () => {
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, CLIENT_NAME);
    clients.push(client);
    const authorizationUrl = await client.connect();
    assert.ok(authorizationUrl, 'the SDK sent the user to the browser');
    assert.ok(client.provider.client?.client_id.startsWith('dyn_'), 'registered dynamically');

    await page.goto(authorizationUrl.href);
    // Already signed in to Portcullis: no sign-in form, straight to consent.
    assert.match(new URL(page.url()).pathname, /^\/interaction\//);
    assert.equal(await page.locator('input[type=password]').count(), 0, 'no second sign-in');
    assert.match(await page.locator('h1').innerText(), new RegExp(CLIENT_NAME));
    const warning = page.locator('.warning[role=note]');
    assert.ok(await warning.isVisible(), 'a dynamically registered client is flagged as unverified');
    assert.match(await warning.innerText(), /unverified/i);
    assert.ok(await page.getByText(new URL(callback.origin).host, { exact: true }).isVisible(), 'names the host it will send you back to');

    for (const scope of ['demo:read', 'demo:write'] as const) {
      const box = scopeBox(scope);
      assert.ok(await box.isChecked(), `${scope} is offered, ticked`);
      const item = page.locator('ul.scopes li', { has: box });
      const text = await item.innerText();
      assert.ok(text.includes(DEMO_SCOPES[scope]), `${scope} is explained in plain English`);
      for (const tool of DEMO_TOOLS.filter((t) => t.scope === scope)) assert.ok(text.includes(tool.name), `${scope} names ${tool.name}`);
    }
    assert.equal(await scopeBox('demo:delete').count(), 0, 'deleting is not asked for up front');
    await page.screenshot({ path: join(screenshots, 'consent.png'), fullPage: true });
    await checkPage(page, 'consent-unverified-client', { narrow: true });
    cookiesAtConsent = await context.cookies();

    await scopeBox('demo:write').uncheck();
    await Promise.all([page.waitForURL((url) => url.origin === callback.origin), page.getByRole('button', { name: 'Approve' }).click()]);
    const back = callback.received.at(-1)!;
    assert.ok(back.searchParams.get('code'));
    assert.equal(back.searchParams.get('iss'), server.url);
    assert.equal(back.searchParams.get('state'), client.provider.lastState);

    await client.finish(back);
    assert.equal(client.provider.currentTokens?.scope, 'demo:read');
    assert.deepEqual(await client.toolNames(), READ_TOOLS);
  });

  it('a user who denies sends the client back with access_denied, iss and state', async () => {
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, 'Unwanted Client');
    clients.push(client);
    const authorizationUrl = await client.connect();
    assert.ok(authorizationUrl);
    await page.goto(authorizationUrl.href);
    await Promise.all([page.waitForURL((url) => url.origin === callback.origin), page.getByRole('button', { name: 'Deny' }).click()]);
    const back = callback.received.at(-1)!;
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('iss'), server.url);
    assert.equal(back.searchParams.get('state'), client.provider.lastState);
    assert.equal(back.searchParams.get('code'), null);
    assert.deepEqual(watch.serverErrors, []);
  });

  it('an unknown client gets an error page, not a redirect', async () => {
    const answer = await page.goto(`${server.url}/oauth/authorize?client_id=nobody&response_type=code&redirect_uri=${encodeURIComponent(callback.redirectUri)}`);
    assert.equal(answer?.status(), 400);
    assert.equal(new URL(page.url()).origin, new URL(server.url).origin, 'the browser stays on Portcullis');
    assert.match(await page.locator('code').innerText(), /^invalid_client$/);
    await page.screenshot({ path: join(screenshots, 'error.png'), fullPage: true });
    await checkPage(page, 'error-authorization', { narrow: true });
  });

  it('signing out ends the session; the sign-in page is shown again', async () => {
    await page.goto(`${server.url}/`);
    await Promise.all([page.waitForURL(`${server.url}/`), page.getByRole('button', { name: 'Sign out' }).click()]);
    assert.equal(await page.locator('a[href$="/login"]').count(), 1, 'offers to sign in');
    const cookies = await context.cookies(server.url);
    assert.equal(cookies.find((c) => c.name === '__Host-pc_session'), undefined, 'the session cookie is gone');
    await page.goto(`${server.url}/login`);
    assert.equal(await page.locator('input[type=password]').count(), 1);
    await checkPage(page, 'login', { narrow: true });
  });

  it('every page carries a CSP without unsafe-inline and with frame-ancestors none, and no 5xx', () => {
    assert.ok(watch.documents.length >= 6, `pages seen: ${watch.documents.map((d) => d.url).join(', ')}`);
    for (const document of watch.documents) {
      const csp = document.headers['content-security-policy'];
      assert.ok(csp, `${document.url} has a CSP`);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, document.url);
      assert.match(csp, /(^|;)\s*frame-ancestors 'none'\s*(;|$)/, document.url);
      assert.match(csp, /(^|;)\s*default-src 'none'\s*(;|$)/, document.url);
      assert.equal(document.headers['x-content-type-options'], 'nosniff', document.url);
    }
    const paths = new Set(watch.documents.map((d) => new URL(d.url).pathname));
    for (const path of ['/setup', '/', '/login', '/oauth/authorize']) assert.ok(paths.has(path), `visited ${path}`);
    assert.ok([...paths].some((p) => p.startsWith('/interaction/')), 'visited the consent page');
    assert.deepEqual(watch.serverErrors, []);
  });

  it('cookies are Secure, HttpOnly and SameSite=Lax; the session cookie is __Host-pc_session', async () => {
    // Sign in again so the session cookie exists to be looked at.
    await page.goto(`${server.url}/login`);
    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await Promise.all([page.waitForURL(`${server.url}/`), page.getByRole('button', { name: 'Sign in' }).click()]);
    const cookies = await context.cookies(server.url);
    const everyCookie = [...cookiesAtConsent, ...(await context.cookies())];
    assert.ok(cookiesAtConsent.some((c) => c.name.startsWith('__Host-pc_op_session')), 'the engine session cookie was seen');
    for (const cookie of everyCookie) {
      assert.equal(cookie.secure, true, `${cookie.name} is Secure`);
      assert.equal(cookie.httpOnly, true, `${cookie.name} is HttpOnly`);
      assert.equal(cookie.sameSite, 'Lax', `${cookie.name} is SameSite=Lax`);
      if (cookie.name.startsWith('__Host-')) assert.equal(cookie.path, '/', `${cookie.name} is path=/`);
    }
    const session = cookies.find((c) => c.name === '__Host-pc_session');
    assert.ok(session, `session cookie present among ${cookies.map((c) => c.name).join(', ')}`);
    assert.equal(session.path, '/');
    assert.equal(session.domain, new URL(server.url).hostname, 'host-only');
  });

  it('no console errors and no CSP violations on any page', () => {
    assert.deepEqual(watch.problems(), []);
  });
});
