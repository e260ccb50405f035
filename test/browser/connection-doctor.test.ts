/**
 * The connection doctor, end to end: real MCP SDK clients (and raw HTTP where an SDK cannot be
 * made to err) do each wrong thing the issue names, and /server/doctor says what went wrong and
 * how to fix it, in Chromium (axe, the CSP watcher, a phone-width view). Then the watch shows an
 * event arriving while the page is open, and the pages are refused to a non-administrator.
 *
 * The clients' mistakes: registering again and again without opening /authorize (an SDK that never
 * gets its browser), a redirect URI the client was not registered with (MCP Inspector's
 * http://127.0.0.1:6274/oauth/callback), /authorize without `resource` (RFC 8707 §2), a token sent
 * to another application (RFC 8707 §2: audience-restricted), and a token used after expiry by a
 * client that never refreshes (RFC 6749 §6). And the steps between /authorize and the code: the
 * person signs in, then decides on the consent page — one leaves the write scope unticked, and
 * their SDK client (v1, which answers 403 insufficient_scope by refreshing and retrying, never by
 * re-authorizing: RFC 6750 §3.1) keeps getting 403; another refuses consent. Each person sees the
 * diagnoses of their own attempts, and only theirs, on /account.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { hashPassword } from '../../src/core/crypto.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { appUrl, exchange, httpApp, request, startFixtureMcp, type FixtureMcp } from '../helpers/gateway.ts';
import { createMcpClient, desktopClientMetadata, passExpiry, preRegister, type McpTestClient } from '../helpers/mcp-clients.ts';
import { startHttpsFixture, type HttpsFixture } from '../helpers/https-fixture.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertClean, hook, httpSignedIn, personSignedIn, type Person } from './account-support.ts';

const PASSWORD = 'doctor pages password';
const INSPECTOR_REDIRECT = 'http://127.0.0.1:6274/oauth/callback';

describe('the connection doctor', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let fixture: FixtureMcp;
  let documentHost: HttpsFixture;
  let browser: Browser;
  let clock: TestClock;
  let root: Person;
  const clients: McpTestClient[] = [];
  const ids: Record<string, string> = {};

  const clientId = (client: McpTestClient) => client.provider.clientInformation()!.client_id;

  /** /authorize as a hand-written client would send it: PKCE, a registered redirect URI, no `resource`. */
  async function authorizeWithoutResource(id: string, redirectUri: string): Promise<number> {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({ response_type: 'code', client_id: id, redirect_uri: redirectUri, code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', state: 'x' });
    return (await fetch(`${server.url}/oauth/authorize?${query}`, { redirect: 'manual' })).status;
  }

  before(async () => {
    fixture = await startFixtureMcp();
    clock = testClock();
    server = await startTestServer({ applications: [httpApp('notes', fixture.url)], cimd: { allowPrivateAddresses: true } } as never, { clock });
    documentHost = await startHttpsFixture();
    browser = await launchChromium();
    await server.store.users.create({ email: 'root@example.com', passwordHash: await hashPassword(PASSWORD), isAdmin: true });

    // 1. An SDK client that never gets its browser: it registers three times and never opens /authorize.
    for (let i = 0; i < 3; i++) {
      const looping = await createMcpClient(server, { sdk: 'v1', registration: 'dynamic', clientName: 'Looping desktop client', redirectUri: 'http://127.0.0.1:33418/callback' });
      clients.push(looping);
      assert.equal(await looping.connect(), 'redirected');
      ids[`loop${i}`] = clientId(looping);
    }

    // 2. MCP Inspector's redirect URI on a client registered with another one.
    const inspector = await createMcpClient(server, { sdk: 'v2', registration: 'pre-registered', clientId: 'inspector', redirectUri: INSPECTOR_REDIRECT });
    clients.push(inspector);
    await preRegister(server, 'inspector', ['http://127.0.0.1/callback']);
    assert.equal(await inspector.connect(), 'redirected');
    await assert.rejects(inspector.authorize(), 'the authorization server refuses the unregistered redirect URI');
    ids.inspector = 'inspector';

    // 3. A metadata-document client whose document names another client_id.
    const documentUrl = documentHost.url('/oauth/client.json');
    documentHost.route('/oauth/client.json', { ...desktopClientMetadata('http://127.0.0.1/callback', 'Misconfigured document'), client_id: 'https://elsewhere.example/client.json' });
    const documented = await createMcpClient(server, { sdk: 'v1', registration: 'metadata-document', clientMetadataUrl: documentUrl });
    clients.push(documented);
    assert.equal(await documented.connect(), 'redirected');
    await assert.rejects(documented.authorize(), 'the engine refuses the document');
    ids.documented = documentUrl;

    // 4. A client that connects properly (v1 SDK), then misuses its token by hand.
    const good = await createMcpClient(server, { sdk: 'v1', registration: 'dynamic', clientName: 'Careless script' });
    clients.push(good);
    assert.equal(await good.connect(), 'redirected');
    await good.authorize();
    assert.ok((await good.toolNames()).length > 0);
    ids.good = clientId(good);
    const token = good.provider.tokens()!.access_token;
    const wrongAudience = await exchange(appUrl(server, 'notes'), request('tools/list'), { token });
    assert.equal(wrongAudience.status, 401, 'a token for the demo is refused at notes');
    // /authorize without `resource`, from the same client (a hand-written retry).
    assert.ok((await authorizeWithoutResource(ids.good, good.provider.redirectUri)) < 400);
    passExpiry(clock, token);
    const expired = await exchange(server.mcpUrl, request('tools/list'), { token });
    assert.equal(expired.status, 401, 'the expired token is refused, and this client never refreshes');

    // 5. The person leaves demo:write unticked; the SDK's calls that need it get 403 insufficient_scope.
    const narrow = await createMcpClient(server, { sdk: 'v1', registration: 'dynamic', clientName: 'Read-only agent' });
    clients.push(narrow);
    assert.equal(await narrow.connect(), 'redirected');
    await narrow.authorize({ untick: ['demo:write'] });
    ids.narrow = clientId(narrow);
    for (let i = 0; i < 2; i++) await assert.rejects(narrow.call('create_project', { name: `attempt ${i}` }), 'the token lacks demo:write');

    // 6. The person refuses consent.
    const refused = await createMcpClient(server, { sdk: 'v1', registration: 'dynamic', clientName: 'Refused client' });
    clients.push(refused);
    assert.equal(await refused.connect(), 'redirected');
    await assert.rejects(refused.authorize({ decision: 'deny' }), 'access_denied');
    ids.refused = clientId(refused);

    await server.doctor.flush();
    root = await personSignedIn(browser, server, 'root@example.com', PASSWORD);
  });
  after(async () => {
    for (const client of clients) await client.close().catch(() => {});
    await browser?.close();
    await server?.stop();
    await fixture?.stop();
    await documentHost?.close();
  });

  const diagnosesOn = async (id: string) => {
    const { page } = root;
    await page.goto(`${server.url}/server/doctor/clients/${encodeURIComponent(id)}`);
    return page.locator('[data-testid="diagnosis"]').evaluateAll((items) => items.map((li) => ({ code: li.getAttribute('data-code'), text: li.textContent ?? '' })));
  };

  it('lists the clients with problems first, and keyboard reaches a client timeline', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/doctor`);
    const rows = await hook(page, 'doctor-client').evaluateAll((trs) => trs.map((tr) => ({ id: tr.getAttribute('data-client'), problems: Number(tr.getAttribute('data-problems')) })));
    const problems = rows.filter((r) => r.problems > 0).map((r) => r.id);
    for (const id of [ids.loop0, ids.loop1, ids.loop2, ids.inspector, ids.documented, ids.good]) assert.ok(problems.includes(id!), `${id} has problems`);
    const firstClean = rows.findIndex((r) => r.problems === 0);
    assert.ok(firstClean === -1 || rows.slice(firstClean).every((r) => r.problems === 0), 'problems first');
    const before = await hook(page, 'event').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kind')));
    assert.ok(before.includes('resource-metadata') && before.includes('server-metadata'), `the SDKs' discovery, before any client id: ${before}`);
    await checkPage(page, 'server-doctor');
    await page.locator(`[data-client="${ids.inspector}"] a`).focus();
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/server/doctor/clients/')), page.keyboard.press('Enter')]);
    assert.ok((await hook(page, 'event').count()) > 0);
  });

  it('registered three times and never opened /authorize', async () => {
    const found = await diagnosesOn(ids.loop1!);
    const loop = found.find((d) => d.code === 'registered-never-authorized');
    assert.ok(loop, JSON.stringify(found));
    assert.match(loop.text, /registered 3 times/);
    assert.match(loop.text, /never opened \/authorize/);
  });

  it('the metadata document could not be used, and why', async () => {
    const found = await diagnosesOn(ids.documented!);
    const refused = found.find((d) => d.code === 'metadata-document-refused');
    assert.ok(refused, JSON.stringify(found));
    assert.ok(refused.text.includes(`the client metadata document at ${ids.documented} could not be used`));
  });

  it('the redirect URI is not registered, with the ones that are', async () => {
    const found = await diagnosesOn(ids.inspector!);
    const mismatch = found.find((d) => d.code === 'redirect-uri-mismatch');
    assert.ok(mismatch, JSON.stringify(found));
    assert.ok(mismatch.text.includes(`redirect URI ${INSPECTOR_REDIRECT} is not registered`));
    assert.ok(mismatch.text.includes('registered: http://127.0.0.1/callback'));
    await checkPage(root.page, 'server-doctor-client');
  });

  it('audience, /authorize without resource, 401 after expiry without a refresh; at phone width', async () => {
    const found = await diagnosesOn(ids.good!);
    const codes = found.map((d) => d.code);
    for (const code of ['audience-mismatch', 'no-resource', 'expired-no-refresh']) assert.ok(codes.includes(code as never), `${code} in ${codes}`);
    const audience = found.find((d) => d.code === 'audience-mismatch')!;
    assert.ok(audience.text.includes(`token audience ${server.mcpUrl} does not match application ${appUrl(server, 'notes')}`), audience.text);
    assert.ok(found.find((d) => d.code === 'expired-no-refresh')!.text.includes('never used its refresh token'));
    assert.ok(!codes.includes('registered-never-authorized'), 'this client did open /authorize');
    const kinds = await hook(root.page, 'event').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kind')));
    for (const kind of ['registered', 'authorize', 'signed-in', 'consented', 'authorized', 'token', 'gateway']) assert.ok(kinds.includes(kind), `${kind} on the timeline`);
    await root.page.setViewportSize({ width: 390, height: 844 });
    await checkPage(root.page, 'server-doctor-client-phone');
    await root.page.setViewportSize({ width: 1280, height: 800 });
  });

  it('signed in, then consent: partial, and 403 insufficient_scope again and again without re-authorizing', async () => {
    const found = await diagnosesOn(ids.narrow!);
    const codes = found.map((d) => d.code);
    assert.ok(codes.includes('forbidden'), `${codes}`);
    const stuck = found.find((d) => d.code === 'scope-not-reauthorized');
    assert.ok(stuck, JSON.stringify(found));
    assert.match(stuck.text, /never re-authorized after 403 insufficient_scope/);
    const steps = await hook(root.page, 'event').evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-kind')}:${tr.getAttribute('data-ok')}:${tr.textContent}`));
    assert.ok(steps.some((s) => s.startsWith('signed-in:yes') && s.includes('password')), steps.join('\n'));
    assert.ok(steps.some((s) => s.startsWith('consented:yes') && s.includes('partial') && s.includes('refused demo:write')), steps.join('\n'));
    await checkPage(root.page, 'server-doctor-client-scope');
  });

  it('consent refused', async () => {
    const found = await diagnosesOn(ids.refused!);
    assert.deepEqual(found.map((d) => d.code), ['consent-refused']);
    const kinds = await hook(root.page, 'event').evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-kind')}:${tr.getAttribute('data-ok')}`));
    assert.ok(kinds.includes('signed-in:yes') && kinds.includes('consented:no') && !kinds.includes('authorized:yes'), `${kinds}`);
  });

  it("a person's own connection problems on /account, and only theirs; at phone width", async () => {
    const person = await personSignedIn(browser, server, server.user.email, server.password);
    try {
      await person.page.goto(`${server.url}/account`);
      const mine = await hook(person.page, 'diagnosis').evaluateAll((items) => items.map((li) => `${li.getAttribute('data-client')}:${li.getAttribute('data-code')}`));
      assert.equal(mine.filter((d) => d === `${ids.narrow}:forbidden`).length, 1, 'the same 403 again is said once');
      for (const expected of [`${ids.narrow}:scope-not-reauthorized`, `${ids.refused}:consent-refused`, `${ids.good}:expired-no-refresh`]) assert.ok(mine.includes(expected), `${expected} in ${mine}`);
      // Not theirs: steps that name no person (registrations, redirect URIs of clients that never reached sign-in).
      assert.ok(!mine.some((d) => d.startsWith(`${ids.inspector}:`) || d.endsWith(':registered-never-authorized')), `${mine}`);
      await checkPage(person.page, 'account-connection-problems');
      await person.page.setViewportSize({ width: 390, height: 844 });
      await checkPage(person.page, 'account-connection-problems-phone');
      assertClean(person);
    } finally {
      await person.context.close();
    }
    await root.page.goto(`${server.url}/account`);
    assert.equal(await hook(root.page, 'diagnosis').count(), 0, "the administrator's own account shows none of the other person's");
    assert.equal(await hook(root.page, 'no-connection-problems').count(), 1);
  });

  it("a person's attempts, from the people page", async () => {
    await root.page.goto(`${server.url}/server/people`);
    await root.page.locator(`[data-testid="person"][data-email="${server.user.email}"] [data-testid="doctor-person"]`).focus();
    await Promise.all([root.page.waitForURL((u) => u.pathname === '/server/doctor/people'), root.page.keyboard.press('Enter')]);
    const codes = await hook(root.page, 'diagnosis').evaluateAll((items) => items.map((li) => li.getAttribute('data-code')));
    assert.ok(codes.includes('consent-refused') && codes.includes('scope-not-reauthorized'), `${codes}`);
  });

  it("a person's attempts", async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/doctor`);
    await page.getByLabel("A person's attempts (e-mail address)").fill(server.user.email);
    await Promise.all([page.waitForURL((u) => u.pathname === '/server/doctor/people'), page.keyboard.press('Enter')]);
    const codes = await hook(page, 'diagnosis').evaluateAll((items) => items.map((li) => li.getAttribute('data-code')));
    assert.ok(codes.includes('expired-no-refresh'), `${codes}`);
    assert.ok((await hook(page, 'event').count()) > 0);
  });

  it('the watch shows an event arriving while the page is open', async () => {
    const { page } = root;
    await page.goto(`${server.url}/server/doctor/watch`);
    await checkPage(page, 'server-doctor-watch');
    const before = await page.locator('[data-testid="event"][data-kind="authorize"]').count();
    assert.ok((await authorizeWithoutResource(ids.good!, 'http://127.0.0.1/elsewhere')) >= 400);
    await server.doctor.flush();
    await page.locator('[data-testid="event"][data-kind="authorize"]').nth(before).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('[data-testid="event"][data-kind="authorize"]').nth(before).getAttribute('data-ok'), 'no');
    assertClean(root);
  });

  it('is for server administrators only (page and JSON)', async () => {
    const ua = await httpSignedIn(server, server.user.email, server.password);
    for (const path of ['/server/doctor', `/server/doctor/clients/${ids.good}`, '/server/doctor/watch/events?after=0']) {
      assert.equal((await ua.request(`${server.url}${path}`)).status, 403, path);
    }
    const anonymous = await fetch(`${server.url}/server/doctor/watch/events?after=0`, { redirect: 'manual' });
    assert.notEqual(anonymous.status, 200);
  });
});
