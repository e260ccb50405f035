/**
 * Resetting a forgotten password by one-time link, in a real browser: the link sets a new
 * password once (a typo does not burn it), signs the person out everywhere, and is refused the
 * second time; an expired, malformed or edited link gets a clear page. "Forgot password?" e-mails
 * the link through a real (tiny, local) SMTP server (test/identity/smtp-server.ts), answers an unknown address exactly as a known
 * one, and is rate limited; without SMTP it points to an administrator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { issuePasswordReset, PASSWORD_RESET_TTL } from '../../src/identity/password-reset.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startSmtpServer, type SmtpServer } from '../identity/smtp-server.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { assertClean, codeOf, hook, htmlCode, personSignedIn, postForm, press, signInAt, pepperOf, type Person } from './account-support.ts';
import { watchContext } from './support.ts';

const PASSWORD = 'the old password';
const NEW_PASSWORD = 'the new password, longer';

function resetDeps(server: TestServer, now = () => Math.floor(Date.now() / 1000)) {
  return { store: server.store, pepper: pepperOf(server), now, publicUrl: server.url };
}

async function linkFor(server: TestServer, email: string, now?: () => number): Promise<string> {
  const user = await server.store.users.findByEmail(email);
  const issued = await issuePasswordReset(resetDeps(server, now), user!.id);
  assert.ok(issued, 'a link was issued');
  return issued.link;
}

/** The reset link in an e-mail (quoted-printable soft breaks undone). */
function linkInMail(data: string): string | undefined {
  const text = data.replace(/=\r\n/g, '').replace(/=3D/g, '=');
  return /https?:\/\/\S+\/reset-password\?token=[\w.%-]+/.exec(text)?.[0];
}

describe('resetting a password by one-time link, in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let inbox: SmtpServer;
  let browser: Browser;
  const people: Person[] = [];

  before(async () => {
    inbox = await startSmtpServer();
    server = await startTestServer({ smtp: { host: '127.0.0.1', port: inbox.port, from: 'Portcullis <auth@example.com>' } });
    browser = await launchChromium();
    await server.addUser('olga@example.com', PASSWORD, { role: 'member' });
    await server.addUser('pat@example.com', PASSWORD, { role: 'member' });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await inbox?.stop();
  });

  const fresh = async () => {
    const context = await browser.newContext();
    const watch = await watchContext(context, server.url);
    const page = await context.newPage();
    const person = { context, page, watch };
    people.push(person);
    return person;
  };

  it('a link sets the new password once, signs out everywhere, and is refused the second time', async () => {
    const signedIn = await personSignedIn(browser, server, 'olga@example.com', PASSWORD);
    people.push(signedIn);
    const link = await linkFor(server, 'olga@example.com');
    const { page } = await fresh();

    await page.goto(link);
    await page.locator('#password').fill(NEW_PASSWORD);
    await page.locator('#confirm').fill('a typo in the repeat');
    assert.equal(await press(page, page.getByRole('button', { name: 'Set password' })), 400);
    assert.equal(await codeOf(page, 'problem'), 'password_rejected', 'a typo does not burn the link');
    await checkPage(page, 'reset-password-rejected', { narrow: true });

    await page.locator('#password').fill(NEW_PASSWORD);
    await page.locator('#confirm').fill(NEW_PASSWORD);
    assert.equal(await press(page, page.getByRole('button', { name: 'Set password' })), 200);
    assert.equal(await hook(page, 'reset-done').count(), 1);
    await checkPage(page, 'reset-password-done');

    await signedIn.page.goto(`${server.url}/account`);
    assert.equal(new URL(signedIn.page.url()).pathname, '/login', 'the browser signed in before the reset was signed out');
    await signInAt(signedIn.page, server, 'olga@example.com', NEW_PASSWORD, '/account');

    await page.goto(link);
    await page.locator('#password').fill('yet another password');
    await page.locator('#confirm').fill('yet another password');
    assert.equal(await press(page, page.getByRole('button', { name: 'Set password' })), 410);
    assert.equal(await codeOf(page, 'error'), 'link_used');
  });

  it('an expired, malformed or edited link gets a clear page, and changes nothing', async () => {
    const { page } = await fresh();
    const twoHoursAgo = () => Math.floor(Date.now() / 1000) - PASSWORD_RESET_TTL - 3600;
    const expired = await linkFor(server, 'pat@example.com', twoHoursAgo);
    assert.equal((await page.goto(expired))?.status(), 410);
    assert.equal(await codeOf(page, 'error'), 'link_expired');
    await checkPage(page, 'reset-password-expired', { narrow: true });

    assert.equal((await page.goto(`${server.url}/reset-password?token=nonsense`))?.status(), 410);
    assert.equal(await codeOf(page, 'error'), 'link_invalid');

    // The expiry is part of what is hashed: moving it forward makes the link unknown.
    const link = new URL(expired);
    const [random] = link.searchParams.get('token')!.split('.');
    link.searchParams.set('token', `${random}.${(Math.floor(Date.now() / 1000) + 3600).toString(36)}`);
    await page.goto(link.href);
    await page.locator('#password').fill(NEW_PASSWORD);
    await page.locator('#confirm').fill(NEW_PASSWORD);
    assert.equal(await press(page, page.getByRole('button', { name: 'Set password' })), 410);
    assert.equal(await codeOf(page, 'error'), 'link_used');
    await signInAt(page, server, 'pat@example.com', PASSWORD, '/account');
  });

  it('"Forgot password?" e-mails a link that works; an unknown address gets the same page and no mail', async () => {
    const { page } = await fresh();
    await page.goto(`${server.url}/login`);
    await press(page, hook(page, 'forgot-password'));
    await checkPage(page, 'forgot-password', { narrow: true });
    await page.locator('#email').fill('PAT@example.com');
    assert.equal(await press(page, page.getByRole('button', { name: 'Send the link' })), 200);
    assert.equal(await hook(page, 'reset-requested').count(), 1);
    const known = await page.content();
    await checkPage(page, 'forgot-password-sent');

    const mail = await waitForMail(inbox, 'pat@example.com');
    const link = linkInMail(mail.data);
    assert.ok(link, 'the mail carries the link');

    await page.goto(`${server.url}/forgot-password`);
    await page.locator('#email').fill('nobody@example.com');
    assert.equal(await press(page, page.getByRole('button', { name: 'Send the link' })), 200);
    const unknown = await page.content();
    const strip = (html: string) => html.replace(/value="[^"]*"/g, '');
    assert.equal(strip(unknown), strip(known), 'the same page, word for word');
    await sleep(300);
    assert.equal(inbox.messages.filter((m) => m.to.includes('nobody@example.com')).length, 0);

    await page.goto(link);
    await page.locator('#password').fill(NEW_PASSWORD);
    await page.locator('#confirm').fill(NEW_PASSWORD);
    assert.equal(await press(page, page.getByRole('button', { name: 'Set password' })), 200);
    await signInAt(page, server, 'pat@example.com', NEW_PASSWORD, '/account');
  });

  it('no page logged an error, violated the CSP or answered 5xx', () => {
    assertClean(...people);
  });
});

