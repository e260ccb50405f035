/**
 * What a newcomer to the console meets first (issue 14 item 7): an unknown address is a page for
 * a person and JSON for a program; "Forgot password?" is on every sign-in that asks for one, and
 * leads back; a destructive action asks once more (and changes nothing until it is confirmed);
 * connected apps and sessions can be told apart; primary buttons are readable in dark mode; every
 * navigation is labelled; and the device "connected" page says what was granted and how to undo it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { User } from '../../src/store/users.ts';
import { authorizationUrl, mcpStatus, obtainCode, redeemCode, assertTokens, registerPublic, type RegisteredClient } from '../helpers/authz.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startDeviceAuthorization } from '../helpers/device.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertClean, hook, httpSignedIn, personSignedIn, postForm, press, type Person } from './account-support.ts';

const PASSWORD = 'newcomer pages password';

/** The sign-in form of the page it is on, filled and sent. */
async function signInHere(page: Page, form: string, email: string, password: string): Promise<void> {
  await page.fill(`${form} input[name=email]`, email);
  await page.fill(`${form} input[name=password]`, password);
  await Promise.all([page.waitForNavigation(), page.click(`${form} button[type=submit]`)]);
}

describe('what a newcomer meets in the console', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let ada: Person;
  let noor: User;
  let client: RegisteredClient;
  const people: Person[] = [];

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    noor = await server.addUser('noor@example.com', PASSWORD, { role: 'member' });
    await server.store.users.setName(noor.id, 'Noor Haddad');
    client = await registerPublic(server, { client_name: 'Research Notes', grant_types: ['authorization_code', 'refresh_token'] });
    ada = await personSignedIn(browser, server, server.user.email, server.password);
    people.push(ada);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('an unknown address: a "Not found" page for a browser, JSON for every program', async () => {
    const asPage = await fetch(`${server.url}/no/such/page`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(asPage.status, 404);
    assert.match(asPage.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await asPage.text(), /data-testid="error" data-code="not_found"/);
    for (const [path, accept] of [['/no/such/page', 'application/json'], ['/no/such/page', ''], ['/admin/api/no-such-route', 'text/html'], ['/scim/v2/NoSuchThing', 'text/html']] as const) {
      const answer = await fetch(`${server.url}${path}`, { headers: accept ? { accept } : {} });
      // The admin API asks for its credentials before it looks up a route (401).
      assert.ok(answer.status === 404 || answer.status === 401, `${path}: ${answer.status}`);
      assert.doesNotMatch(answer.headers.get('content-type') ?? '', /text\/html/, `${path} with Accept "${accept}" stays an API answer`);
    }
    const { page } = ada;
    const response = await page.goto(`${server.url}/orgs/acme/no-such-section/really`);
    assert.equal(response?.status(), 404);
    assert.equal(await hook(page, 'error').getAttribute('data-code'), 'not_found');
    await checkPage(page, 'not-found');
  });

  it('"Forgot password?" is on the authorization sign-in and the device sign-in, and leads back to them', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(authorizationUrl(server, client, { scope: 'demo:read' }).url);
      const signIn = new URL(page.url()).pathname;
      assert.match(signIn, /^\/interaction\//);
      await press(page, hook(page, 'forgot-password'));
      assert.equal(new URL(page.url()).pathname, '/forgot-password');
      await checkPage(page, 'forgot-password-from-authorization');
      await press(page, hook(page, 'back-to-sign-in'));
      assert.equal(new URL(page.url()).pathname, signIn, 'back on the sign-in it left');
      assert.equal(await page.locator('#email').count(), 1);

      const device = await startDeviceAuthorization(server);
      await page.goto(device.verification_uri_complete);
      assert.equal(await page.locator('form#device-login').count(), 1);
      await press(page, hook(page, 'forgot-password'));
      await press(page, hook(page, 'back-to-sign-in'));
      assert.equal(await page.locator('form#device-login').count(), 1, 'back on the device sign-in, the code kept');
    } finally {
      await context.close();
    }
  });

  it('"Back to sign-in" never leaves the site, whatever ?back= says', async () => {
    for (const back of ['//evil.example/', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      const body = await (await fetch(`${server.url}/forgot-password?back=${encodeURIComponent(back)}`)).text();
      assert.match(body, /<a href="\/login" data-testid="back-to-sign-in">/, back);
    }
  });

  it('removing a member asks first, says what goes with it, and changes nothing until confirmed', async () => {
    const admin = await httpSignedIn(server, server.user.email, server.password);
    const members = await admin.request(`${server.url}/orgs/acme/members`);
    const asked = await postForm(admin, server, '/orgs/acme/members/remove', { user: noor.id }, members);
    assert.equal(asked.status, 200);
    assert.match(asked.body, /data-testid="confirm-form"/);
    assert.match(asked.body, /Remove Noor Haddad from Acme\?/);
    assert.ok(await server.store.orgs.member(server.org.id, noor.id), 'still a member: the post only asked');
    const outsider = await server.addUser('outsider@example.com', PASSWORD, { role: null });
    await server.store.users.setName(outsider.id, 'Olga Outside');
    const probe = await postForm(admin, server, '/orgs/acme/members/remove', { user: outsider.id }, members);
    assert.doesNotMatch(probe.body, /Olga|outsider@example\.com/, 'the question names no one outside the organization');
    const endAll = await postForm(admin, server, '/account/sessions/end-all', {}, await admin.request(`${server.url}/account/sessions`));
    assert.equal(endAll.status, 200);
    assert.equal((await admin.request(`${server.url}/account`)).status, 200, 'still signed in: "sign out everywhere" only asked');
  });

  it('the confirmation page: readable at 390 px, Cancel goes back, Enter confirms', async () => {
    const { page } = ada;
    await page.goto(`${server.url}/orgs/acme/members`);
    const row = page.locator(`[data-testid="member"][data-user="${noor.id}"]`);
    assert.equal(await press(page, row.locator('[data-testid="remove-member"]')), 200);
    assert.match(await hook(page, 'confirm-text').innerText(), /disconnected/);
    await checkPage(page, 'confirm-remove-member');
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page, 'confirm-remove-member-390');
    await page.setViewportSize({ width: 1280, height: 720 });
    await press(page, hook(page, 'cancel'));
    assert.equal(new URL(page.url()).pathname, '/orgs/acme/members');
    assert.ok(await server.store.orgs.member(server.org.id, noor.id), 'Cancel changed nothing');

    await press(page, row.locator('[data-testid="remove-member"]'));
    // The confirming button has the focus: one key press, no mouse.
    const landed = page.waitForURL((url) => url.searchParams.get('done') === 'removed');
    await page.keyboard.press('Enter');
    await landed;
    assert.equal(await server.store.orgs.member(server.org.id, noor.id), undefined);
  });

  it('connected apps and sessions can be told apart: client id, registration, how signed in', async () => {
    const code = await obtainCode(server, client, { email: server.user.email, password: server.password, scope: 'demo:read offline_access' });
    const tokens = assertTokens(await redeemCode(server, client, code));
    const { page } = ada;
    await page.goto(`${server.url}/account/apps`);
    const app = page.locator(`[data-testid="app"][data-client="${client.client_id}"]`);
    assert.equal((await app.locator('[data-testid="client-id"]').innerText()).trim(), client.client_id);
    assert.equal(await app.locator('[data-testid="registration"]').getAttribute('data-registration'), 'dynamic', 'it registered itself');
    await checkPage(page, 'connected-apps-details');

    await page.goto(`${server.url}/account/sessions`);
    const current = page.locator('[data-testid="session"][data-current="true"]');
    assert.equal((await current.locator('[data-testid="sign-in-method"]').innerText()).trim(), 'Password');
    assert.match(await current.locator('td').first().innerText(), /Chrome on Linux/);
    await checkPage(page, 'sessions-details');

    await page.goto(`${server.url}/account/apps`);
    await press(page, app.locator('[data-testid="disconnect"]'));
    assert.equal(await mcpStatus(server, tokens.access_token), 200, 'asked, not yet disconnected');
    await press(page, hook(page, 'confirm'));
    assert.equal(await page.locator(`[data-testid="app"][data-client="${client.client_id}"]`).count(), 0);
  });

  it('dark mode: white on a primary button is at least 4.5:1, on several pages', async () => {
    const context = await browser.newContext({ colorScheme: 'dark' });
    try {
      const page = await context.newPage();
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.goto(`${server.url}/login`);
      const fill = await page.locator('button.primary').first().evaluate((b) => getComputedStyle(b).backgroundColor);
      assert.equal(fill, 'rgb(31, 111, 235)', '#1f6feb: 4.6:1 against white (WCAG 2.2 SC 1.4.3)');
      await checkPage(page, 'dark-login');
      await page.goto(`${server.url}/forgot-password`);
      await checkPage(page, 'dark-forgot-password');
    } finally {
      await context.close();
    }
    const { page } = ada;
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const path of ['/account/sessions', '/orgs/acme/members', '/account/keys']) {
      await page.goto(`${server.url}${path}`);
      await checkPage(page, `dark${path.replaceAll('/', '-')}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('every navigation is labelled', async () => {
    const { page } = ada;
    for (const path of ['/account', '/orgs/acme/members']) {
      await page.goto(`${server.url}${path}`);
      const labels = await page.locator('nav').evaluateAll((navs) => navs.map((n) => n.getAttribute('aria-label') ?? ''));
      assert.ok(labels.length >= 1, path);
      assert.ok(labels.every((l) => l.trim().length > 0), `${path}: ${JSON.stringify(labels)}`);
    }
    await page.goto(`${server.url}/orgs/acme/members`);
    assert.equal(await hook(page, 'org-nav').getAttribute('aria-label'), 'Acme administration');
  });

  it('the device "connected" page says what was granted, for which organization, and how to undo it', async () => {
    const device = await startDeviceAuthorization(server, { scope: 'demo:read' });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(device.verification_uri_complete);
      await signInHere(page, 'form#device-login', server.user.email, server.password);
      await Promise.all([page.waitForNavigation(), page.click('form#device-confirm button[name=decision][value=approve]')]);
      assert.equal(await page.locator('main#device-approved').count(), 1);
      assert.match(await hook(page, 'granted-org').innerText(), /Acme/);
      assert.equal(await hook(page, 'granted-scopes').locator('li[data-scope="demo:read"]').count(), 1);
      assert.doesNotMatch(await hook(page, 'granted-scopes').innerText(), /demo:read/, 'in words, not the scope name');
      assert.equal(await hook(page, 'undo').locator('a').getAttribute('href'), '/account/apps');
      await checkPage(page, 'device-connected');
    } finally {
      await context.close();
    }
  });

  it('no page logged an error, violated the CSP or answered 5xx', () => {
    assertClean(...people);
  });
});
