/**
 * The audit pages in a real browser: an organization's owner opens "Audit trail" from the org's
 * navigation, sees the records newest first with e-mails and the client's name, filters by code,
 * pages back, and downloads the export (with the same session); a member is refused (403
 * `forbidden`). Everyone sees their own activity on /account/activity — theirs only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { auditHash } from '../../src/audit/chain.ts';
import type { AuditInput } from '../../src/store/audit.ts';
import type { User } from '../../src/store/users.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertClean, codeOf, hook, personSignedIn, press, type Person } from './account-support.ts';

const PASSWORD = 'audit pages password';

describe('audit pages in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let mia: User;
  let sam: User;
  const people: Person[] = [];

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    await server.addUser('adam@example.com', PASSWORD, { role: 'owner' });
    mia = await server.addUser('mia@example.com', PASSWORD, { role: 'member' });
    sam = await server.addUser('sam@example.com', PASSWORD, { role: 'member' });
    await server.store.clients.upsert({ clientId: 'notes-client', metadata: { client_name: 'Team Notes' }, kind: 'static' });
    const at = Math.floor(Date.now() / 1000) - 3600;
    const records: AuditInput[] = [];
    for (let i = 0; i < 60; i++) {
      const subject = i % 2 ? mia.id : sam.id;
      const denied = i % 4 === 0;
      records.push({ at: at + i, orgId: server.org.id, actor: subject, kind: 'gateway.call', subject, clientId: 'notes-client', app: 'demo', tool: 'list_projects', decision: denied ? 'deny' : 'allow', reason: denied ? 'policy_denied' : null, details: { requestId: `r${i}`, clientIp: '203.0.113.5' } });
    }
    await server.store.audit.appendMany(records, auditHash);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("an owner reads the org's trail, filters it, pages back and downloads the export", async () => {
    const adam = await personSignedIn(browser, server, 'adam@example.com', PASSWORD);
    people.push(adam);
    const { page } = adam;
    await page.goto(`${server.url}/orgs/acme/members`);
    await press(page, hook(page, 'org-nav').getByText('Audit trail'));
    assert.equal(new URL(page.url()).pathname, '/orgs/acme/audit');
    const seqs = async () => (await hook(page, 'audit-record').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq')))));
    const first = await seqs();
    assert.equal(first.length, 50, 'a page of 50');
    assert.deepEqual(first, [...first].sort((a, b) => b - a), 'newest first');
    assert.ok((await hook(page, 'audit-records').textContent())!.includes('Team Notes'));
    assert.ok((await hook(page, 'audit-user').allTextContents()).every((email) => ['mia@example.com', 'sam@example.com', 'adam@example.com', 'ada@example.com'].includes(email)));

    await page.locator('#f-code').fill('policy_denied');
    await press(page, hook(page, 'apply-filters'));
    const codes = await hook(page, 'audit-record').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')));
    assert.deepEqual(codes, Array(15).fill('policy_denied'));
    await checkPage(page, 'org-audit', { narrow: true });

    await page.goto(`${server.url}/orgs/acme/audit`);
    await press(page, hook(page, 'older'));
    const older = await seqs();
    assert.ok(older.length > 0 && Math.max(...older) < Math.min(...first), 'the next page is older, with no record repeated');

    const href = await hook(page, 'export-jsonl').getAttribute('href');
    const download = await page.request.get(new URL(href!, server.url).href);
    assert.equal(download.status(), 200);
    assert.match(download.headers()['content-disposition'] ?? '', /^attachment; filename="audit-acme-.*\.jsonl"$/);
    assert.ok((await download.text()).trimEnd().split('\n').every((line) => JSON.parse(line).orgId === server.org.id));
    assertClean(adam);
  });

  it('a member is refused the trail (403), and sees only their own activity', async () => {
    const member = await personSignedIn(browser, server, 'mia@example.com', PASSWORD);
    people.push(member);
    const { page } = member;
    assert.equal((await page.goto(`${server.url}/orgs/acme/audit`))?.status(), 403);
    assert.equal(await codeOf(page, 'error'), 'forbidden');
    await checkPage(page, 'error-forbidden');
    assert.equal((await page.goto(`${server.url}/orgs/acme/audit/export?format=csv`))?.status(), 403);

    await page.goto(`${server.url}/account`);
    await press(page, hook(page, 'account-nav').getByText('Activity'));
    assert.equal(new URL(page.url()).pathname, '/account/activity');
    await checkPage(page, 'account-activity', { narrow: true });
    const users = await hook(page, 'audit-user').allTextContents();
    assert.ok(users.length >= 30, `mia's 30 calls (and her sign-in): ${users.length}`);
    assert.ok(users.every((email) => email === 'mia@example.com'), 'nobody else’s records');
    assertClean(member);
  });
});
