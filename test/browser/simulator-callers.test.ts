/**
 * The policy simulator for callers other than a person, and refused requests opened from the audit
 * trail, in Chromium against the real gateway:
 * - an API key picked by its id or prefix (never its secret), and a registered client acting for
 *   itself (client_credentials): for an allowed call and for several denials — a scope the caller
 *   lacks, a revoked key, a key limited to another application — the simulator answers what a
 *   real gateway call with the real key or client token answers (and the code the gateway audits);
 * - a refused record of an organization's trail links to its explanation: code, rule, the denial
 *   reference's entry, the caller, the tool; a server administrator's explanation links to the
 *   simulator prefilled, which reaches the same decision. Another organization's owner cannot
 *   open the record (404);
 * - the token explainer checking a bad token is not a client failing to connect: the connection
 *   doctor records nothing for it, while the same token sent to the gateway is recorded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from '../../src/api-keys/format.ts';
import { hashPassword, randomToken } from '../../src/core/crypto.ts';
import type { AuditEvent } from '../../src/store/audit.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { addStaticClient, endpoint, postForm } from '../helpers/authz.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { appUrl, callTool, exchange, httpApp, startFixtureMcp, tokenFor, waitFor, type FixtureMcp } from '../helpers/gateway.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bearerParams } from '../guard/sign-in.ts';
import { assertClean, hook, pepperOf, personSignedIn, press, type Person } from './account-support.ts';

const PASSWORD = 'simulator callers password';

/** What a real gateway call answers: `allow`, or the code on the wire (a challenge's error, or data.code). */
async function gatewayAnswer(server: TestServer, slug: string, token: string, tool: string): Promise<string> {
  const ex = await exchange(appUrl(server, slug), callTool(tool, {}, 3), { token, protocolVersion: '2025-06-18' });
  if (ex.status === 401 || ex.status === 403) return bearerParams(ex.headers.get('www-authenticate')).error!;
  const code = ex.messages[0]?.error?.data?.code;
  return typeof code === 'string' ? code : 'allow';
}

