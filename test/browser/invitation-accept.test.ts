/**
 * Accepting an invitation in a real browser (Debian's Chromium through playwright-core): a
 * newcomer opens the link an owner made, creates their account on the page and lands signed in as
 * a member; someone with an account signs in on the page instead (a wrong password first changes
 * nothing); a used link says it is no longer valid. No CSP violation, no console error, no 5xx.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { TEST_PASSWORD, startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient } from '../admin/support.ts';
import { watchContext } from './support.ts';

describe('accepting an invitation in a browser', { skip: chromiumSkip() }, () => {
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

  async function invite(email: string, role: string): Promise<string> {
    const ada = await adminClient(server, 'ada@example.com', false);
    const answer = await ada.call('POST', '/orgs/acme/invitations', { email, role });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return String(answer.body.link);
  }

  it('a newcomer creates an account on the page and lands signed in, a member; the link then says it is used', async () => {
    const link = await invite('newcomer@example.com', 'member');
    const context = await browser.newContext();
    const watch = await watchContext(context, server.url);
    const page = await context.newPage();
    assert.equal((await page.goto(link))?.status(), 200);
    assert.match(await page.locator('h1').innerText(), /Join Acme/);
    await checkPage(page, 'invitation-new-account', { narrow: true });
    await page.fill('#name', 'New Comer');
    await page.fill('#password', 'a long enough passphrase');
    await page.fill('#confirm', 'a long enough passphrase');
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type="submit"]')]);
    assert.match(await page.content(), /newcomer@example\.com/);
    const user = (await server.store.users.findByEmail('newcomer@example.com'))!;
    assert.equal((await server.store.orgs.member(server.org.id, user.id))?.role, 'member');

    assert.equal((await page.goto(link))?.status(), 410);
    await checkPage(page, 'invitation-used');
    assert.deepEqual(watch.problems(), []);
    assert.deepEqual(watch.serverErrors, []);
    await context.close();
  });

  it('someone with an account signs in on the page; a wrong password first changes nothing', async () => {
    const existing = await server.addUser('existing@example.com', TEST_PASSWORD, { role: null });
    const link = await invite('existing@example.com', 'admin');
    const context = await browser.newContext();
    const watch = await watchContext(context, server.url);
    const page = await context.newPage();
    await page.goto(link);
    assert.equal(await page.locator('#confirm').count(), 0, 'no account creation for an existing address');
    await page.fill('#password', 'wrong password entirely');
    const [wrong] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('button[type="submit"]')]);
    assert.equal(wrong.status(), 401);
    assert.equal(await page.locator('[role="alert"]').count(), 1);
    await checkPage(page, 'invitation-sign-in-refused', { narrow: true });
    assert.equal(await server.store.orgs.member(server.org.id, existing.id), undefined);
    await page.fill('#password', TEST_PASSWORD);
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type="submit"]')]);
    assert.equal((await server.store.orgs.member(server.org.id, existing.id))?.role, 'admin');
    assert.deepEqual(watch.serverErrors, []);
    await context.close();
  });
});
