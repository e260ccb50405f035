/**
 * An organization's Applications section in a real browser (issue 14 item 1), used by its owner:
 * adding an HTTP MCP server by keyboard, the list (only the organization's own applications), the
 * self-test button, the tools review (refresh, approve the version shown), editing, and deleting
 * after a confirmation step — each page passing axe and the CSP watcher, one at phone width. Then
 * attacked over HTTP: a member (403), an outsider (404), another organization's application (404
 * on every page and form, nothing changed), a command smuggled into the form, no CSRF token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient, httpDefinition, startToyMcp, type ToyMcp } from '../admin/support.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, personSignedIn, postForm, press, type Person } from './account-support.ts';

const PASSWORD = 'org applications password';

describe("an organization's applications pages in a browser", { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let toy: ToyMcp;
  let ada: Person;
  const people: Person[] = [];
  const base = () => `${server.url}/orgs/acme/applications`;

  before(async () => {
    toy = await startToyMcp();
    server = await startTestServer({ organizationApplications: { allowPrivateUpstreams: true } });
    browser = await launchChromium();
    await server.addUser('mia@example.com', PASSWORD, { role: 'member' });
    const globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    await server.addUser('gina@example.com', PASSWORD, { role: 'owner', org: globex });
    const root = await adminClient(server); // root@example.com, a server administrator
    assert.equal((await root.call('POST', '/applications?org=globex', httpDefinition('crm', toy.url))).status, 201);
    ada = await personSignedIn(browser, server, 'ada@example.com', server.password);
    people.push(ada);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await toy?.stop();
  });

  it('adds an HTTP MCP server for the organization by keyboard; the list shows only the organization\'s applications', async () => {
    const { page } = ada;
    await page.goto(`${server.url}/orgs/acme/members`);
    await page.getByRole('link', { name: 'Applications', exact: true }).focus();
    await Promise.all([page.waitForURL((u) => u.pathname === '/orgs/acme/applications'), page.keyboard.press('Enter')]);
    assert.equal(await hook(page, 'no-applications').count(), 1, 'neither the demo (server-wide) nor globex\'s crm');
    await hook(page, 'add-application').focus();
    await Promise.all([page.waitForURL((u) => u.pathname === '/orgs/acme/applications/new'), page.keyboard.press('Enter')]);
    assert.equal(await page.locator('#command').count(), 0, 'no command: only server administrators run one');
    await checkPage(page, 'org-application-new');
    await page.locator('#slug').fill('team-notes');
    await page.locator('#name').fill('Team notes');
    await page.locator('#url').fill(toy.url);
    await page.getByRole('button', { name: 'Add MCP server' }).focus();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'created'), page.keyboard.press('Enter')]);
    assert.equal(await codeOf(page, 'notice'), 'created');
    assert.equal(await hook(page, 'status').getAttribute('data-status'), 'not_verified');
    assert.equal(await hook(page, 'mcp-url').innerText(), `${server.url}/mcp/team-notes`);
    assert.equal((await server.store.applications.get('team-notes'))?.orgId, server.org.id, 'owned by acme');
    await checkPage(page, 'org-application-overview');

    await page.goto(base());
    assert.deepEqual(await page.locator('[data-testid="application"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-slug'))), ['team-notes']);
    await checkPage(page, 'org-applications');
  });

  it('runs the self-test from its button, reviews the tools at phone width, and edits the server', async () => {
    const { page } = ada;
    await page.goto(`${base()}/team-notes`);
    await hook(page, 'run-self-test').focus();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'tested'), page.keyboard.press('Enter')]);
    assert.equal(await hook(page, 'self-test').getAttribute('data-passed'), 'true');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base()}/team-notes/tools`);
    await press(page, hook(page, 'refresh'));
    const lookup = page.locator('[data-testid="tool"][data-name="lookup"]');
    assert.equal(await lookup.getAttribute('data-status'), 'needs_review');
    await lookup.locator('[data-testid="approve"]').focus();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'approved'), page.keyboard.press('Enter')]);
    assert.equal(await page.locator('[data-testid="tool"][data-name="lookup"]').getAttribute('data-status'), 'approved');
    assert.equal((await server.store.tools.list('team-notes')).find((t) => t.name === 'lookup')?.status, 'approved');
    await checkPage(page, 'org-application-tools-390');
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.goto(`${base()}/team-notes`);
    await press(page, hook(page, 'edit-application'));
    await page.locator('#name').fill('Team notes (prod)');
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'updated'), page.getByRole('button', { name: 'Save' }).press('Enter')]);
    assert.equal(JSON.parse((await server.store.applications.get('team-notes'))!.definition).name, 'Team notes (prod)');
    assert.equal((await server.store.applications.get('team-notes'))?.orgId, server.org.id, 'an edit keeps the owner');
  });

  it('attacked over HTTP: a member, an outsider, another organization\'s application, a command, no CSRF token', async () => {
    const mia = await httpSignedIn(server, 'mia@example.com', PASSWORD);
    assert.equal((await mia.request(base())).status, 403);
    assert.equal((await postForm(mia, server, '/orgs/acme/applications/new', { slug: 'evil', name: 'Evil', url: toy.url })).status, 403);
    const gina = await httpSignedIn(server, 'gina@example.com', PASSWORD);
    assert.equal((await gina.request(base())).status, 404);
    assert.equal((await gina.request(`${base()}/team-notes`)).status, 404);

    const owner = await httpSignedIn(server, 'ada@example.com', server.password);
    for (const path of ['/crm', '/crm/tools', '/crm/edit', '/demo']) assert.equal((await owner.request(`${base()}${path}`)).status, 404, path);
    const overview = await owner.request(`${base()}/team-notes`);
    const withToken = (from: string, to: string) => ({ ...overview, body: overview.body.replaceAll(from, to) });
    const crmDelete = await postForm(owner, server, '/orgs/acme/applications/crm/delete', { confirm: 'yes' }, withToken('/team-notes/delete', '/crm/delete'));
    assert.equal(crmDelete.status, 404);
    assert.ok(await server.store.applications.get('crm'), 'another organization\'s application is untouched');

    const form = await owner.request(`${base()}/new`);
    const command = await postForm(owner, server, '/orgs/acme/applications/new', { slug: 'shell', name: 'Shell', kind: 'stdio', command: 'node', url: '' }, form);
    assert.equal(command.status, 400, 'the form is an HTTP one whatever kind is posted');
    assert.equal(await server.store.applications.get('shell'), undefined);
    assert.equal(htmlCode((await postForm(owner, server, '/orgs/acme/applications/team-notes/delete', { confirm: 'yes' })).body), 'csrf_failed', 'no CSRF token');
    assert.ok(await server.store.applications.get('team-notes'));
  });

  it('deletes only after a confirmation step, by keyboard; the deletion is on the organization\'s record', async () => {
    const { page } = ada;
    await page.goto(`${base()}/team-notes`);
    await hook(page, 'delete-application').focus();
    await Promise.all([page.waitForURL((u) => u.pathname === '/orgs/acme/applications/team-notes/delete'), page.keyboard.press('Enter')]);
    assert.ok(await server.store.applications.get('team-notes'), 'nothing is deleted before the confirmation');
    await checkPage(page, 'org-application-delete-confirm');
    await hook(page, 'confirm').focus();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'deleted'), page.keyboard.press('Enter')]);
    assert.equal(await server.store.applications.get('team-notes'), undefined);
    const deleted = await server.store.audit.list({ kind: 'application.deleted' });
    assert.deepEqual(deleted.map((r) => r.orgId), [server.org.id]);
    assertClean(...people);
  });
});