describe('the simulator for keys and clients, and refusals opened from the audit trail', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let fixture: FixtureMcp;
  let browser: Browser;
  let root: Person;
  const people: Person[] = [];
  const keys: Record<string, { id: string; secret: string; prefix: string }> = {};

  async function makeKey(name: string, applications: string[] | null): Promise<{ id: string; secret: string; prefix: string }> {
    const secret = generateApiKey();
    const id = `key_${randomToken(12)}`;
    const prefix = apiKeyDisplayPrefix(secret);
    const at = Math.floor(Date.now() / 1000) - 1;
    await server.store.apiKeys.create({ id, orgId: server.org.id, userId: server.user.id, name, prefix, hash: hashApiKey(pepperOf(server), secret), applications, resources: null, permissions: { mode: 'simple', level: 'read' }, createdAt: at, expiresAt: null });
    return { id, secret, prefix };
  }

  before(async () => {
    fixture = await startFixtureMcp();
    server = await startTestServer({ applications: [httpApp('notes', fixture.url), httpApp('other', fixture.url)] } as never);
    browser = await launchChromium();
    await server.store.users.create({ email: 'root@example.com', passwordHash: await hashPassword(PASSWORD), isAdmin: true });
    for (const slug of ['notes', 'other']) await waitFor(async () => (await server.store.tools.list(slug)).length >= 6, `${slug}'s tools`);
    keys.reader = await makeKey('Reader', null);
    keys.elsewhere = await makeKey('Other only', ['other']);
    keys.revoked = await makeKey('Gone', null);
    assert.equal(await server.store.apiKeys.revoke(keys.revoked.id, server.user.id, Math.floor(Date.now() / 1000)), true);
    root = await personSignedIn(browser, server, 'root@example.com', PASSWORD);
    people.push(root);
  });
  after(async () => {
    assertClean(...people);
    await browser?.close();
    await server?.stop();
    await fixture?.stop();
  });

  async function simulate(fields: Record<string, string>): Promise<{ allow: boolean; code: string | null; rule: string | null; stage: string | null }> {
    const { page } = root;
    await page.goto(`${server.url}/server/simulator`);
    await page.locator(`#as-${fields.as}`).check();
    for (const name of ['key', 'client', 'scopes', 'tool'] as const) if (fields[name] !== undefined) await page.locator(`#${name}`).fill(fields[name]);
    await page.locator('#app').selectOption(fields.app!);
    await page.locator('#ip').fill('127.0.0.1');
    assert.equal(await press(page, page.getByRole('button', { name: 'Simulate' })), 200);
    const d = hook(page, 'decision');
    return { allow: (await d.getAttribute('data-allow')) === 'true', code: await d.getAttribute('data-code'), rule: await d.getAttribute('data-rule'), stage: await d.getAttribute('data-stage') };
  }

  /**
   * The gateway's audit record of the newest call to `notes` (flushed first; the tests call one at a
   * time). A credential refused before it is known has no client in its record, so it is found by application.
   */
  const newestCall = async () => (await server.store.audit.list({ kind: 'gateway.call', app: 'notes', order: 'desc', limit: 1 }))[0];
  async function auditedCall(after: number): Promise<AuditEvent> {
    return waitFor(async () => {
      await server.audit.flush();
      const record = await newestCall();
      return record && record.seq > after ? record : undefined;
    }, 'the audit record of the call');
  }

  const keyCases = [
    { what: 'an allowed read, key picked by its prefix', key: 'reader', by: 'prefix', tool: 'echo', stage: null },
    { what: 'a tool beyond the key’s read level', key: 'reader', by: 'id', tool: 'save', stage: 'policy' },
    { what: 'a revoked key', key: 'revoked', by: 'id', tool: 'echo', stage: 'authentication' },
    { what: 'a key limited to another application', key: 'elsewhere', by: 'id', tool: 'echo', stage: 'authentication' },
  ] as const;

  for (const c of keyCases) {
    it(`an API key, ${c.what}: the simulator answers what the gateway answers`, async () => {
      const key = keys[c.key]!;
      const simulated = await simulate({ as: 'key', key: c.by === 'id' ? key.id : key.prefix, app: 'notes', tool: c.tool });
      const mark = (await newestCall())?.seq ?? 0;
      const wire = await gatewayAnswer(server, 'notes', key.secret, c.tool);
      const audited = await auditedCall(mark);
      assert.equal(simulated.stage, c.stage);
      if (c.stage === null) {
        assert.equal(wire, 'allow');
        assert.equal(simulated.allow, true);
        return;
      }
      // The gateway audits the finer code and rule; the wire carries RFC 6750's (invalid_token for every credential refusal).
      assert.equal(simulated.code, audited.reason);
      assert.equal(simulated.rule, audited.details?.rule);
      assert.equal(wire, c.stage === 'authentication' ? 'invalid_token' : simulated.code);
    });
  }

  it('a client acting for itself: allowed within its allowance, denied beyond it, as the gateway decides', async () => {
    const job = await addStaticClient(server, { client_name: 'Nightly job', portcullis_scopes: ['notes:read'] });
    const issued = await postForm(endpoint(server, 'token'), { grant_type: 'client_credentials', resource: appUrl(server, 'notes'), scope: 'notes:read notes:write' }, job);
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const token = String(issued.body.access_token);
    for (const tool of ['echo', 'save']) {
      const simulated = await simulate({ as: 'client', client: job.client_id, scopes: 'notes:read notes:write', app: 'notes', tool });
      assert.equal(simulated.allow ? 'allow' : simulated.code, await gatewayAnswer(server, 'notes', token, tool), tool);
    }
    assert.equal((await simulate({ as: 'client', client: job.client_id, scopes: '', app: 'notes', tool: 'save' })).rule, 'required-scope', 'empty: all it is allowed, still not notes:write');
    await checkPage(root.page, 'server-simulator-client');
  });

  it('a refused request opens from the org trail, explained; the server administrator re-asks the simulator', async () => {
    const reader = keys.reader!;
    const mark = (await newestCall())?.seq ?? 0;
    assert.equal(await gatewayAnswer(server, 'notes', reader.secret, 'save'), 'insufficient_scope');
    const record = await auditedCall(mark);
    assert.equal(record.decision, 'deny');
    const ada = await personSignedIn(browser, server, server.user.email, server.password);
    people.push(ada);
    await ada.page.goto(`${server.url}/orgs/acme/audit`);
    await press(ada.page, ada.page.locator(`[data-testid="audit-record"][data-seq="${record.seq}"] [data-testid="explain-record"]`));
    assert.equal(new URL(ada.page.url()).pathname, `/orgs/acme/audit/${record.seq}`);
    const explained = hook(ada.page, 'explained-record');
    assert.equal(await explained.getAttribute('data-code'), 'insufficient_scope');
    assert.equal(await explained.getAttribute('data-rule'), 'required-scope');
    assert.ok((await hook(ada.page, 'explained-key').textContent())!.includes('Reader'));
    assert.ok((await hook(ada.page, 'explained-tool').textContent())!.includes('save'));
    assert.equal(await hook(ada.page, 'explained-reference').count(), 1);
    assert.equal(await hook(ada.page, 'explained-simulate').count(), 0, 'the simulator is for server administrators');
    await checkPage(ada.page, 'org-audit-record');
    await ada.page.setViewportSize({ width: 390, height: 844 });
    await checkPage(ada.page, 'org-audit-record-phone');

    const { page } = root;
    assert.equal((await page.goto(`${server.url}/server/audit/${record.seq}`))!.status(), 200);
    await checkPage(page, 'server-audit-record');
    await press(page, hook(page, 'explained-simulate'));
    assert.equal(await page.locator('#as-key').isChecked(), true);
    assert.equal(await page.locator('#key').inputValue(), reader.id);
    assert.equal(await page.locator('#tool').inputValue(), 'save');
    await press(page, page.getByRole('button', { name: 'Simulate' }));
    assert.equal(await hook(page, 'decision').getAttribute('data-code'), record.reason);
    assert.equal(await hook(page, 'decision').getAttribute('data-rule'), record.details?.rule);
  });

  it("another organization's owner cannot open the record; a signed-in non-administrator cannot open the server's", async () => {
    const record = (await server.store.audit.list({ kind: 'gateway.call', app: 'notes', decision: 'deny', orgId: server.org.id, order: 'desc', limit: 1 }))[0]!;
    const gus = await server.addUser('gus@example.com', PASSWORD, { role: 'member' });
    const globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    await server.store.orgs.addMember(globex.id, gus.id, 'owner', Math.floor(Date.now() / 1000));
    const person = await personSignedIn(browser, server, 'gus@example.com', PASSWORD);
    people.push(person);
    assert.equal((await person.page.goto(`${server.url}/orgs/globex/audit/${record.seq}`))!.status(), 404);
    assert.equal((await person.page.goto(`${server.url}/orgs/acme/audit/${record.seq}`))!.status(), 403, 'a member of acme, not its admin');
    assert.equal((await person.page.goto(`${server.url}/server/audit/${record.seq}`))!.status(), 403);
  });

  it('the token explainer does not feed the connection doctor; the same bad token at the gateway does', async () => {
    const token = (await tokenFor(server, 'notes', { scope: 'notes:read' })).access_token;
    const clientId = String(decodeJwt(token).client_id);
    const tampered = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    const since = Math.floor(Date.now() / 1000) - 5;
    const refusals = async () => {
      await server.doctor.flush();
      return (await server.store.connectionEvents.forClient(clientId, since)).filter((e) => e.kind === 'gateway' && !e.ok);
    };
    const { page } = root;
    await page.goto(`${server.url}/server/tokens`);
    await page.locator('#token').fill(tampered);
    await press(page, page.getByRole('button', { name: 'Explain' }));
    assert.equal(await hook(page, 'verdict').getAttribute('data-code'), 'invalid_token');
    assert.deepEqual(await refusals(), [], 'an administrator checking a token is not a client failing');
    assert.equal(await gatewayAnswer(server, 'notes', tampered, 'echo'), 'invalid_token');
    assert.equal((await refusals()).length, 1, 'a client sending it is');
  });
});
