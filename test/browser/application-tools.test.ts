/**
 * The Tools tab of an application (`/server/applications/<slug>/tools`) in a real browser, used by
 * a server administrator, against a small MCP server of our own behind the gateway: the manifest
 * with each tool's annotations, first and last seen, scope (picked from the application's scopes,
 * the annotation default shown) and both schemas (collapsed); approval by keyboard; a tool that
 * changes upstream after approval shows the approved version beside the new one, an approval of a
 * version the reviewer did not see is refused `tool_changed` (the page then shows the version
 * listed now), and the version shown is accepted. Then the forms attacked over HTTP: someone who
 * is not a server administrator, no CSRF token, an approval naming no version.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { adminClient, httpDefinition, READ_ONLY, DESTRUCTIVE, startToyMcp, type AdminClient, type ToyMcp, type ToyTool } from '../admin/support.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, personSignedIn, postForm, press, type Person } from './account-support.ts';

const TOOLS = '/server/applications/rev/tools';
const LOOKUP_INPUT = { type: 'object', properties: { query: { type: 'string', description: 'What to look up' } }, required: ['query'] };
const LOOKUP_OUTPUT = { type: 'object', properties: { hits: { type: 'array', items: { type: 'string' } } } };

// FixtureTool has no outputSchema; the fixture lists whatever a tool carries.
const lookup = { name: 'lookup', title: 'Look up', description: 'Look something up', annotations: READ_ONLY, inputSchema: LOOKUP_INPUT, outputSchema: LOOKUP_OUTPUT };
const erase: ToyTool = { name: 'erase', description: 'Erase everything', annotations: DESTRUCTIVE };

interface ApiTool {
  name: string;
  status: string;
  scope: string;
  fingerprint: string;
  inputSchema: unknown;
  outputSchema: unknown;
  approved: { description: string | null; inputSchema: unknown } | null;
}

describe("an application's Tools tab in a browser", { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let toy: ToyMcp;
  let admin: AdminClient;
  let root: Person;
  const people: Person[] = [];

  const tool = (page: Page, name: string) => page.locator(`[data-testid="tool"][data-name="${name}"]`);
  const apiTool = async (name: string) => ((await admin.call('GET', '/applications/rev/tools')).body.tools as ApiTool[]).find((t) => t.name === name)!;

  before(async () => {
    toy = await startToyMcp([lookup as ToyTool, erase]);
    server = await startTestServer();
    admin = await adminClient(server);
    assert.equal((await admin.call('POST', '/applications', httpDefinition('rev', toy.url))).status, 201);
    browser = await launchChromium();
    root = await personSignedIn(browser, server, 'root@example.com', TEST_PASSWORD);
    people.push(root);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await toy?.stop();
  });

  it('shows the manifest: status, annotations, first and last seen, the scope picker with its default, both schemas collapsed', async () => {
    const { page } = root;
    await page.goto(`${server.url}${TOOLS}`);
    assert.equal(await hook(page, 'tab-tools').getAttribute('aria-current'), 'page');
    assert.equal(await press(page, hook(page, 'refresh')), 200);
    assert.equal(await codeOf(page, 'notice'), 'refreshed');
    assert.equal(await tool(page, 'lookup').getAttribute('data-status'), 'needs_review');
    assert.equal(await tool(page, 'erase').getAttribute('data-status'), 'needs_review');
    assert.equal(await hook(page, 'needs-review-count').textContent(), '2');

    const row = tool(page, 'lookup');
    assert.match((await row.locator('h2').textContent()) ?? '', /Look up/);
    assert.match((await row.locator('[data-testid="tool-annotations"]').textContent()) ?? '', /readOnlyHint/);
    // MCP annotations: readOnlyHint → <app>:read; no annotations at all → destructive → <app>:delete.
    assert.equal(await row.locator('[data-testid="tool-scope"]').getAttribute('data-scope'), 'rev:read');
    assert.match((await row.locator('select[name=scope] option[value=""]').textContent()) ?? '', /rev:read/);
    assert.equal(await tool(page, 'erase').locator('[data-testid="tool-scope"]').getAttribute('data-scope'), 'rev:delete');
    assert.equal(await tool(page, 'erase').locator('[data-testid="output-schema"]').getAttribute('data-absent'), 'true');

    // Collapsed until asked; opened from the keyboard.
    const input = row.locator('[data-testid="input-schema"]');
    assert.equal(await input.locator('pre').isVisible(), false);
    await input.locator('summary').focus();
    await page.keyboard.press('Enter');
    assert.deepEqual(JSON.parse((await input.locator('pre').textContent()) ?? ''), LOOKUP_INPUT);
    await row.locator('[data-testid="output-schema"] summary').click();
    assert.deepEqual(JSON.parse((await row.locator('[data-testid="output-schema"] pre').textContent()) ?? ''), LOOKUP_OUTPUT);
    await checkPage(page, 'server-application-tools');

    // The admin API's view carries the schemas too.
    const viaApi = await apiTool('lookup');
    assert.deepEqual(viaApi.inputSchema, LOOKUP_INPUT);
    assert.deepEqual(viaApi.outputSchema, LOOKUP_OUTPUT);
  });

  it('approves a tool from the keyboard, in the version shown', async () => {
    const { page } = root;
    await page.goto(`${server.url}${TOOLS}`);
    const shown = await tool(page, 'lookup').getAttribute('data-fingerprint');
    await tool(page, 'lookup').locator('[data-testid="approve"]').focus();
    await Promise.all([page.waitForURL((url) => url.searchParams.get('done') === 'approved'), page.keyboard.press('Enter')]);
    assert.equal(await tool(page, 'lookup').getAttribute('data-status'), 'approved');
    const approved = await apiTool('lookup');
    assert.equal(approved.status, 'approved');
    assert.equal(approved.fingerprint, shown);
  });

  it('sets a tool scope from the application scopes, and back to the annotation default', async () => {
    const { page } = root;
    await page.goto(`${server.url}${TOOLS}`);
    await tool(page, 'lookup').locator('select[name=scope]').selectOption('rev:write');
    assert.equal(await press(page, tool(page, 'lookup').locator('[data-testid="set-scope"]')), 200);
    assert.equal(await codeOf(page, 'notice'), 'scope_set');
    assert.equal(await tool(page, 'lookup').locator('[data-testid="tool-scope"]').getAttribute('data-scope'), 'rev:write');
    assert.equal((await apiTool('lookup')).scope, 'rev:write');
    await tool(page, 'lookup').locator('select[name=scope]').selectOption('');
    assert.equal(await press(page, tool(page, 'lookup').locator('[data-testid="set-scope"]')), 200);
    assert.equal((await apiTool('lookup')).scope, 'rev:read');
  });

  it('a tool changed upstream after approval: old beside new, the old version refused, the version shown accepted', async () => {
    const { page } = root;
    const approvedFingerprint = (await apiTool('lookup')).fingerprint;
    const wider = { ...LOOKUP_INPUT, properties: { ...LOOKUP_INPUT.properties, forward_to: { type: 'string', description: 'Where to send the results' } } };
    toy.tools = [{ ...lookup, description: 'Look something up and forward it', inputSchema: wider } as ToyTool, erase];
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}${TOOLS}`);
    assert.equal(await press(page, hook(page, 'refresh')), 200);

    const row = tool(page, 'lookup');
    assert.equal(await row.getAttribute('data-status'), 'needs_review');
    assert.equal(await row.getAttribute('data-changed'), 'true');
    const description = row.locator('[data-testid="change"][data-part="description"]');
    assert.equal(await description.locator('[data-testid="old"]').textContent(), 'Look something up');
    assert.equal(await description.locator('[data-testid="new"]').textContent(), 'Look something up and forward it');
    const schema = row.locator('[data-testid="change"][data-part="inputSchema"]');
    assert.deepEqual(JSON.parse((await schema.locator('[data-testid="old"]').textContent()) ?? ''), LOOKUP_INPUT);
    assert.deepEqual(JSON.parse((await schema.locator('[data-testid="new"]').textContent()) ?? ''), wider);
    assert.equal(await row.locator('[data-testid="change"][data-part="annotations"]').count(), 0, 'only what changed is compared');
    await checkPage(page, 'server-application-tools-changed-390');
    await page.setViewportSize({ width: 1280, height: 900 });

    // An approval naming the version approved before (what a stale or crafted form would carry) is refused.
    const newFingerprint = await row.getAttribute('data-fingerprint');
    assert.notEqual(newFingerprint, approvedFingerprint);
    await row.locator('input[name=fingerprint]').evaluate((el, fp) => ((el as HTMLInputElement).value = fp), approvedFingerprint);
    assert.equal(await press(page, row.locator('[data-testid="approve"]')), 409);
    assert.equal(await codeOf(page, 'problem'), 'tool_changed');
    assert.equal((await apiTool('lookup')).status, 'needs_review');

    // The refusal page shows the version listed now; approving it works.
    assert.equal(await tool(page, 'lookup').getAttribute('data-fingerprint'), newFingerprint);
    assert.equal(await press(page, tool(page, 'lookup').locator('[data-testid="approve"]')), 200);
    assert.equal(await codeOf(page, 'notice'), 'approved');
    const now = await apiTool('lookup');
    assert.equal(now.status, 'approved');
    assert.equal(now.fingerprint, newFingerprint);
    assert.equal(now.approved, null, 'nothing left to compare');
  });

  it('a change between drawing the page and pressing approve is refused, and the page shows the newer version', async () => {
    const { page } = root;
    await page.goto(`${server.url}${TOOLS}`);
    const drawn = await tool(page, 'erase').getAttribute('data-fingerprint');
    toy.tools = [toy.tools[0]!, { ...erase, description: 'Erase everything, including backups' }];
    assert.equal((await admin.call('POST', '/applications/rev/refresh')).status, 200);
    assert.equal(await press(page, tool(page, 'erase').locator('[data-testid="approve"]')), 409);
    assert.equal(await codeOf(page, 'problem'), 'tool_changed');
    assert.notEqual(await tool(page, 'erase').getAttribute('data-fingerprint'), drawn);
    assert.match((await tool(page, 'erase').locator('[data-testid="tool-description"]').textContent()) ?? '', /including backups/);
    assert.equal((await apiTool('erase')).status, 'needs_review');
  });

  it('sends an approved tool back to review only after a confirmation', async () => {
    const { page } = root;
    await page.goto(`${server.url}${TOOLS}`);
    assert.equal(await press(page, tool(page, 'lookup').locator('[data-testid="reject"]')), 200);
    assert.equal((await apiTool('lookup')).status, 'approved', 'the first press only asks');
    assert.equal(await press(page, hook(page, 'confirm')), 200);
    assert.equal(await codeOf(page, 'notice'), 'rejected');
    assert.equal((await apiTool('lookup')).status, 'needs_review');
    assertClean(...people);
  });

  it('a built-in application: tools reviewed here, scopes only in its definition; an unknown application is 404', async () => {
    const { page } = root;
    assert.equal((await page.goto(`${server.url}/server/applications/demo/tools`))?.status(), 200);
    await press(page, hook(page, 'refresh'));
    const first = page.locator('[data-testid="tool"]').first();
    assert.ok(await first.count());
    assert.match((await first.locator('[data-testid="tool-scope"]').getAttribute('data-scope')) ?? '', /^demo:/);
    assert.equal(await page.locator('select[name=scope]').count(), 0, 'no scope picker for a definition this page cannot change');
    assert.equal((await page.goto(`${server.url}/server/applications/no-such-app/tools`))?.status(), 404);
    assert.equal(await codeOf(page, 'error'), 'not_found');
  });

  it('refuses someone who is not a server administrator, a form without its CSRF token, and an approval naming no version', async () => {
    const ada = await httpSignedIn(server, server.user.email, TEST_PASSWORD);
    const page = await ada.request(`${server.url}${TOOLS}`);
    assert.equal(page.status, 403);
    assert.equal(htmlCode(page.body), 'forbidden');
    const fingerprint = (await apiTool('lookup')).fingerprint;
    const byAda = await postForm(ada, server, `${TOOLS}/approve`, { name: 'lookup', fingerprint });
    assert.equal(byAda.status, 403);

    const rootUa = await httpSignedIn(server, 'root@example.com', TEST_PASSWORD);
    const noCsrf = await postForm(rootUa, server, `${TOOLS}/approve`, { name: 'lookup', fingerprint });
    assert.equal(noCsrf.status, 403, 'the form-expired page');
    assert.equal((await apiTool('lookup')).status, 'needs_review');
    const drawn = await rootUa.request(`${server.url}${TOOLS}`);
    const unnamed = await postForm(rootUa, server, `${TOOLS}/approve`, { name: 'lookup', fingerprint: '' }, drawn);
    assert.equal(unnamed.status, 400);
    assert.equal(htmlCode(unnamed.body), 'invalid_request');
    // The admin API, the same service: an empty fingerprint is not "whatever is listed now".
    const viaApi = await admin.call('POST', '/applications/rev/tools/lookup/approve', { fingerprint: '' });
    assert.equal(viaApi.status, 400);
    assert.equal(viaApi.body.error, 'invalid_request');
    assert.equal((await apiTool('lookup')).status, 'needs_review', 'nothing was approved');
  });
});
