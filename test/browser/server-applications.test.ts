/**
 * The applications pages of the server console in a real browser: adding an MCP server (HTTP with
 * a secret header that is never shown again), the list with its checklist status and why, the
 * self-test button with each check's result, editing (the secret kept), the Conditions tab (IP
 * ranges, time windows, step-up with a second factor per tool), the Connect tab's snippets, and
 * deleting after a confirmation step — all by keyboard-reachable links, buttons and forms, each
 * page passing axe and the CSP watcher, one at phone width. Refusals are the admin API's: the same
 * field paths for the same input, beside the field. Then the forms attacked over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { adminClient, startToyMcp, type AdminClient, type ToyMcp } from '../admin/support.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, personSignedIn, postForm, press, type Person } from './account-support.ts';

const SECRET = 'Bearer upstream-secret-7f3a';

/** The field paths a refused form shows beside its fields. */
async function fieldErrors(page: Page): Promise<string[]> {
  return (await hook(page, 'field-error').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-field') ?? ''))).sort();
}

describe("the server console's applications pages in a browser", { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let toy: ToyMcp;
  let api: AdminClient;
  let root: Person;
  const people: Person[] = [];

  before(async () => {
    toy = await startToyMcp();
    server = await startTestServer();
    browser = await launchChromium();
    api = await adminClient(server); // creates root@example.com, a server administrator
    root = await personSignedIn(browser, server, 'root@example.com', TEST_PASSWORD);
    people.push(root);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await toy?.stop();
  });

  const stored = async (slug: string) => JSON.parse((await server.store.applications.get(slug))!.definition) as Record<string, any>;

  it('refuses an invalid MCP server with the same field paths as the admin API, beside each field', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/applications/new`);
    await page.locator('#slug').fill('Not A Slug');
    await page.locator('#name').fill('');
    await page.locator('#url').fill('not a url');
    assert.equal(await press(page, page.getByRole('button', { name: 'Add MCP server' })), 400);
    const viaApi = await api.call('POST', '/applications', { slug: 'Not A Slug', name: '', upstream: { url: 'not a url' } });
    assert.equal(viaApi.status, 400);
    const apiPaths = ((viaApi.body as { detail?: { errors: { path: string }[] }; errors?: { path: string }[] }).detail?.errors ?? (viaApi.body as { errors: { path: string }[] }).errors).map((e) => e.path);
    assert.deepEqual(apiPaths.sort(), ['name', 'slug', 'upstream.url']);
    assert.deepEqual(await fieldErrors(page), ['name', 'slug', 'upstream.url'], 'each problem beside its field');
    assert.equal(await page.locator('#url').inputValue(), 'not a url', 'what was typed is kept');
    await checkPage(page, 'server-application-new-refused');
  });

  it('refuses the slug "new" (it is the add form\'s address) beside the slug field, as the admin API does', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/applications/new`);
    await page.locator('#slug').fill('new');
    await page.locator('#name').fill('New things');
    await page.locator('#url').fill(toy.url);
    assert.equal(await press(page, page.getByRole('button', { name: 'Add MCP server' })), 400);
    assert.deepEqual(await fieldErrors(page), ['slug']);
    const viaApi = await api.call('POST', '/applications', { slug: 'new', name: 'New things', upstream: { url: toy.url } });
    assert.equal(viaApi.status, 400);
    const apiPaths = ((viaApi.body as { detail?: { errors: { path: string }[] }; errors?: { path: string }[] }).detail?.errors ?? (viaApi.body as { errors: { path: string }[] }).errors).map((e) => e.path);
    assert.deepEqual(apiPaths, ['slug']);
    assert.equal(await server.store.applications.get('new'), undefined, 'nothing stored');
  });

  it('adds an HTTP MCP server with a secret header by keyboard; the list shows its status and why, the secret never', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/applications`);
    await hook(page, 'add-application').focus();
    await Promise.all([page.waitForURL((u) => u.pathname === '/server/applications/new'), page.keyboard.press('Enter')]);
    await page.locator('#slug').fill('toy');
    await page.locator('#name').fill('Toy notes');
    await page.locator('#url').fill(toy.url);
    await page.locator('#headers').fill(`Authorization: ${SECRET}`);
    await page.getByRole('button', { name: 'Add MCP server' }).focus();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'created'), page.keyboard.press('Enter')]);
    assert.equal(await codeOf(page, 'notice'), 'created');
    assert.equal((await stored('toy')).upstream.headers.Authorization, SECRET, 'stored as typed');
    assert.equal(await hook(page, 'status').getAttribute('data-status'), 'not_verified');
    assert.equal(await page.locator('[data-step="verified"]').getAttribute('data-met'), 'false');
    assert.match(await page.locator('[data-step="verified"] [data-testid="step-why"]').innerText(), /self-test/);
    assert.equal(await hook(page, 'mcp-url').innerText(), `${server.url}/mcp/toy`);
    await checkPage(page, 'server-application-overview');

    await page.goto(`${server.url}/server/applications`);
    const row = page.locator('[data-testid="application"][data-slug="toy"]');
    assert.equal(await row.locator('[data-testid="status"]').getAttribute('data-status'), 'not_verified');
    assert.match(await row.locator('[data-testid="status-why"]').innerText(), /no self-test/);
    assert.equal(await row.locator('[data-testid="mcp-url"]').innerText(), `${server.url}/mcp/toy`);
    assert.equal(await page.locator('[data-testid="application"][data-slug="demo"]').count(), 1, 'the built-in demo is listed too');
    assert.ok(!(await page.content()).includes('upstream-secret'));
    await checkPage(page, 'server-applications');
  });

  it('adds a stdio MCP server: command, arguments, environment (a secret, masked afterwards) and isolation', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/applications/new`);
    await page.locator('#slug').fill('memory');
    await page.locator('#name').fill('Memory');
    await page.locator('#kind-stdio').check();
    await page.locator('#command').fill('node');
    await page.locator('#args').fill('server.js\n--verbose');
    await page.locator('#env').fill('API_TOKEN=env-secret-91c2\nMODE=prod');
    await page.locator('#isolation').selectOption('shared');
    await press(page, page.getByRole('button', { name: 'Add MCP server' }));
    assert.equal(await codeOf(page, 'notice'), 'created');
    const upstream = (await stored('memory')).upstream;
    assert.deepEqual({ command: upstream.command, args: upstream.args, env: upstream.env, isolation: upstream.isolation }, { command: 'node', args: ['server.js', '--verbose'], env: { API_TOKEN: 'env-secret-91c2', MODE: 'prod' }, isolation: 'shared' });
    await press(page, hook(page, 'edit-application'));
    assert.equal(await page.locator('#env').inputValue(), 'API_TOKEN=********\nMODE=********');
    assert.equal(await page.locator('#kind-stdio').isChecked(), true);
    assert.ok(!(await page.content()).includes('env-secret'));
    await checkPage(page, 'server-application-edit-stdio');
  });

  it('runs the self-test from its button and shows each check; the status moves on to "Needs review"', async () => {
    const { page } = root;
    // The MCP server's tools are learnt in the background after the add; wait for them.
    for (let i = 0; i < 50 && (await server.store.tools.list('toy')).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await page.goto(`${server.url}/server/applications/toy`);
    assert.equal(await hook(page, 'no-self-test').count(), 1);
    await hook(page, 'run-self-test').focus();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'tested', { timeout: 30_000 }), page.keyboard.press('Enter')]);
    assert.equal(await hook(page, 'self-test').getAttribute('data-passed'), 'true');
    const checks = await hook(page, 'check').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-check')));
    assert.deepEqual(checks, ['no_token', 'resource_metadata', 'garbage_token', 'other_audience', 'no_scope_list', 'no_scope_call', 'scoped_call']);
    assert.equal(await page.locator('[data-check="no_token"]').getAttribute('data-outcome'), 'pass');
    assert.equal(await hook(page, 'status').getAttribute('data-status'), 'needs_review');
    assert.equal(await page.locator('[data-step="verified"]').getAttribute('data-met'), 'true');
    assert.match(await page.locator('[data-step="reviewed"] [data-testid="step-why"]').innerText(), /lookup|erase/);
    assert.equal(await hook(page, 'tab-tools').getAttribute('href'), '/server/applications/toy/tools', 'the Tools tab is one of the tabs');
  });

  it('edits the MCP server: the secret shows masked and is kept when left masked', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/applications/toy`);
    await press(page, hook(page, 'edit-application'));
    assert.equal(await page.locator('#headers').inputValue(), 'Authorization: ********');
    assert.ok(!(await page.content()).includes('upstream-secret'));
    assert.equal(await page.locator('#slug').getAttribute('readonly'), '');
    await page.locator('#name').fill('Toy notes (team)');
    await page.locator('#url').fill('nope');
    assert.equal(await press(page, page.getByRole('button', { name: 'Save' })), 400);
    assert.deepEqual(await fieldErrors(page), ['upstream.url']);
    assert.equal(await page.locator('#headers').inputValue(), 'Authorization: ********', 'a refused form never shows the secret either');
    await page.locator('#url').fill(toy.url);
    await press(page, page.getByRole('button', { name: 'Save' }));
    assert.equal(await codeOf(page, 'notice'), 'updated');
    const definition = await stored('toy');
    assert.equal(definition.name, 'Toy notes (team)');
    assert.equal(definition.upstream.headers.Authorization, SECRET, 'the masked value kept the stored secret');
    assert.equal(await hook(page, 'status').getAttribute('data-status'), 'not_verified', 'a changed definition needs a new self-test');
  });

  it('Conditions: each tool gets step-up and argument fields, refused beside them as the API refuses; the JSON is the advanced fallback (at phone width)', async () => {
    const { page } = root;
    const openAdvanced = async () => {
      if (!(await hook(page, 'advanced-tool-rules').evaluate((d) => (d as HTMLDetailsElement).open))) await page.getByText('Advanced: tool rules as JSON').click();
    };
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/server/applications/toy/conditions`);
    assert.deepEqual(await hook(page, 'tool-rules').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-tool'))), ['erase', 'lookup'], 'one fieldset per tool of the manifest');
    const erase = page.locator('[data-testid="tool-rules"][data-tool="erase"]');
    await page.locator('#ipAllow').fill('dead\n10.0.0.0/8');
    await page.locator('#timeWindows').fill('09:00-25:00 Mars/Olympus');
    await erase.getByLabel(/recent sign-in/).fill('soon');
    await erase.getByLabel(/name a resource/).fill('projectId=planet');
    assert.equal(await press(page, page.getByRole('button', { name: 'Save conditions' })), 400);
    assert.deepEqual(await fieldErrors(page), ['ipAllow', 'timeWindows', 'tools.erase.arguments', 'tools.erase.stepUp'], 'each beside its field, with the API\'s paths');
    assert.equal(await erase.getByLabel(/recent sign-in/).inputValue(), 'soon', 'what was typed is kept');
    await checkPage(page, 'server-application-conditions-390');

    await page.locator('#ipAllow').fill('10.0.0.0/8\n127.0.0.1');
    await page.locator('#timeWindows').fill('00:00-23:59 Europe/Paris 1,2,3,4,5');
    await erase.getByLabel(/recent sign-in/).fill('5m');
    await erase.getByLabel('with a second factor').check();
    await erase.getByLabel(/name a resource/).fill('projectId=project');
    await openAdvanced();
    await page.locator('#tools').fill('{ not json');
    assert.equal(await press(page, page.getByRole('button', { name: 'Save conditions' })), 400);
    assert.deepEqual(await fieldErrors(page), ['tools']);
    assert.equal(await hook(page, 'advanced-tool-rules').evaluate((d) => (d as HTMLDetailsElement).open), true, 'its error is not hidden');
    await page.locator('#tools').fill(JSON.stringify({ lookup: { ipAllow: ['10.0.0.0/8'] } }));
    await press(page, page.getByRole('button', { name: 'Save conditions' }));
    assert.equal(await codeOf(page, 'notice'), 'updated');
    const definition = await stored('toy');
    assert.deepEqual(definition.ipAllow, ['10.0.0.0/8', '127.0.0.1']);
    assert.deepEqual(definition.timeWindows, [{ from: '00:00', to: '23:59', timeZone: 'Europe/Paris', days: [1, 2, 3, 4, 5] }]);
    assert.deepEqual(definition.tools.erase, { stepUp: { maxAge: '5m', mfa: true }, arguments: { projectId: 'project' } });
    assert.deepEqual(definition.tools.lookup, { ipAllow: ['10.0.0.0/8'] }, 'the JSON fallback keeps what the fields do not cover');
    assert.equal(definition.upstream.headers.Authorization, SECRET, 'the secret is untouched');
    assert.equal(await page.locator('#timeWindows').inputValue(), '00:00-23:59 Europe/Paris 1,2,3,4,5', 'shown back as typed');
    assert.equal(await erase.getByLabel(/recent sign-in/).inputValue(), '5m', 'the saved step-up is in its field');
    assert.equal(await erase.getByLabel('with a second factor').isChecked(), true);
    assert.deepEqual(JSON.parse(await page.locator('#tools').inputValue()), { lookup: { ipAllow: ['10.0.0.0/8'] } }, 'the JSON holds only the rest');
    await checkPage(page, 'server-application-conditions-saved-390');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('Connect: copy-ready snippets for each client, with the MCP URL', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/applications/toy`);
    await press(page, hook(page, 'tab-connect'));
    const url = `${server.url}/mcp/toy`;
    const snippet = (client: string) => page.locator(`[data-testid="snippet"][data-client="${client}"] code`).innerText();
    assert.equal(await snippet('claude-code'), `claude mcp add --transport http toy ${url}`);
    assert.equal(await snippet('claude-ai'), url);
    assert.equal(await snippet('chatgpt'), url);
    assert.deepEqual(JSON.parse(await snippet('vscode')), { servers: { toy: { type: 'http', url } } });
    assert.deepEqual(JSON.parse(await snippet('cursor')), { mcpServers: { toy: { url } } });
    assert.equal(await snippet('stdio'), `portcullis connect ${url}`);
    await checkPage(page, 'server-application-connect');
  });

  it('deletes only after a confirmation step, by keyboard; the deletion is on the record', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/applications/toy`);
    await hook(page, 'delete-application').focus();
    await Promise.all([page.waitForURL((u) => u.pathname === '/server/applications/toy/delete'), page.keyboard.press('Enter')]);
    assert.ok(await server.store.applications.get('toy'), 'nothing is deleted before the confirmation');
    await checkPage(page, 'server-application-delete-confirm');
    await hook(page, 'confirm').focus();
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'deleted'), page.keyboard.press('Enter')]);
    assert.equal(await server.store.applications.get('toy'), undefined);
    assert.equal(await page.locator('[data-testid="application"][data-slug="toy"]').count(), 0);
    assert.equal((await server.store.audit.list({ kind: 'application.deleted' })).length, 1);
  });

  it('attacked over HTTP: not a server administrator, no CSRF token, an unconfirmed delete, a read-only application', async () => {
    assert.equal((await api.call('POST', '/applications', { slug: 'kept', name: 'Kept', upstream: { url: toy.url } })).status, 201);
    const member = await httpSignedIn(server, 'ada@example.com', server.password);
    for (const path of ['/server/applications', '/server/applications/kept', '/server/applications/kept/conditions', '/server/applications/kept/connect']) {
      const answer = await member.request(`${server.url}${path}`);
      assert.equal(answer.status, 403, path);
      assert.equal(htmlCode(answer.body), 'forbidden');
    }
    assert.equal((await postForm(member, server, '/server/applications/new', { slug: 'evil', name: 'Evil', kind: 'http', url: toy.url })).status, 403);
    assert.equal((await postForm(member, server, '/server/applications/kept/delete', { confirm: 'yes' })).status, 403);

    const admin = await httpSignedIn(server, 'root@example.com', TEST_PASSWORD);
    const noToken = await postForm(admin, server, '/server/applications/kept/delete', { confirm: 'yes' });
    assert.equal(htmlCode(noToken.body), 'csrf_failed');
    const overview = await admin.request(`${server.url}/server/applications/kept`);
    const unconfirmed = await postForm(admin, server, '/server/applications/kept/delete', {}, overview);
    assert.equal(unconfirmed.status, 200, 'answered with the confirmation page');
    assert.ok(await server.store.applications.get('kept'), 'a post without confirm=yes deletes nothing');
    const edit = await admin.request(`${server.url}/server/applications/kept/edit`);
    const demo = await postForm(admin, server, '/server/applications/demo/edit', { name: 'Hijacked', kind: 'http', url: toy.url }, { ...edit, body: edit.body.replaceAll('/kept/edit', '/demo/edit') });
    assert.equal(demo.status, 409);
    assert.equal((await server.store.applications.get('demo'))!.source, 'builtin');
    assert.ok(!(await server.store.applications.get('demo'))!.definition.includes('Hijacked'));
    assert.equal((await admin.request(`${server.url}/server/applications/nothing-here`)).status, 404);
    assertClean(...people);
  });
});
