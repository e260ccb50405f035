/**
 * "Connected apps" in a real browser: a person sees every app holding a grant of theirs — its
 * name, what it may do in the application's own plain English, for which organization, when it
 * was connected and last used — and "Disconnect" ends it at once: within a second the gateway
 * refuses the app's access token and its refresh token is dead, while another person's app keeps
 * working. Another person's grant id gets 404 and changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { DEMO_SCOPES } from '../../src/demo/tools.ts';
import { assertOAuthError, assertTokens, mcpStatus, obtainCode, redeemCode, refresh, registerPublic, type RegisteredClient, type TokenSet } from '../helpers/authz.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, personSignedIn, postForm, press, type Person } from './account-support.ts';

const PASSWORD = 'connected apps password';

async function connect(server: TestServer, client: RegisteredClient, email: string): Promise<TokenSet> {
  const code = await obtainCode(server, client, { email, password: PASSWORD, scope: 'demo:read demo:write offline_access' });
  return assertTokens(await redeemCode(server, client, code));
}

describe('connected apps in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let client: RegisteredClient;
  let uma: TokenSet;
  let victor: TokenSet;
  let umaGrant: string;
  const people: Person[] = [];

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    const umaUser = await server.addUser('uma@example.com', PASSWORD);
    await server.addUser('victor@example.com', PASSWORD);
    client = await registerPublic(server, { client_name: 'Research Notes', grant_types: ['authorization_code', 'refresh_token'] });
    uma = await connect(server, client, 'uma@example.com');
    victor = await connect(server, client, 'victor@example.com');
    const contexts = await server.store.grantContexts.list({ userId: umaUser.id });
    assert.equal(contexts.length, 1);
    umaGrant = contexts[0]!.grantId;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("another person cannot disconnect your app: 404, and it keeps working", async () => {
    const mallory = await httpSignedIn(server, 'victor@example.com', PASSWORD);
    const page = await mallory.request(`${server.url}/account/apps`);
    const answer = await postForm(mallory, server, '/account/apps/disconnect', { grant: umaGrant, confirm: 'yes' }, page);
    assert.equal(answer.status, 404);
    assert.equal(htmlCode(answer.body), 'not_found');
    const unknown = await postForm(mallory, server, '/account/apps/disconnect', { grant: 'no-such-grant', confirm: 'yes' }, page);
    assert.equal(unknown.status, 404);
    const noCsrf = await postForm(mallory, server, '/account/apps/disconnect', { grant: umaGrant });
    assert.equal(noCsrf.status, 403);
    assert.equal(await mcpStatus(server, uma.access_token), 200);
  });

  it('lists the app with its permissions in plain English, its organization and times', async () => {
    const person = await personSignedIn(browser, server, 'uma@example.com', PASSWORD);
    people.push(person);
    const { page } = person;
    await page.goto(`${server.url}/account/apps`);
    const rows = hook(page, 'app');
    assert.equal(await rows.count(), 1, 'only her own app');
    const row = rows.first();
    assert.equal(await row.getAttribute('data-grant'), umaGrant);
    assert.equal(await row.getAttribute('data-client'), client.client_id);
    const text = await row.innerText();
    assert.ok(text.includes('Research Notes'), 'names the app');
    for (const scope of ['demo:read', 'demo:write'] as const) {
      const item = row.locator(`[data-scope="${scope}"]`);
      assert.equal(await item.count(), 1, `${scope} listed`);
      assert.ok((await item.innerText()).includes(DEMO_SCOPES[scope]), `${scope} in plain English`);
    }
    assert.equal(await row.locator('[data-scope="demo:delete"]').count(), 0, 'nothing it was not granted');
    assert.ok(text.includes('Acme'), 'the organization it acts for');
    assert.equal(await row.locator('time').count(), 2, 'connected and last used');
    await checkPage(page, 'account-apps', { narrow: true });
  });

  it('"Disconnect" ends the app at the gateway within a second; another person\'s app keeps working', async () => {
    const { page } = people[0]!;
    await page.goto(`${server.url}/account/apps`);
    assert.equal(await press(page, hook(page, 'disconnect')), 200, 'the first click asks first');
    assert.equal(await mcpStatus(server, uma.access_token), 200, 'nothing ended yet');
    await checkPage(page, 'account-app-disconnect-confirm');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/account/apps/disconnect')),
      hook(page, 'confirm').click(),
    ]);
    const clickedAt = Date.now();
    assert.equal(response.status(), 303);
    let status = await mcpStatus(server, uma.access_token);
    while (status !== 401 && Date.now() - clickedAt < 1000) status = await mcpStatus(server, uma.access_token);
    assert.equal(status, 401, 'refused within a second');
    assert.ok(Date.now() - clickedAt <= 1000);
    assert.equal(await mcpStatus(server, victor.access_token), 200, "victor's app is untouched");

    await page.waitForURL((url) => url.searchParams.get('done') === 'disconnected');
    assert.equal(await codeOf(page, 'notice'), 'disconnected');
    assert.equal(await hook(page, 'app').count(), 0);
    assert.equal(await hook(page, 'no-apps').count(), 1);

    assert.ok(uma.refresh_token, 'the app held a refresh token');
    assertOAuthError(await refresh(server, client, uma.refresh_token), 'invalid_grant');
    assert.ok(victor.refresh_token);
    assertTokens(await refresh(server, client, victor.refresh_token));
    const context = await server.store.grantContexts.get(umaGrant);
    assert.ok(context?.revokedAt, 'the grant is marked revoked');
    const recorded = await server.store.audit.list({ kind: 'account.grant.revoked' });
    assert.deepEqual(recorded.map((e) => [e.subject, e.details?.grant]), [[context.userId, umaGrant]], 'recorded in the audit log');
  });

  it('a grant disconnected already cannot be disconnected again: 404; the new connection is listed alone', async () => {
    await connect(server, client, 'uma@example.com');
    const ua = await httpSignedIn(server, 'uma@example.com', PASSWORD);
    const page = await ua.request(`${server.url}/account/apps`);
    assert.equal([...page.body.matchAll(/data-testid="app"/g)].length, 1);
    assert.ok(!page.body.includes(umaGrant), 'the old grant is gone from the list');
    const answer = await postForm(ua, server, '/account/apps/disconnect', { grant: umaGrant, confirm: 'yes' }, page);
    assert.equal(answer.status, 404);
  });

  it('no page logged an error, violated the CSP or answered 5xx', () => {
    assertClean(...people);
  });
});
