/**
 * The policy simulator in Chromium, against the real gateway: for several configurations — a
 * scope the token lacks, a step-up tool, an IP allow-list, a closed time window, a tool not yet
 * approved, an argument naming a resource outside the caller's reach — an administrator simulates ada's call and the answer (allow, or the denial code) is
 * the one a real gateway call with ada's token answers. Bad arguments are refused beside the form.
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
import { assertClean, codeOf, hook, personSignedIn, press, type Person } from './account-support.ts';

const PASSWORD = 'policy simulator password';

/** What a real gateway call answers: `allow`, or the code on the wire (a challenge's error, or data.code). */
async function gatewayAnswer(server: TestServer, slug: string, token: string, tool: string, args: Record<string, unknown> = {}): Promise<string> {
  const ex = await exchange(appUrl(server, slug), callTool(tool, args, 3), { token, protocolVersion: '2025-06-18' });
  if (ex.status === 401 || ex.status === 403) {
    const error = bearerParams(ex.headers.get('www-authenticate')).error!;
    return error === 'insufficient_user_authentication' ? 'step_up_required' : error;
  }
  const code = ex.messages[0]?.error?.data?.code;
  return typeof code === 'string' ? code : 'allow';
}

/** A closed window: two to three hours from now, UTC. */
function closedWindow() {
  const hour = (new Date().getUTCHours() + 2) % 24;
  const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
  return { from: hh(hour), to: hh(hour + 1), timeZone: 'UTC' };
}

describe('the policy simulator in a browser', { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let fixture: FixtureMcp;
  let browser: Browser;
  let root: Person;
  const projects: Record<string, string> = {};

  before(async () => {
    fixture = await startFixtureMcp();
    server = await startTestServer({
      applications: [
        httpApp('notes', fixture.url, { tools: { purge: { stepUp: { maxAge: 300 } } } }),
        httpApp('locked', fixture.url, { ipAllow: ['10.0.0.0/8'] }),
        httpApp('nights', fixture.url, { timeWindows: [closedWindow()] }),
        httpApp('review', fixture.url, { autoApprove: false }),
        httpApp('files', fixture.url, { tools: { echo: { arguments: { projectId: 'project' } } } }),
      ],
    } as never);
    // Bob edits the Engineering workspace (and its Alpha project), and has nothing in Finance (its Budget project).
    const at = Math.floor(Date.now() / 1000);
    const make = (kind: 'workspace' | 'project', parentId: string | null, name: string) => server.store.orgs.createResource({ orgId: server.org.id, kind, parentId, name, at });
    const engineering = await make('workspace', null, 'Engineering');
    projects.alpha = (await make('project', engineering.id, 'Alpha')).id;
    projects.budget = (await make('project', (await make('workspace', null, 'Finance')).id, 'Budget')).id;
    const bob = await server.addUser('bob@example.com', undefined, { role: 'member' });
    await server.store.orgs.setResourceMember(engineering.id, bob.id, 'editor', at);
    browser = await launchChromium();
    await server.store.users.create({ email: 'root@example.com', passwordHash: await hashPassword(PASSWORD), isAdmin: true });
    for (const slug of ['notes', 'locked', 'nights', 'review', 'files']) await waitFor(async () => (await server.store.tools.list(slug)).length >= 6, `${slug}'s tools`);
    root = await personSignedIn(browser, server, 'root@example.com', PASSWORD);
  });
  after(async () => {
    assertClean(root);
    await browser?.close();
    await server?.stop();
    await fixture?.stop();
  });

  async function simulate(fields: { app: string; tool: string; scopes: string; args?: string; email?: string }): Promise<{ allow: boolean; code: string | null; rule: string | null }> {
    const { page } = root;
    await page.goto(`${server.url}/server/simulator`);
    await page.locator('#email').fill(fields.email ?? server.user.email);
    await page.locator('#app').selectOption(fields.app);
    await page.locator('#tool').fill(fields.tool);
    await page.locator('#scopes').fill(fields.scopes);
    await page.locator('#ip').fill('127.0.0.1');
    if (fields.args) await page.locator('#args').fill(fields.args);
    await press(page, page.getByRole('button', { name: 'Simulate' }));
    const decision = hook(page, 'decision');
    return { allow: (await decision.getAttribute('data-allow')) === 'true', code: await decision.getAttribute('data-code'), rule: await decision.getAttribute('data-rule') };
  }

  const cases = [
    { what: 'a tool within the token’s scopes', app: 'notes', tool: 'echo', scope: 'notes:read', rule: null },
    { what: 'a scope the token lacks', app: 'notes', tool: 'save', scope: 'notes:read', rule: 'required-scope' },
    { what: 'a step-up tool without the step-up scope', app: 'notes', tool: 'purge', scope: 'notes:read notes:write notes:delete', rule: 'step-up' },
    { what: 'an address outside the allow-list', app: 'locked', tool: 'echo', scope: 'locked:read', rule: 'ip-allow' },
    { what: 'outside the time window', app: 'nights', tool: 'echo', scope: 'nights:read', rule: 'time-window' },
    { what: 'a tool not yet approved', app: 'review', tool: 'echo', scope: 'review:read', rule: 'tool-review' },
  ];

  for (const c of cases) {
    it(`${c.what}: the simulator answers what the gateway answers`, async () => {
      const simulated = await simulate({ app: c.app, tool: c.tool, scopes: c.scope });
      const token = (await tokenFor(server, c.app, { scope: c.scope })).access_token;
      const real = await gatewayAnswer(server, c.app, token, c.tool);
      assert.equal(simulated.allow ? 'allow' : simulated.code, real, `${c.app}/${c.tool}`);
      assert.equal(simulated.rule, c.rule);
    });
  }

  for (const [project, rule] of [['alpha', null], ['budget', 'resource-access']] as const) {
    it(`an argument naming a resource (${project}): the simulator answers what the gateway answers`, async () => {
      const args = { projectId: projects[project]! };
      const simulated = await simulate({ app: 'files', tool: 'echo', scopes: 'files:read', args: JSON.stringify(args), email: 'bob@example.com' });
      const token = (await tokenFor(server, 'files', { scope: 'files:read', email: 'bob@example.com' })).access_token;
      assert.equal(simulated.allow ? 'allow' : simulated.code, await gatewayAnswer(server, 'files', token, 'echo', args));
      assert.equal(simulated.rule, rule);
    });
  }

  it('shows the decision readably (desktop and phone), and refuses arguments that are no JSON object', async () => {
    const { page } = root;
    await simulate({ app: 'notes', tool: 'save', scopes: 'notes:read' });
    assert.ok((await hook(page, 'decision-why').textContent())!.includes('notes:write'), 'why: the scope needed');
    await checkPage(page, 'server-simulator');
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page, 'server-simulator-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${server.url}/server/simulator`);
    await page.locator('#email').fill(server.user.email);
    await page.locator('#tool').fill('echo');
    await page.locator('#args').fill('[1, 2]');
    assert.equal(await press(page, page.getByRole('button', { name: 'Simulate' })), 400);
    assert.equal(await codeOf(page, 'problem'), 'invalid_request');
  });
});
