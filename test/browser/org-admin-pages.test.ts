/**
 * An organization's admin pages in a real browser, used by its owner and an admin: members
 * (change a role, remove someone — their app stops at the gateway —, make a one-time password
 * reset link), invitations (the link shown once, revoked), the workspace → project → folder tree
 * with roles, every key and every connected app of the org, revoked on the spot. A member gets
 * 403, anyone else 404, the same for an org that does not exist. Then the forms attacked over
 * HTTP: a member's or an outsider's POST, no CSRF token, ids from another organization.
 */
import type { Org, OrgResource } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { verifyStore } from '../../src/audit/verify.ts';
import { hashPassword } from '../../src/core/crypto.ts';
import { identityDeps } from '../../src/identity/context.ts';
import { issueApiKey } from '../../src/api-keys/service.ts';
import { assertTokens, mcpStatus, obtainCode, redeemCode, registerPublic, type RegisteredClient, type TokenSet } from '../helpers/authz.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { assertClean, codeOf, hook, htmlCode, httpSignedIn, pepperOf, personSignedIn, postForm, press, signInAt, type Person } from './account-support.ts';

const PASSWORD = 'org admin pages password';

async function connect(server: TestServer, client: RegisteredClient, email: string): Promise<TokenSet> {
  const code = await obtainCode(server, client, { email, password: PASSWORD, scope: 'demo:read' });
  return assertTokens(await redeemCode(server, client, code));
}

/** Within a second, the gateway refuses `token` (polled). */
async function refusedWithinASecond(server: TestServer, token: string): Promise<void> {
  const start = Date.now();
  let status = await mcpStatus(server, token);
  while (status !== 401 && Date.now() - start < 1000) status = await mcpStatus(server, token);
  assert.equal(status, 401, 'refused at the gateway within a second');
}

function keyDeps(server: TestServer) {
  return identityDeps({
    store: server.store,
    pepper: pepperOf(server),
    now: () => Math.floor(Date.now() / 1000),
    revokeGrant: async () => {},
    revocations: { apply: () => {} },
    config: server.config,
  });
}