async function waitForMail(inbox: SmtpServer, to: string): Promise<SmtpServer['messages'][number]> {
  for (let i = 0; i < 100; i++) {
    const found = inbox.messages.find((m) => m.to.includes(to));
    if (found) return found;
    await sleep(50);
  }
  throw new Error(`no mail to ${to}`);
}

describe('password reset links under attack', () => {
  let server: TestServer;
  let inbox: SmtpServer;
  before(async () => {
    inbox = await startSmtpServer();
    server = await startTestServer({ smtp: { host: '127.0.0.1', port: inbox.port, from: 'Portcullis <auth@example.com>' } });
    await server.addUser('quinn@example.com', PASSWORD, { role: 'member' });
  });
  after(async () => {
    await server?.stop();
    await inbox?.stop();
  });

  it('two submissions of one link race: exactly one sets the password', async () => {
    const link = await linkFor(server, 'quinn@example.com');
    const agents = [new UserAgent(), new UserAgent(), new UserAgent(), new UserAgent()];
    const forms = await Promise.all(agents.map((ua) => ua.request(link)));
    const answers = await Promise.all(
      agents.map((ua, i) => postForm(ua, server, '/reset-password', { password: `${NEW_PASSWORD} ${i}`, confirm: `${NEW_PASSWORD} ${i}` }, forms[i])),
    );
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 410, 410, 410]);
    assert.deepEqual(answers.filter((a) => a.status === 410).map((a) => htmlCode(a.body)), ['link_used', 'link_used', 'link_used']);
  });

  it('a reset without its CSRF token is refused and leaves the link usable', async () => {
    const link = await linkFor(server, 'quinn@example.com');
    const ua = new UserAgent();
    const form = await ua.request(link);
    const token = new URL(link).searchParams.get('token')!;
    const bare = await postForm(ua, server, '/reset-password', { token, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    assert.equal(bare.status, 403);
    assert.equal(htmlCode(bare.body), 'csrf_failed');
    const real = await postForm(ua, server, '/reset-password', { password: NEW_PASSWORD, confirm: NEW_PASSWORD }, form);
    assert.equal(real.status, 200);
  });

  it('a disabled account gets no link, and a link issued before it was disabled stops working', async () => {
    const user = await server.addUser('rita@example.com', PASSWORD, { role: 'member' });
    const link = await linkFor(server, 'rita@example.com');
    await server.store.users.setDisabled(user.id, Math.floor(Date.now() / 1000));
    assert.equal(await issuePasswordReset(resetDeps(server), user.id), undefined);
    const ua = new UserAgent();
    const answer = await postForm(ua, server, '/reset-password', { password: NEW_PASSWORD, confirm: NEW_PASSWORD }, await ua.request(link));
    assert.equal(answer.status, 410);
  });

  it('asking for links is limited per address: the fourth request within the hour gets 429', async () => {
    const ua = new UserAgent();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const form = await ua.request(`${server.url}/forgot-password`);
      statuses.push((await postForm(ua, server, '/forgot-password', { email: 'someone@example.com' }, form)).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });

  it('without SMTP, "Forgot password?" points to an administrator and sends nothing', async () => {
    const plain = await startTestServer();
    try {
      const page = await fetch(`${plain.url}/forgot-password`).then((r) => r.text());
      assert.match(page, /data-testid="ask-admin"/);
      const post = await fetch(`${plain.url}/forgot-password`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ email: 'ada@example.com' }) });
      assert.equal(post.status, 303);
    } finally {
      await plain.stop();
    }
  });
});
