/**
 * The server administrators' pages in a real browser: the dashboard (calls per day by outcome,
 * denials by code, top tools and people, active connections — real gateway calls and older
 * records), signing keys (rotate, after a confirmation
 * step; the old key stays in the JWKS), people (search, disable after confirming — their session
 * ends —, enable, delete) and organizations with member counts, and the effective configuration
 * (where each value came from, no secret on the page). Every page passes axe and the CSP watcher,
 * one at phone width. Then the forms attacked over HTTP: a non-administrator, no CSRF token,
 * an administrator disabling themselves.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { hashPassword } from '../../src/core/crypto.ts';
import { auditHash } from '../../src/audit/chain.ts';
import { assertTokens, mcpStatus, obtainCode, redeemCode, registerPublic } from '../helpers/authz.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, personSignedIn, postForm, press, type Person } from './account-support.ts';

const PASSWORD = 'server pages password';
const SMTP_SECRET = 'smtp-password-from-the-file';

describe("the server administrators' pages in a browser", { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let root: Person;
  let dir: string;
  const people: Person[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'server-pages-'));
    const file = join(dir, 'portcullis.config.json');
    writeFileSync(file, JSON.stringify({ smtp: { host: 'mail.example.com', from: 'portcullis@example.com', user: 'mailer', password: SMTP_SECRET } }));
    server = await startTestServer({}, { env: { PORTCULLIS_CONFIG: file, PORTCULLIS_SMTP_PORT: '2525' } });
    browser = await launchChromium();
    await server.store.users.create({ email: 'root@example.com', passwordHash: await hashPassword(PASSWORD), isAdmin: true });
    await server.addUser('mia@example.com', PASSWORD, { role: 'member' });
    await server.addUser('zed@example.com', PASSWORD, { role: 'member' });
    root = await personSignedIn(browser, server, 'root@example.com', PASSWORD);
    people.push(root);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const jwksKids = async () => ((await (await fetch(`${server.url}/oauth/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

  it('dashboard: calls per day by outcome, denials by code, top tools and people, active connections — charts and tables', async () => {
    const client = await registerPublic(server, { client_name: 'Dash Client' });
    const tokens = assertTokens(await redeemCode(server, client, await obtainCode(server, client, { email: server.user.email, password: server.password, scope: 'demo:read' })));
    assert.equal(await mcpStatus(server, tokens.access_token), 200);
    const mia = (await server.store.users.findByEmail('mia@example.com'))!;
    // Older records, as the gateway writes them: mia, two days ago, through another client.
    const twoDaysAgo = Math.floor(Date.now() / 1000) - 2 * 86_400;
    const old = { orgId: null, actor: mia.id, kind: 'gateway.call', subject: mia.id, clientId: 'someone', app: 'demo', details: null };
    await server.store.audit.appendMany(
      [
        { ...old, at: twoDaysAgo, tool: 'delete_note', decision: 'deny', reason: 'insufficient_scope' },
        { ...old, at: twoDaysAgo + 1, tool: 'delete_note', decision: 'deny', reason: 'insufficient_scope' },
        { ...old, at: twoDaysAgo + 2, tool: 'search', decision: 'allow', reason: 'upstream_unavailable' },
      ],
      auditHash,
    );
    const { page } = root;
    const day = new Date(twoDaysAgo * 1000).toISOString().slice(5, 10);
    const today = new Date().toISOString().slice(5, 10);
    const start = Date.now();
    let allowedToday = '0';
    // The gateway's records are written in batches: the page shows them once committed.
    while (allowedToday === '0' && Date.now() - start < 5000) {
      await page.goto(`${server.url}/server`);
      allowedToday = (await page.locator(`[data-testid="calls-per-day"] tr[data-day="${today}"]`).getAttribute('data-allowed')) ?? '0';
    }
    assert.ok(Number(allowedToday) >= 1, 'the real call is counted today');
    const earlier = page.locator(`[data-testid="calls-per-day"] tr[data-day="${day}"]`);
    assert.deepEqual([await earlier.getAttribute('data-denied'), await earlier.getAttribute('data-failed'), await earlier.getAttribute('data-allowed')], ['2', '1', '0']);
    assert.equal(await page.locator('[data-testid="denials"] tr[data-label="insufficient_scope"]').getAttribute('data-count'), '2');
    assert.equal(await page.locator('[data-testid="people"] tr[data-label="mia@example.com"]').count(), 1, 'people by e-mail');
    assert.equal(await page.locator('[data-testid="tools"] tr[data-label="delete_note"]').getAttribute('data-count'), '2');
    assert.equal(await hook(page, 'active-connections').getAttribute('data-count'), '1', 'ada through the client, today (mia\'s calls are older)');
    assert.equal(await page.locator('svg[role="img"][data-testid="chart-days"] title').count(), 1);
    await checkPage(page, 'server-dashboard');
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page, 'server-dashboard-390');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("home: an administrator's checklist ticked from real state, application URLs, tools waiting for review; others keep the plain home", async () => {
    const { page } = root;
    const done = async (id: string) => page.locator(`[data-testid="step-${id}"]`).getAttribute('data-done');
    await page.goto(`${server.url}/`);
    assert.equal(await done('application'), 'false');
    assert.equal(await done('tools'), 'false');
    assert.equal(await done('people'), 'true', 'there are other people already');
    assert.equal(await done('client'), 'true', 'the dashboard test connected a client');
    const at = Math.floor(Date.now() / 1000);
    await server.store.applications.create({ slug: 'notes', definition: JSON.stringify({ slug: 'notes', name: 'Notes', upstream: { url: 'https://notes.example.com/mcp' } }), source: 'api', at });
    await server.store.tools.record('notes', [{ name: 'search', fingerprint: 'f1', title: null, description: 'Search notes', annotations: null, inputSchema: null, outputSchema: null }], at, false);
    await page.goto(`${server.url}/`);
    assert.equal(await done('application'), 'true');
    assert.equal(await done('tools'), 'false', 'a tool waits for its review');
    assert.equal(await page.locator('[data-testid="pending-tools"] li[data-app="notes"][data-tool="search"]').count(), 1);
    assert.equal(await page.locator('[data-testid="application-urls"] tr[data-slug="notes"] code').innerText(), `${server.config.publicUrl}/mcp/notes`, 'the URL people give their MCP clients');
    await checkPage(page, 'server-admin-home');
    await server.store.tools.review('notes', 'search', 'approved', 'root@example.com', at);
    await page.goto(`${server.url}/`);
    assert.equal(await done('tools'), 'true');
    assert.equal(await hook(page, 'no-pending-tools').count(), 1);

    const ada = await personSignedIn(browser, server, server.user.email, server.password);
    people.push(ada);
    assert.equal(await hook(ada.page, 'checklist').count(), 0, 'not for someone who does not run the server');
    assert.equal(await hook(ada.page, 'account-link').count(), 1);
  });

  it('signing keys: the list, then rotation by keyboard after a confirmation step; the retired key stays published', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/keys`);
    const first = await hook(page, 'signing-key').first().getAttribute('data-kid');
    assert.equal(await hook(page, 'signing-key').first().getAttribute('data-state'), 'signing');
    await checkPage(page, 'server-keys');
    await hook(page, 'rotate-start').focus();
    await Promise.all([page.waitForURL((u) => u.pathname === '/server/keys/rotate'), page.keyboard.press('Enter')]);
    assert.equal((await server.store.signingKeys.list()).length, 1, 'nothing changes before the confirmation');
    await page.getByRole('button', { name: 'Rotate now' }).focus();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'rotated'), page.keyboard.press('Enter')]);
    assert.equal(await codeOf(page, 'notice'), 'rotated');
    const signing = page.locator('[data-testid="signing-key"][data-state="signing"]');
    assert.equal(await signing.count(), 1);
    assert.notEqual(await signing.getAttribute('data-kid'), first);
    assert.equal(await page.locator(`[data-testid="signing-key"][data-kid="${first}"]`).getAttribute('data-state'), 'retired');
    const fresh = (await signing.getAttribute('data-kid'))!;
    const start = Date.now();
    let kids = await jwksKids();
    while (!kids.includes(fresh) && Date.now() - start < 10_000) kids = await jwksKids();
    assert.ok(kids.includes(fresh) && kids.includes(first!), 'the JWKS publishes the new key and keeps the retired one (RFC 7517 §5)');
    const records = await server.store.audit.list({ kind: 'signing_key.rotated' });
    assert.equal(records.length, 1, 'the rotation is audited');
  });

  it('people: search, disable after confirming (their session ends), enable, delete; organizations with member counts', async () => {
    const mia = await personSignedIn(browser, server, 'mia@example.com', PASSWORD);
    people.push(mia);
    const { page } = root;
    await page.goto(`${server.url}/server/people?q=MIA`);
    assert.deepEqual(await hook(page, 'person').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-email'))), ['mia@example.com']);
    const row = () => page.locator('[data-testid="person"][data-email="mia@example.com"]');
    assert.equal(await press(page, row().locator('[data-testid="disable-start"]')), 200);
    await checkPage(page, 'server-people-disable-confirm');
    assert.equal((await server.store.users.findByEmail('mia@example.com'))?.disabledAt, null, 'not before the confirmation');
    assert.equal(await press(page, hook(page, 'confirm')), 200);
    assert.equal(await codeOf(page, 'notice'), 'disabled');
    assert.equal(await row().getAttribute('data-disabled'), 'true');
    assert.equal(await row().locator('[data-testid="last-sign-in"] time').count(), 1, 'her last sign-in outlives her ended sessions');
    await mia.page.goto(`${server.url}/account`);
    assert.equal(new URL(mia.page.url()).pathname, '/login', 'signed out everywhere');

    assert.equal(await press(page, row().locator('[data-testid="enable"]')), 200);
    assert.equal(await codeOf(page, 'notice'), 'enabled');
    assert.equal(await row().getAttribute('data-disabled'), 'false');

    const orgRow = page.locator('[data-testid="organization"][data-slug="acme"]');
    assert.equal(await orgRow.getAttribute('data-members'), '3', 'ada, mia and zed');
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page, 'server-people-390');
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.goto(`${server.url}/server/people`);
    const zed = page.locator('[data-testid="person"][data-email="zed@example.com"]');
    assert.equal(await press(page, zed.locator('[data-testid="delete-start"]')), 200);
    assert.equal(await press(page, hook(page, 'confirm')), 200);
    assert.equal(await codeOf(page, 'notice'), 'deleted');
    assert.equal(await zed.count(), 0);
    assert.notEqual((await server.store.users.list()).find((u) => u.email.includes('zed'))?.deletedAt ?? 1, null);
  });

  it('configuration: every value with its source (file, environment, default), and no secret on the page', async () => {
    const { page } = root;
    const response = await page.goto(`${server.url}/server/configuration`);
    assert.equal(response?.status(), 200);
    const origin = (path: string) => page.locator(`[data-testid="config-row"][data-path="${path}"]`).getAttribute('data-origin');
    assert.match((await origin('smtp.host'))!, /portcullis\.config\.json$/);
    assert.equal(await origin('smtp.port'), 'environment (PORTCULLIS_SMTP_PORT)');
    assert.equal(await origin('tokens.accessTokenTtl'), 'default');
    assert.equal(await page.locator('[data-testid="config-row"][data-path="smtp.password"]').getAttribute('data-masked'), 'true');
    const ttl = page.locator('[data-testid="config-row"][data-path="tokens.accessTokenTtl"]');
    assert.equal(await ttl.getAttribute('data-masked'), null, 'a lifetime is not a secret');
    assert.match(await ttl.locator('td').first().innerText(), /^\d+$/);
    const body = await page.content();
    assert.ok(!body.includes(SMTP_SECRET), 'the SMTP password is not on the page');
    if (server.config.secretKey) assert.ok(!body.includes(server.config.secretKey), 'the root secret is not on the page');
    await checkPage(page, 'server-configuration');
  });

  it('refused: a non-administrator (403, nothing changes), a form without its CSRF token, disabling oneself', async () => {
    const member = await httpSignedIn(server, 'ada@example.com', server.password);
    for (const path of ['/server/keys', '/server/people', '/server/configuration', '/server/keys/rotate']) {
      const answer = await member.request(`${server.url}${path}`);
      assert.equal(answer.status, 403, path);
      assert.equal(htmlCode(answer.body), 'forbidden');
    }
    const keys = (await server.store.signingKeys.list()).length;
    const mia = (await server.store.users.findByEmail('mia@example.com'))!;
    assert.equal((await postForm(member, server, '/server/keys/rotate', {})).status, 403);
    assert.equal((await postForm(member, server, '/server/people/disable', { user: mia.id })).status, 403);
    assert.equal((await server.store.signingKeys.list()).length, keys);
    assert.equal((await server.store.users.findById(mia.id))?.disabledAt, null);

    const admin = await httpSignedIn(server, 'root@example.com', PASSWORD);
    const noToken = await postForm(admin, server, '/server/people/disable', { user: mia.id });
    assert.equal(noToken.status, 403);
    assert.equal(htmlCode(noToken.body), 'csrf_failed');
    assert.equal((await server.store.users.findById(mia.id))?.disabledAt, null);

    const self = (await server.store.users.findByEmail('root@example.com'))!;
    const confirm = await admin.request(`${server.url}/server/people/disable?user=${self.id}`);
    const refused = await postForm(admin, server, '/server/people/disable', { user: self.id }, confirm);
    assert.equal(refused.status, 403);
    assert.equal(htmlCode(refused.body), 'forbidden');
    assert.equal((await server.store.users.findById(self.id))?.disabledAt, null);
    assertClean(...people);
  });
});