describe("an organization's admin pages in a browser", { skip: chromiumSkip() }, () => {
  let server: TestServer;
  let browser: Browser;
  let client: RegisteredClient;
  let globex: Org;
  let mia: User;
  let noor: User;
  let adam: Person;
  const people: Person[] = [];
  const row = (page: Person['page'], testid: string, attr: string, value: string) => page.locator(`[data-testid="${testid}"][${attr}="${value}"]`);

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    await server.addUser('adam@example.com', PASSWORD, { role: 'admin' });
    mia = await server.addUser('mia@example.com', PASSWORD, { role: 'member' });
    noor = await server.addUser('noor@example.com', PASSWORD, { role: 'admin' });
    globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    await server.addUser('gina@example.com', PASSWORD, { role: 'owner', org: globex });
    const sam = await server.addUser('sam@example.com', PASSWORD, { role: 'member' });
    await server.store.orgs.addMember(globex.id, sam.id, 'member', 1);
    client = await registerPublic(server, { client_name: 'Team Notes' });
    adam = await personSignedIn(browser, server, 'adam@example.com', PASSWORD);
    people.push(adam);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a member gets 403, an outsider 404 — the same 404 as an org that does not exist', async () => {
    const member = await personSignedIn(browser, server, 'mia@example.com', PASSWORD);
    people.push(member);
    assert.equal((await member.page.goto(`${server.url}/orgs/acme/members`))?.status(), 403);
    assert.equal(await codeOf(member.page, 'error'), 'forbidden');
    assert.equal(await member.page.locator('[data-testid="nav-org"]').count(), 0, 'no admin link for a member');
    await checkPage(member.page, 'org-forbidden', { narrow: true });
    const outsider = await personSignedIn(browser, server, 'gina@example.com', PASSWORD);
    people.push(outsider);
    for (const path of ['/orgs/acme/members', '/orgs/acme/keys', '/orgs/no-such-org/members']) {
      assert.equal((await outsider.page.goto(`${server.url}${path}`))?.status(), 404, path);
      assert.equal(await codeOf(outsider.page, 'error'), 'not_found');
    }
    await adam.page.goto(`${server.url}/`);
    await press(adam.page, adam.page.locator('[data-testid="nav-org"]', { hasText: 'Acme' }));
    assert.equal(new URL(adam.page.url()).pathname, '/orgs/acme/members');
  });

  it('members: an admin changes a role, may not touch the owner, and removing someone stops their app at once', async () => {
    const { page } = adam;
    const noorToken = await connect(server, client, 'noor@example.com');
    await page.goto(`${server.url}/orgs/acme/members`);
    const noorRow = row(page, 'member', 'data-user', noor.id);
    await noorRow.locator('select[name=role]').selectOption('member');
    assert.equal(await press(page, noorRow.locator('[data-testid="set-role"]')), 200);
    assert.equal(await codeOf(page, 'notice'), 'role_changed');
    assert.equal(await row(page, 'member', 'data-user', noor.id).getAttribute('data-role'), 'member');
    await checkPage(page, 'org-members', { narrow: true });

    const owner = row(page, 'member', 'data-user', server.user.id);
    await owner.locator('select[name=role]').selectOption('member');
    assert.equal(await press(page, owner.locator('[data-testid="set-role"]')), 403);
    assert.equal(await codeOf(page, 'error'), 'forbidden');
    assert.equal((await server.store.orgs.member(server.org.id, server.user.id))?.role, 'owner');

    await page.goto(`${server.url}/orgs/acme/members`);
    assert.equal(await mcpStatus(server, noorToken.access_token), 200);
    // The first click only asks (console/confirm.ts); the token still works until confirmed.
    assert.equal(await press(page, row(page, 'member', 'data-user', noor.id).locator('[data-testid="remove-member"]')), 200);
    assert.equal(await mcpStatus(server, noorToken.access_token), 200);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/members/remove')),
      page.locator('[data-testid="confirm"]').click(),
    ]);
    assert.equal(response.status(), 303);
    await refusedWithinASecond(server, noorToken.access_token);
    await page.waitForURL((url) => url.searchParams.get('done') === 'removed');
    assert.equal(await row(page, 'member', 'data-user', noor.id).count(), 0);
  });

  it('the last owner cannot demote themselves: 409 last_owner', async () => {
    const ada = await personSignedIn(browser, server, server.user.email, TEST_PASSWORD);
    people.push(ada);
    await ada.page.goto(`${server.url}/orgs/acme/members`);
    const self = row(ada.page, 'member', 'data-user', server.user.id);
    await self.locator('select[name=role]').selectOption('admin');
    assert.equal(await press(ada.page, self.locator('[data-testid="set-role"]')), 409);
    assert.equal(await codeOf(ada.page, 'error'), 'last_owner');
  });

  it('a reset link for a member is shown once and works; none for the owner or someone who also belongs elsewhere', async () => {
    const { page } = adam;
    await page.goto(`${server.url}/orgs/acme/members`);
    assert.equal(await press(page, row(page, 'member', 'data-user', mia.id).locator('[data-testid="reset-link"]')), 200);
    const link = (await hook(page, 'reset-link-value').innerText()).trim();
    assert.match(link, /\/reset-password\?token=/);
    await checkPage(page, 'org-member-reset-link');
    await page.goto(`${server.url}/orgs/acme/members`);
    assert.equal(await hook(page, 'reset-link-value').count(), 0, 'not shown again');

    const context = await browser.newContext();
    try {
      const miaPage = await context.newPage();
      await miaPage.goto(link);
      await miaPage.locator('#password').fill('mia chose this one');
      await miaPage.locator('#confirm').fill('mia chose this one');
      assert.equal(await press(miaPage, miaPage.getByRole('button', { name: 'Set password' })), 200);
      await signInAt(miaPage, server, 'mia@example.com', 'mia chose this one', '/account');
    } finally {
      await context.close();
    }
    await server.store.users.setPassword(mia.id, await hashPassword(PASSWORD)); // the later stories sign her in as before

    for (const email of [server.user.email, 'sam@example.com']) {
      const target = (await server.store.users.findByEmail(email))!;
      await page.goto(`${server.url}/orgs/acme/members`);
      assert.equal(await press(page, row(page, 'member', 'data-user', target.id).locator('[data-testid="reset-link"]')), 403, email);
      assert.equal(await codeOf(page, 'error'), 'forbidden');
    }
  });

  it('invitations: the link is shown once, listed as pending, and revoked; inviting a member again is refused', async () => {
    const { page } = adam;
    await page.goto(`${server.url}/orgs/acme/invitations`);
    await page.locator('#invite-email').fill('zoe@example.com');
    await page.locator('#invite-role').selectOption('member');
    assert.equal(await press(page, page.getByRole('button', { name: 'Invite' })), 200);
    assert.match((await hook(page, 'invitation-link').innerText()).trim(), /\/invitations\/[\w-]{20,}$/);
    const id = (await hook(page, 'invitation-created').getAttribute('data-invitation'))!;
    const invitation = row(page, 'invitation', 'data-invitation', id);
    assert.equal(await invitation.getAttribute('data-status'), 'pending');
    await checkPage(page, 'org-invitations', { narrow: true });
    assert.equal(await press(page, invitation.locator('[data-testid="revoke-invitation"]')), 200);
    assert.equal(await press(page, page.locator('[data-testid="confirm"]')), 200);
    assert.equal(await codeOf(page, 'notice'), 'revoked');
    assert.equal(await row(page, 'invitation', 'data-invitation', id).getAttribute('data-status'), 'revoked');

    await page.locator('#invite-email').fill('mia@example.com');
    assert.equal(await press(page, page.getByRole('button', { name: 'Invite' })), 409);
    assert.equal(await codeOf(page, 'error'), 'already_member');
    await checkPage(page, 'org-invitations-refused');
    await page.goto(`${server.url}/orgs/acme/invitations`);
    await page.locator('#invite-email').fill('boss@example.com');
    await page.locator('#invite-role').selectOption('owner');
    assert.equal(await press(page, page.getByRole('button', { name: 'Invite' })), 403, 'only an owner invites an owner');
  });

  it('the resource tree: add a workspace, a project and a folder, rename, give and take a role, delete', async () => {
    const { page } = adam;
    await page.goto(`${server.url}/orgs/acme/resources`);
    await page.locator('#workspace-name').fill('Research');
    assert.equal(await press(page, page.getByRole('button', { name: 'Add workspace' })), 200);
    const resources = async () => server.store.orgs.resources(server.org.id);
    const ws = (await resources()).find((r) => r.name === 'Research')!;
    const wsRow = row(page, 'resource', 'data-resource', ws.id);
    await wsRow.locator('input[placeholder="New project"]').fill('Lab');
    await press(page, wsRow.getByRole('button', { name: 'Add project' }));
    const prj = (await resources()).find((r) => r.name === 'Lab')!;
    assert.equal(prj.parentId, ws.id);
    const prjRow = row(page, 'resource', 'data-resource', prj.id);
    assert.equal(await prjRow.getAttribute('data-depth'), '1');
    await prjRow.locator('input[placeholder="New folder"]').fill('Drafts');
    await press(page, prjRow.getByRole('button', { name: 'Add folder' }));
    const folder = (await resources()).find((r) => r.name === 'Drafts') as OrgResource;
    assert.equal(folder.parentId, prj.id);
    assert.equal(await row(page, 'resource', 'data-resource', folder.id).locator('input[placeholder^="New"]').count(), 0, 'folders hold no children');
    await checkPage(page, 'org-resources', { narrow: true });

    await prjRow.locator('input[name=name]').first().fill('Laboratory');
    await press(page, prjRow.locator('[data-testid="rename"]'));
    assert.equal(await codeOf(page, 'notice'), 'renamed');
    assert.equal((await server.store.orgs.resource(prj.id))?.name, 'Laboratory');

    await wsRow.locator('select[name=user]').selectOption(mia.id);
    await wsRow.locator('select[name=role]').selectOption('editor');
    await press(page, wsRow.getByRole('button', { name: 'Give role' }));
    assert.equal(await codeOf(page, 'notice'), 'member_set');
    assert.equal(await wsRow.locator(`[data-testid="resource-member"][data-user="${mia.id}"]`).getAttribute('data-role'), 'editor');
    await press(page, wsRow.locator('[data-testid="remove-resource-member"]'));
    await press(page, page.locator('[data-testid="confirm"]'));
    assert.equal(await wsRow.locator('[data-testid="resource-member"]').count(), 0);

    await press(page, wsRow.locator('[data-testid="delete-resource"]'));
    await press(page, page.locator('[data-testid="confirm"]'));
    assert.equal(await codeOf(page, 'notice'), 'deleted');
    assert.deepEqual(await resources(), [], 'the workspace went with everything below it');
  });

  it("the org's keys: anyone's key listed with its creator, revoked by an admin — the gateway refuses it within a second", async () => {
    const { key, secret } = await issueApiKey(keyDeps(server), { orgId: server.org.id, userId: server.user.id }, { name: 'Ada build', permissions: { mode: 'simple', level: 'read' }, expiry: 'never' });
    assert.equal(await mcpStatus(server, secret), 200);
    const { page } = adam;
    await page.goto(`${server.url}/orgs/acme/keys`);
    const keyRow = row(page, 'key', 'data-key', key.id);
    assert.ok((await keyRow.innerText()).includes(server.user.email), 'who created it');
    assert.ok(!(await page.content()).includes(secret.slice(8)), 'never the secret');
    await checkPage(page, 'org-keys', { narrow: true });
    await press(page, keyRow.locator('[data-testid="revoke"]'));
    const landed = page.waitForURL((url) => url.searchParams.get('done') === 'revoked');
    await page.locator('[data-testid="confirm"]').click();
    await refusedWithinASecond(server, secret);
    await landed;
    assert.equal(await row(page, 'key', 'data-key', key.id).getAttribute('data-status'), 'revoked');
  });

  it("the org's connected apps: a member's app listed with the person, disconnected by an admin at once", async () => {
    await server.store.orgs.setRole(server.org.id, mia.id, 'admin');
    const miaToken = await connect(server, client, 'mia@example.com');
    const { page } = adam;
    await page.goto(`${server.url}/orgs/acme/apps`);
    const app = page.locator('[data-testid="app"]', { hasText: 'mia@example.com' });
    assert.equal(await app.count(), 1);
    assert.equal(await app.getAttribute('data-client'), client.client_id);
    await checkPage(page, 'org-apps', { narrow: true });
    await press(page, app.locator('[data-testid="disconnect"]'));
    const landed = page.waitForURL((url) => url.searchParams.get('done') === 'disconnected');
    await page.locator('[data-testid="confirm"]').click();
    await refusedWithinASecond(server, miaToken.access_token);
    await landed;
    assert.equal(await page.locator('[data-testid="app"]', { hasText: 'mia@example.com' }).count(), 0);
  });

  it('every change made on these pages is in the audit log, by id, and the chain holds', async () => {
    const events = await server.store.audit.list({ orgId: server.org.id, limit: 1000 });
    const kinds = new Set(events.map((e) => e.kind));
    for (const kind of ['admin.member.role', 'admin.member.removed', 'admin.password.reset_link', 'admin.invitation.created', 'admin.invitation.revoked', 'admin.resource.created', 'admin.resource.renamed', 'admin.resource.member.set', 'admin.resource.deleted', 'admin.key.revoked', 'admin.grant.revoked']) {
      assert.ok(kinds.has(kind), `${kind} recorded`);
    }
    const removal = events.find((e) => e.kind === 'admin.member.removed')!;
    assert.equal(removal.subject, noor.id);
    assert.ok(!JSON.stringify(events).includes('@example.com'), 'records name people by id only');
    assert.equal((await verifyStore(server.store)).ok, true);
  });

  it('no page logged an error, violated the CSP or answered 5xx', () => {
    assertClean(...people);
  });
});

