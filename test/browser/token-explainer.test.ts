/**
 * The token explainer and the denial reference in Chromium. A server administrator pastes a real
 * access token (ada's, read scope only) into /server/tokens and reads its issuer, user, key and
 * grant state, and for each tool of the application whether it may be called — and what the page
 * says for every tool is what a real gateway call with that token answers. A tampered token shows
 * the failing check (the signature), text that is no JWT shows `malformed`; the token never comes
 * back in the page. Someone who is not a server administrator is refused. The public denial
 * reference passes axe at desktop and phone width.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { hashPassword } from '../../src/core/crypto.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { appUrl, callTool, exchange, httpApp, startFixtureMcp, tokenFor, waitFor, type FixtureMcp } from '../helpers/gateway.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bearerParams } from '../guard/sign-in.ts';
import { assertClean, hook, personSignedIn, press, type Person } from './account-support.ts';

const PASSWORD = 'token explainer password';

/** What the gateway answers a call of `tool` with `token`: `allow`, or the denial code on the wire. */
async function gatewayAnswer(server: TestServer, token: string, tool: string): Promise<string> {
  const ex = await exchange(appUrl(server, 'notes'), callTool(tool, {}, 7), { token, protocolVersion: '2025-06-18' });
  if (ex.status === 401 || ex.status === 403) return bearerParams(ex.headers.get('www-authenticate')).error!;
  const code = ex.messages[0]?.error?.data?.code;
  return typeof code === 'string' ? code : 'allow';
}

describe('the token explainer in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let fixture: FixtureMcp;
  let browser: Browser;
  let root: Person;
  let token: string;
  const people: Person[] = [];

  before(async () => {
    fixture = await startFixtureMcp();
    server = await startTestServer({ applications: [httpApp('notes', fixture.url)] } as never);
    browser = await launchChromium();
    await server.store.users.create({ email: 'root@example.com', passwordHash: await hashPassword(PASSWORD), isAdmin: true });
    await waitFor(async () => (await server.store.tools.list('notes')).length >= 6, 'the gateway knows the tools');
    token = (await tokenFor(server, 'notes', { scope: 'notes:read' })).access_token;
    root = await personSignedIn(browser, server, 'root@example.com', PASSWORD);
    people.push(root);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await fixture?.stop();
  });

  async function explain(text: string): Promise<void> {
    const { page } = root;
    await page.goto(`${server.url}/server/tokens`);
    await page.locator('#token').fill(text);
    assert.equal(await press(page, page.getByRole('button', { name: 'Explain' })), 200);
  }

  it('explains a valid token, tool by tool exactly as the gateway decides', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server`);
    await press(page, hook(page, 'server-nav').getByText('Token explainer'));
    assert.equal(new URL(page.url()).pathname, '/server/tokens');
    await checkPage(page, 'server-tokens-form');
    await explain(token);
    assert.equal(await hook(page, 'verdict').getAttribute('data-code'), 'valid');
    assert.equal(await hook(page, 'issuer').textContent(), server.config.publicUrl);
    assert.equal(await hook(page, 'user').textContent(), server.user.email);
    assert.equal(await hook(page, 'scopes').textContent(), 'notes:read');
    assert.equal(await hook(page, 'key').getAttribute('data-state'), 'current');
    assert.equal(await hook(page, 'grant').getAttribute('data-revoked'), 'false');
    assert.ok(!(await page.content()).includes(token), 'the token is not shown back');
    const rows = await hook(page, 'token-tool').evaluateAll((trs) => trs.map((tr) => ({ tool: tr.getAttribute('data-tool')!, allowed: tr.getAttribute('data-allowed') === 'true', text: tr.textContent ?? '' })));
    assert.ok(rows.some((r) => r.allowed) && rows.some((r) => !r.allowed), 'a read token may call some tools and not others');
    for (const row of rows) {
      const wire = await gatewayAnswer(server, token, row.tool);
      if (row.allowed) assert.equal(wire, 'allow', row.tool);
      else assert.ok(row.text.includes(wire), `${row.tool}: the page says ${row.text}, the gateway ${wire}`);
    }
    await checkPage(page, 'server-tokens-explained');
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page, 'server-tokens-explained-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('highlights the check that fails first: a tampered signature, text that is no JWT', async () => {
    const { page } = root;
    const [head, body, sig] = token.split('.');
    const tampered = `${head}.${body}.${sig!.startsWith('A') ? 'B' : 'A'}${sig!.slice(1)}`;
    await explain(tampered);
    assert.equal(await hook(page, 'verdict').getAttribute('data-code'), 'invalid_token');
    assert.equal(await hook(page, 'verdict').getAttribute('data-rule'), 'signature');
    assert.equal(await gatewayAnswer(server, tampered, 'echo'), 'invalid_token', 'the gateway refuses it too');
    assert.equal(await hook(page, 'token-tool').count(), 0, 'no tools for a refused token');
    await explain('not a token');
    assert.equal(await hook(page, 'verdict').getAttribute('data-rule'), 'malformed');
  });

  it('is for server administrators only', async () => {
    const ada = await personSignedIn(browser, server, server.user.email, server.password);
    people.push(ada);
    const res = await ada.page.goto(`${server.url}/server/tokens`);
    assert.equal(res?.status(), 403);
  });

  it('the denial reference is public, with an entry per code, readable at phone width', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/docs/denials#policy_denied`);
    assert.ok(await page.locator('#policy_denied').isVisible());
    await checkPage(page, 'denial-reference');
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page, 'denial-reference-phone');
    await context.close();
  });

  after(() => assertClean(...people));
});
