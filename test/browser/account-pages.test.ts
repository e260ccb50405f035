/**
 * A person's own account in a real browser: the profile (name editable), changing the password
 * (the current one required; the person's other browsers are signed out), the list of sign-in
 * sessions with "Sign out" per session and "Sign out everywhere" (which ends engine sessions too,
 * but leaves connected apps connected). Then the same forms attacked over plain HTTP: no CSRF
 * token, a token for another form, another site's Origin, another person's session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { assertTokens, mcpStatus, obtainCode, redeemCode, registerPublic } from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, personSignedIn, postForm, press, signInAt, type Person } from './account-support.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { watchContext } from './support.ts';

const PASSWORD = 'a long enough password';

describe('your account in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  const people: Person[] = [];

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    await server.addUser('grace@example.com', PASSWORD, { role: 'member' });
    // An admin of acme: holds every scope, so an app he connects gets a working token.
    await server.addUser('henry@example.com', PASSWORD, { role: 'admin' });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const person = async (email: string, password = PASSWORD) => {
    const p = await personSignedIn(browser, server, email, password);
    people.push(p);
    return p;
  };

  it('a signed-out visit to /account goes through sign-in and comes back; the home page links to it', async () => {
    const context = await browser.newContext();
    const watch = await watchContext(context, server.url);
    const page = await context.newPage();
    people.push({ context, page, watch });
    await page.goto(`${server.url}/account`);
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.locator('#email').fill('grace@example.com');
    await page.locator('#password').fill(PASSWORD);
    await Promise.all([page.waitForURL(`${server.url}/account`), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert.equal(await hook(page, 'email').innerText(), 'grace@example.com');
    assert.equal(await page.locator('[data-testid="orgs"] [data-org="acme"]').count(), 1, 'lists the organization');
    await checkPage(page, 'account-profile', { narrow: true });
    await page.goto(`${server.url}/`);
    assert.equal(await hook(page, 'account-nav').count(), 1, 'signed-in pages carry the navigation');
    await press(page, hook(page, 'account-link'));
    assert.equal(new URL(page.url()).pathname, '/account');
  });

  it('the name can be changed, and stays changed', async () => {
    const grace = await person('grace@example.com');
    await grace.page.goto(`${server.url}/account`);
    await grace.page.locator('#name').fill('Grace Hopper');
    assert.equal(await press(grace.page, grace.page.getByRole('button', { name: 'Save' })), 200);
    assert.equal(await codeOf(grace.page, 'notice'), 'name_saved');
    await checkPage(grace.page, 'account-profile-saved');
    await grace.page.reload();
    assert.equal(await grace.page.locator('#name').inputValue(), 'Grace Hopper');
    const user = await server.store.users.findByEmail('grace@example.com');
    assert.equal(user?.name, 'Grace Hopper');
  });

  it('changing the password needs the current one, and signs out the other browsers but not this one', async () => {
    await server.addUser('ines@example.com', PASSWORD, { role: 'member' });
    const here = await person('ines@example.com');
    const elsewhere = await person('ines@example.com');

    await here.page.goto(`${server.url}/account/password`);
    await here.page.locator('#current').fill('not my password');
    await here.page.locator('#password').fill('a brand new password');
    await here.page.locator('#confirm').fill('a brand new password');
    assert.equal(await press(here.page, here.page.getByRole('button', { name: 'Change password' })), 400);
    assert.equal(await codeOf(here.page, 'problem'), 'wrong_password');
    await checkPage(here.page, 'account-password-refused', { narrow: true });

    await here.page.locator('#current').fill(PASSWORD);
    await here.page.locator('#password').fill('a brand new password');
    await here.page.locator('#confirm').fill('a different one!!');
    assert.equal(await press(here.page, here.page.getByRole('button', { name: 'Change password' })), 400);
    assert.equal(await codeOf(here.page, 'problem'), 'password_rejected');

    await here.page.locator('#current').fill(PASSWORD);
    await here.page.locator('#password').fill('a brand new password');
    await here.page.locator('#confirm').fill('a brand new password');
    assert.equal(await press(here.page, here.page.getByRole('button', { name: 'Change password' })), 200);
    assert.equal(new URL(here.page.url()).pathname, '/account');
    assert.equal(await codeOf(here.page, 'notice'), 'password_changed');

    await elsewhere.page.goto(`${server.url}/account`);
    assert.equal(new URL(elsewhere.page.url()).pathname, '/login', 'the other browser was signed out');
    await here.page.goto(`${server.url}/account/sessions`);
    assert.equal(new URL(here.page.url()).pathname, '/account/sessions', 'this browser stays signed in');

    const ua = new UserAgent();
    const old = await ua.submit(await ua.request(`${server.url}/login`), '/login', { email: 'ines@example.com', password: PASSWORD });
    assert.equal(old.status, 401, 'the old password no longer signs in');
    await signInAt(elsewhere.page, server, 'ines@example.com', 'a brand new password', '/account');
  });

  it('lists where you are signed in, signs out one browser, and "everywhere" ends engine sessions but keeps apps connected', async () => {
    const first = await person('henry@example.com');
    const second = await person('henry@example.com');
    const henry = (await server.store.users.findByEmail('henry@example.com'))!;

    await first.page.goto(`${server.url}/account/sessions`);
    assert.equal(await hook(first.page, 'session').count(), 2);
    assert.equal(await first.page.locator('[data-testid="session"][data-current="true"]').count(), 1, 'this browser is marked');
    await checkPage(first.page, 'account-sessions', { narrow: true });
    assert.equal(await press(first.page, first.page.locator('[data-testid="session"]:not([data-current])').locator('[data-testid="end-session"]')), 200);
    await checkPage(first.page, 'account-session-end-confirm');
    assert.equal(await press(first.page, hook(first.page, 'confirm')), 200);
    assert.equal(await codeOf(first.page, 'notice'), 'session_ended');
    assert.equal(await hook(first.page, 'session').count(), 1);
    await second.page.goto(`${server.url}/account`);
    assert.equal(new URL(second.page.url()).pathname, '/login', 'that browser was signed out');

    // An app connected through the authorization server leaves an engine session and a grant.
    const client = await registerPublic(server, { client_name: 'Henry Notes' });
    const code = await obtainCode(server, client, { email: 'henry@example.com', password: PASSWORD });
    const tokens = assertTokens(await redeemCode(server, client, code));
    assert.ok((await server.store.oidc.byAccount('Session', henry.id)).length >= 1, 'an engine session exists');
    await signInAt(second.page, server, 'henry@example.com', PASSWORD, '/account');

    await first.page.goto(`${server.url}/account/sessions`);
    assert.equal(await press(first.page, hook(first.page, 'end-all')), 200);
    assert.equal(await press(first.page, hook(first.page, 'confirm')), 200);
    assert.equal(new URL(first.page.url()).pathname, '/login', 'this browser too');
    await second.page.goto(`${server.url}/account`);
    assert.equal(new URL(second.page.url()).pathname, '/login');
    assert.deepEqual(await server.store.sessions.listForUser(henry.id), []);
    assert.deepEqual(await server.store.oidc.byAccount('Session', henry.id), [], 'engine sessions ended');
    assert.equal(await mcpStatus(server, tokens.access_token), 200, 'the connected app keeps working');
  });

  it('no page logged an error, violated the CSP or answered 5xx', () => {
    assertClean(...people);
  });
});

describe('account forms refuse forgeries', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await server.addUser('mallory@example.com', PASSWORD, { role: 'member' });
    await server.addUser('victim@example.com', PASSWORD, { role: 'member' });
  });
  after(() => server?.stop());

  it('a form without its CSRF token, or with another form\'s, or from another site, changes nothing', async () => {
    const ua = await httpSignedIn(server, 'victim@example.com', PASSWORD);
    const profile = await ua.request(`${server.url}/account`);
    const bare = await postForm(ua, server, '/account', { name: 'Pwned' });
    assert.equal(bare.status, 403);
    assert.equal(htmlCode(bare.body), 'csrf_failed');
    const sessionsPage = await ua.request(`${server.url}/account/sessions`);
    const wrongPurpose = await postForm(ua, server, '/account', { name: 'Pwned', csrf: /name="csrf" value="([^"]+)"/.exec(sessionsPage.body.split('sessions/end-all')[1]!)![1]! });
    assert.equal(wrongPurpose.status, 403, 'a token for signing out everywhere does not rename');
    const hidden = /name="csrf" value="([^"]+)"/.exec(profile.body.split('action="/account"')[1]!)![1]!;
    const crossSite = await ua.request(`${server.url}/account`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ csrf: hidden, name: 'Pwned' }),
    });
    assert.equal(crossSite.status, 403);
    for (const path of ['/account/password', '/account/sessions/end-all', '/account/apps/disconnect', '/account/sessions/end']) {
      const answer = await postForm(ua, server, path, { current: PASSWORD, password: 'x'.repeat(20), confirm: 'x'.repeat(20) });
      assert.equal(answer.status, 403, path);
    }
    assert.equal((await server.store.users.findByEmail('victim@example.com'))?.name, null);
    assert.equal((await ua.request(`${server.url}/account`)).status, 200, 'still signed in');
  });

  it("another person's session cannot be signed out: 404, and it stays", async () => {
    const victim = await httpSignedIn(server, 'victim@example.com', PASSWORD);
    const ref = /data-ref="([^"]+)"/.exec((await victim.request(`${server.url}/account/sessions`)).body)![1]!;
    const mallory = await httpSignedIn(server, 'mallory@example.com', PASSWORD);
    const page = await mallory.request(`${server.url}/account/sessions`);
    const answer = await postForm(mallory, server, '/account/sessions/end', { session: ref, confirm: 'yes' }, page);
    assert.equal(answer.status, 404);
    assert.equal(htmlCode(answer.body), 'not_found');
    assert.equal((await victim.request(`${server.url}/account`)).status, 200, 'the victim is still signed in');
  });

  it('signing out this browser from the sessions list ends it and goes to sign-in', async () => {
    const ua = await httpSignedIn(server, 'victim@example.com', PASSWORD);
    const page = await ua.request(`${server.url}/account/sessions`);
    const current = /data-testid="session" data-ref="([^"]+)" data-current="true"/.exec(page.body)![1]!;
    const answer = await postForm(ua, server, '/account/sessions/end', { session: current, confirm: 'yes' }, page);
    assert.equal(answer.status, 303);
    assert.equal(answer.headers.get('location'), '/login');
    assert.equal((await ua.request(`${server.url}/account`)).status, 303, 'signed out');
  });

  it('signed-out requests go to sign-in; a foreign "next" after sign-in stays on this site', async () => {
    const orgPage = await fetch(`${server.url}/orgs/acme/members`, { redirect: 'manual' });
    assert.equal(orgPage.status, 303, 'org pages too');
    const anonymous = await fetch(`${server.url}/account/apps`, { redirect: 'manual' });
    assert.equal(anonymous.status, 303);
    assert.equal(anonymous.headers.get('location'), '/login?next=%2Faccount%2Fapps');
    const post = await fetch(`${server.url}/account`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ name: 'x' }) });
    assert.equal(post.status, 303);
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const ua = new UserAgent();
      const login = await ua.request(`${server.url}/login?next=${encodeURIComponent(next)}`);
      const answer = await ua.submit(login, '/login', { email: 'victim@example.com', password: PASSWORD }, () => true);
      assert.equal(new URL(answer.url).origin, server.url, `${next} is not followed`);
      assert.equal(new URL(answer.url).pathname, '/');
    }
  });

  it('a name longer than 200 characters is refused and nothing is stored', async () => {
    const ua = await httpSignedIn(server, 'victim@example.com', PASSWORD);
    const profile = await ua.request(`${server.url}/account`);
    const answer = await postForm(ua, server, '/account', { name: 'x'.repeat(201) }, profile);
    assert.equal(answer.status, 303);
    assert.match(answer.headers.get('location')!, /problem=name_too_long/);
    assert.equal((await server.store.users.findByEmail('victim@example.com'))?.name, null);
  });
});