describe('org admin forms under attack', () => {
  let server: TestServer;
  let globex: Org;
  let foreignResource: OrgResource;
  before(async () => {
    server = await startTestServer();
    await server.addUser('admin@example.com', PASSWORD, { role: 'admin' });
    await server.addUser('member@example.com', PASSWORD, { role: 'member' });
    globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    await server.addUser('outsider@example.com', PASSWORD, { role: 'owner', org: globex });
    foreignResource = await server.store.orgs.createResource({ orgId: globex.id, kind: 'workspace', parentId: null, name: 'Theirs', at: 1 });
  });
  after(() => server?.stop());

  it("a member's or an outsider's POST is refused (403, 404) and changes nothing", async () => {
    const admin = await httpSignedIn(server, 'admin@example.com', PASSWORD);
    const page = await admin.request(`${server.url}/orgs/acme/resources`);
    const member = await httpSignedIn(server, 'member@example.com', PASSWORD);
    const outsider = await httpSignedIn(server, 'outsider@example.com', PASSWORD);
    // The role is checked before anything else: the answer says forbidden (not a form problem).
    const memberAnswer = await postForm(member, server, '/orgs/acme/resources/create', { kind: 'workspace', name: 'Sneaky' }, page);
    assert.equal(memberAnswer.status, 403);
    assert.equal(htmlCode(memberAnswer.body), 'forbidden');
    const outsiderAnswer = await postForm(outsider, server, '/orgs/acme/members/remove', { user: server.user.id }, await admin.request(`${server.url}/orgs/acme/members`));
    assert.equal(outsiderAnswer.status, 404);
    assert.equal(htmlCode(outsiderAnswer.body), 'not_found');
    assert.deepEqual(await server.store.orgs.resources(server.org.id), []);
    assert.ok(await server.store.orgs.member(server.org.id, server.user.id));
  });

  it('an admin without the CSRF token changes nothing', async () => {
    const admin = await httpSignedIn(server, 'admin@example.com', PASSWORD);
    for (const [path, fields] of [
      ['/orgs/acme/resources/create', { kind: 'workspace', name: 'Forged' }],
      ['/orgs/acme/members/role', { user: server.user.id, role: 'member' }],
      ['/orgs/acme/invitations', { email: 'x@example.com', role: 'member' }],
    ] as const) {
      const answer = await postForm(admin, server, path, fields);
      assert.equal(answer.status, 403, path);
      assert.equal(htmlCode(answer.body), 'csrf_failed');
    }
    assert.deepEqual(await server.store.orgs.resources(server.org.id), []);
    assert.deepEqual(await server.store.invitations.list(server.org.id), []);
  });

  it("ids from another organization get 404: its resources, its keys, its grants, its people", async () => {
    const admin = await httpSignedIn(server, 'admin@example.com', PASSWORD);
    const resources = await admin.request(`${server.url}/orgs/acme/resources`);
    await postForm(admin, server, '/orgs/acme/resources/create', { kind: 'workspace', name: 'Ours' }, resources);
    const withForms = await admin.request(`${server.url}/orgs/acme/resources`);
    const rename = await postForm(admin, server, '/orgs/acme/resources/rename', { resource: foreignResource.id, name: 'Pwned' }, withForms);
    assert.equal(rename.status, 404);
    const remove = await postForm(admin, server, '/orgs/acme/resources/delete', { resource: foreignResource.id, confirm: 'yes' }, withForms);
    assert.equal(remove.status, 404);
    assert.equal((await server.store.orgs.resource(foreignResource.id))?.name, 'Theirs');

    const outsider = (await server.store.users.findByEmail('outsider@example.com'))!;
    const { key } = await issueApiKey(keyDeps(server), { orgId: globex.id, userId: outsider.id }, { name: 'theirs', permissions: { mode: 'simple', level: 'read' } });
    await issueApiKey(keyDeps(server), { orgId: server.org.id, userId: server.user.id }, { name: 'ours', permissions: { mode: 'simple', level: 'read' } });
    const keys = await admin.request(`${server.url}/orgs/acme/keys`);
    const revoke = await postForm(admin, server, '/orgs/acme/keys/revoke', { key: key.id, confirm: 'yes' }, keys);
    assert.equal(revoke.status, 404);
    assert.equal((await server.store.apiKeys.get(key.id))?.revokedAt, null);

    const members = await admin.request(`${server.url}/orgs/acme/members`);
    const resetForeign = await postForm(admin, server, '/orgs/acme/members/reset-link', { user: outsider.id }, members);
    assert.equal(resetForeign.status, 404, 'no reset link for someone outside the org');
    const removeForeign = await postForm(admin, server, '/orgs/acme/members/remove', { user: outsider.id, confirm: 'yes' }, members);
    assert.equal(removeForeign.status, 404);
    assert.ok(await server.store.orgs.member(globex.id, outsider.id));
  });
});
