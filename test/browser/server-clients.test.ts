/**
 * `/server/clients` in a real browser, used by a server administrator: every client with its kind
 * (pre-registered, dynamically registered, metadata document), last use and how many people
 * connected; registering a confidential client whose secret is shown once and then obtains a real
 * token (client_secret_basic, limited to the application and scopes ticked; private_key_jwt with
 * a JWKS URL); problems shown beside their fields; rotating the secret (the old one is refused at
 * once) and deleting, each after a confirmation page. Every page passes axe and the CSP watcher,
 * the list at phone width too. Then the same service through the admin API, and the forms
 * attacked over HTTP: a non-administrator, no CSRF token, a delete without its confirmation.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { hashPassword } from '../../src/core/crypto.ts';
import { assertOAuthError, assertTokens, endpoint, LOOPBACK_REDIRECT, obtainCode, postForm as postOAuthForm, redeemCode, registerPublic, type ClientCredentials } from '../helpers/authz.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startHttpsFixture, type HttpsFixture } from '../helpers/https-fixture.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient, httpDefinition } from '../admin/support.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, personSignedIn, postForm, press, type Person } from './account-support.ts';

const PASSWORD = 'server clients password';

describe('OAuth clients in the server console', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let docs: HttpsFixture;
  let root: Person;
  const people: Person[] = [];

  before(async () => {
    server = await startTestServer({ cimd: { allowPrivateAddresses: true } });
    docs = await startHttpsFixture();
    browser = await launchChromium();
    await server.store.users.create({ email: 'root@example.com', passwordHash: await hashPassword(PASSWORD), isAdmin: true });
    await server.addUser('mia@example.com', PASSWORD);
    root = await personSignedIn(browser, server, 'root@example.com', PASSWORD);
    people.push(root);
  });
  after(async () => {
    await browser?.close();
    await docs?.close();
    await server?.stop();
  });

  const token = (client: ClientCredentials, params: Record<string, string> = {}) => postOAuthForm(endpoint(server, 'token'), { grant_type: 'client_credentials', ...params }, client);
  const row = (page: Page, clientId: string) => page.locator(`[data-testid="client"][data-client="${clientId}"]`);

  /** Fill and send the registration form; the page's status. */
  async function register(page: Page, fields: { name: string; method: string; jwks?: string; redirects?: string; grants: string[]; apps?: string[]; scopes?: string }): Promise<number> {
    await page.goto(`${server.url}/server/clients`);
    await page.locator('#client-name').fill(fields.name);
    await page.locator('#client-method').selectOption(fields.method);
    if (fields.jwks !== undefined) await page.locator('#client-jwks').fill(fields.jwks);
    await page.locator('#client-redirects').fill(fields.redirects ?? '');
    for (const box of await page.locator('input[name^=grant]').all()) await box.setChecked(fields.grants.includes((await box.getAttribute('value'))!));
    for (const box of await page.locator('input[name^=application]').all()) await box.setChecked((fields.apps ?? []).includes((await box.getAttribute('value'))!));
    if (fields.scopes !== undefined) await page.locator('#client-scopes').fill(fields.scopes);
    return press(page, hook(page, 'register'));
  }

  it('lists dynamically registered and metadata-document clients with their kind, last use and people connected', async () => {
    const dynamic = await registerPublic(server, { client_name: 'Team Notes' });
    assertTokens(await redeemCode(server, dynamic, await obtainCode(server, dynamic, { email: 'mia@example.com', password: PASSWORD, scope: 'demo:read' })));
    // A metadata-document client is never stored: it is known from the grant a person gave it.
    const mia = (await server.store.users.findByEmail('mia@example.com'))!;
    const documentId = docs.url('/tools/client.json');
    await server.store.grantContexts.put({ grantId: `grant-${randomUUID()}`, userId: mia.id, clientId: documentId, orgId: server.org.id, createdAt: Math.floor(Date.now() / 1000) });

    const { page } = root;
    await page.goto(`${server.url}/server`);
    assert.equal(await press(page, page.locator('[data-testid="server-nav"] a', { hasText: 'OAuth clients' })), 200);
    assert.equal(await row(page, dynamic.client_id).getAttribute('data-kind'), 'dynamic');
    assert.equal(await row(page, dynamic.client_id).getAttribute('data-people'), '1');
    assert.match(await row(page, dynamic.client_id).innerText(), /UTC/, 'last use shown');
    assert.equal(await row(page, documentId).getAttribute('data-kind'), 'metadata-document');
    assert.equal(await row(page, documentId).getAttribute('data-people'), '1');
    await checkPage(page, 'server-clients');
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page, 'server-clients-390');
    await page.setViewportSize({ width: 1280, height: 800 });

    await press(page, row(page, dynamic.client_id).locator('a'));
    assert.equal((await hook(page, 'detail-kind').innerText()).trim(), 'dynamically registered');
    assert.equal((await hook(page, 'detail-people').innerText()).trim(), '1');
    await checkPage(page, 'server-client');
    await page.goBack();
    assert.equal(await press(page, row(page, documentId).locator('a')), 200);
    assert.equal((await hook(page, 'detail-kind').innerText()).trim(), 'metadata document');
    assert.equal(await hook(page, 'delete-client').count(), 0, 'nothing stored to delete');
  });

  it('registers a confidential client: the secret is shown once and gets a real token, limited to the application and scopes ticked', async () => {
    const { page } = root;
    const other = await adminClient(server, 'api-root@example.com');
    assert.equal((await other.call('POST', '/applications', httpDefinition('notes', 'http://127.0.0.1:9/mcp'))).status, 201);
    const status = await register(page, { name: 'Nightly job', method: 'client_secret_basic', grants: ['client_credentials'], apps: [server.mcpUrl], scopes: 'demo:read' });
    assert.equal(status, 200);
    assert.equal(await codeOf(page, 'notice'), 'registered');
    const secret = (await hook(page, 'client-secret').innerText()).trim();
    const clientId = (await hook(page, 'detail-client-id').innerText()).trim();
    await checkPage(page, 'server-client-registered');

    const job = { client_id: clientId, client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' };
    const res = await token(job, { scope: 'demo:read demo:write' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scope, 'demo:read', 'no more than the scopes allowed');
    assert.equal(decodeJwt(String(res.body.access_token)).aud, server.mcpUrl);
    // The application not ticked is refused (RFC 8707 §2: invalid_target).
    const notesUrl = String((await other.call('GET', '/applications/notes')).body.url);
    assertOAuthError(await token(job, { resource: notesUrl }), 'invalid_target', 400);
    assert.notEqual(String((await server.store.clients.find(clientId))!.metadata.client_secret), secret, 'only a hash is stored');

    await page.goto(`${server.url}/server/clients/${clientId}`);
    assert.equal(await hook(page, 'detail-client-id').count(), 1);
    assert.equal(await hook(page, 'client-secret').count(), 0, 'the secret is not shown again');
  });

  it('registers a private_key_jwt client with a JWKS URL, which authenticates at the token endpoint with a signed assertion', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    docs.route('/job/jwks.json', { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'job-1', alg: 'ES256', use: 'sig' }] });
    const { page } = root;
    assert.equal(await register(page, { name: 'Signed job', method: 'private_key_jwt', jwks: docs.url('/job/jwks.json'), grants: ['client_credentials'] }), 200);
    assert.equal(await hook(page, 'client-secret').count(), 0, 'no secret for private_key_jwt');
    assert.equal(await hook(page, 'rotate-secret').count(), 0);
    const clientId = (await hook(page, 'detail-client-id').innerText()).trim();
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'job-1', typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(endpoint(server, 'token'))
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(pair.privateKey);
    const res = await postOAuthForm(endpoint(server, 'token'), {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(decodeJwt(String(res.body.access_token)).client_id, clientId);
  });

  it('shows each problem beside its field and keeps what was typed', async () => {
    const { page } = root;
    const status = await register(page, { name: 'Broken', method: 'private_key_jwt', redirects: 'http://app.example.com/cb', grants: ['authorization_code'] });
    assert.equal(status, 400);
    const fields = await page.locator('[data-testid="field-error"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-field')));
    assert.deepEqual(fields.sort(), ['jwksUri', 'redirectUris']);
    assert.equal(await page.locator('#client-name').inputValue(), 'Broken');
    assert.equal(await page.locator('#client-jwks').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#client-name').getAttribute('aria-invalid'), null);
    assert.equal(await page.locator('#client-redirects').getAttribute('aria-invalid'), 'true');
    await checkPage(page, 'server-clients-errors');
    // A public client may not use client_credentials (RFC 6749 §4.4).
    assert.equal(await register(page, { name: 'Public job', method: 'none', grants: ['client_credentials'] }), 400);
    assert.deepEqual(await page.locator('[data-testid="field-error"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-field'))), ['tokenEndpointAuthMethod']);
  });

  it('rotates the secret after a confirmation: the old one is refused at once, the new one works', async () => {
    const { page } = root;
    assert.equal(await register(page, { name: 'Rotating job', method: 'client_secret_post', grants: ['client_credentials'] }), 200);
    const clientId = (await hook(page, 'detail-client-id').innerText()).trim();
    const old = { client_id: clientId, client_secret: (await hook(page, 'client-secret').innerText()).trim(), token_endpoint_auth_method: 'client_secret_post' };
    assert.equal((await token(old)).status, 200);

    assert.equal(await press(page, hook(page, 'rotate-secret')), 200);
    assert.ok(await hook(page, 'confirm-title').isVisible(), 'asked first');
    await checkPage(page, 'server-client-rotate-confirm');
    assert.equal((await token(old)).status, 200, 'nothing changed before the confirmation');
    assert.equal(await press(page, hook(page, 'confirm')), 200);
    assert.equal(await codeOf(page, 'notice'), 'rotated');
    const fresh = { ...old, client_secret: (await hook(page, 'client-secret').innerText()).trim() };
    assert.notEqual(fresh.client_secret, old.client_secret);
    assertOAuthError(await token(old), 'invalid_client', 401);
    assert.equal((await token(fresh)).status, 200);
  });

  it('deletes a client after a confirmation (cancel keeps it); it can no longer authenticate', async () => {
    const { page } = root;
    assert.equal(await register(page, { name: 'Doomed job', method: 'client_secret_basic', grants: ['client_credentials'] }), 200);
    const clientId = (await hook(page, 'detail-client-id').innerText()).trim();
    const job = { client_id: clientId, client_secret: (await hook(page, 'client-secret').innerText()).trim() };
    await press(page, hook(page, 'delete-client'));
    await press(page, hook(page, 'cancel'));
    assert.ok(await server.store.clients.find(clientId), 'cancel kept it');
    await press(page, hook(page, 'delete-client'));
    assert.equal(await press(page, hook(page, 'confirm')), 200);
    assert.equal(await codeOf(page, 'notice'), 'deleted');
    assert.equal(await row(page, clientId).count(), 0);
    assertOAuthError(await token(job), 'invalid_client', 401);
    assertClean(...people);
  });

  it('the admin API registers, reads, rotates and removes through the same service', async () => {
    const api = await adminClient(server, 'api-root@example.com');
    const created = await api.call('POST', '/clients', { name: 'API job', tokenEndpointAuthMethod: 'client_secret_post', grants: ['client_credentials'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = String(created.body.clientId);
    const job = { client_id: id, client_secret: String(created.body.clientSecret), token_endpoint_auth_method: 'client_secret_post' };
    assert.equal((await token(job)).status, 200);
    const read = await api.call('GET', `/clients/${id}`);
    assert.equal(read.body.kind, 'pre-registered');
    assert.equal(read.body.clientSecret, undefined);
    assert.ok(!JSON.stringify((await api.call('GET', '/clients')).body).includes('hmac:'), 'no secret hash in the list');
    const refused = await api.call('POST', '/clients', { name: 'x', redirectUris: ['http://evil.example/cb'] });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_request');
    const rotated = await api.call('POST', `/clients/${id}/rotate-secret`);
    assertOAuthError(await token(job), 'invalid_client', 401);
    assert.equal((await token({ ...job, client_secret: String(rotated.body.clientSecret) })).status, 200);
    assert.equal((await api.call('DELETE', `/clients/${id}`)).status, 204);
    assert.equal((await api.call('GET', `/clients/${id}`)).status, 404);
    // Each change is on the record, with who made it.
    const records = await server.store.audit.list({ clientId: id, kindPrefix: 'client.', order: 'asc' });
    assert.deepEqual(records.map((r) => [r.kind, r.actor]), [['client.registered', api.user.id], ['client.secret_rotated', api.user.id], ['client.removed', api.user.id]]);
  });

  it('a person signing in through a client limited to some scopes gets no more than those', async () => {
    const api = await adminClient(server, 'api-root@example.com');
    const made = await api.call('POST', '/clients', { name: 'Reader app', redirectUris: [LOOPBACK_REDIRECT], applications: [server.mcpUrl], scopes: ['demo:read'] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const reader = { client_id: String(made.body.clientId), redirect_uris: [LOOPBACK_REDIRECT] };
    const code = await obtainCode(server, reader, { email: 'mia@example.com', password: PASSWORD, scope: 'demo:read demo:write' });
    const tokens = assertTokens(await redeemCode(server, reader, code));
    assert.equal(decodeJwt(tokens.access_token).scope, 'demo:read');
  });

  it('over HTTP: a non-administrator gets 403, a form without its CSRF token or without confirmation changes nothing', async () => {
    const member = await httpSignedIn(server, 'mia@example.com', PASSWORD);
    assert.equal((await member.request(`${server.url}/server/clients`)).status, 403);
    const fields = { name: 'Sneaky', tokenEndpointAuthMethod: 'client_secret_basic', grant2: 'client_credentials' };
    const sneaky = await postForm(member, server, '/server/clients', fields);
    assert.equal(sneaky.status, 403);
    assert.equal(htmlCode(sneaky.body), 'forbidden');
    const admin = await httpSignedIn(server, 'root@example.com', PASSWORD);
    const noCsrf = await postForm(admin, server, '/server/clients', fields);
    assert.equal(htmlCode(noCsrf.body), 'csrf_failed');
    assert.ok(!(await server.store.clients.list()).some((c) => c.metadata.client_name === 'Sneaky'));
    // A delete without `confirm=yes` answers the confirmation page and deletes nothing.
    const target = (await server.store.clients.list()).find((c) => c.kind === 'static')!;
    const detail = await admin.request(`${server.url}/server/clients/${encodeURIComponent(target.clientId)}`);
    const asked = await postForm(admin, server, `/server/clients/${encodeURIComponent(target.clientId)}/delete`, {}, detail);
    assert.equal(asked.status, 200);
    assert.match(asked.body, /data-testid="confirm-form"/);
    assert.ok(await server.store.clients.find(target.clientId), 'still there');
  });
});
