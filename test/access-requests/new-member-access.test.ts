/**
 * Access for new members (issue 14): an organization's default workspace role is given on every
 * way in — an accepted invitation, a SCIM-provisioned account — and an invitation's own starting
 * role takes its place. Attacked: a default or a starting role naming another organization's
 * workspace, or a folder, is refused (400) and nothing changes; without a default, a newcomer
 * joins with no workspace role at all.
 */
import type { Org, OrgResource } from '../../src/store/orgs.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, type AdminClient } from '../admin/support.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { issueToken, scimRequest } from '../scim/support.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const now = () => Math.floor(Date.now() / 1000);

describe('access for new members', () => {
  let server: TestServer;
  let ada: AdminClient;
  let globex: Org;
  let docs: OrgResource;
  let lab: OrgResource;
  let folder: OrgResource;

  before(async () => {
    server = await startTestServer();
    ada = await adminClient(server, 'ada@example.com', false);
    globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    docs = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'workspace', parentId: null, name: 'Docs', at: now() });
    const project = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'project', parentId: docs.id, name: 'Handbook', at: now() });
    folder = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'folder', parentId: project.id, name: 'Drafts', at: now() });
    lab = await server.store.orgs.createResource({ orgId: globex.id, kind: 'workspace', parentId: null, name: 'Lab', at: now() });
  });
  after(async () => {
    await server?.stop();
  });

  /** Invite `email` through the API and accept the link in a fresh browser that creates the account. */
  async function join(email: string, startingAccess?: unknown): Promise<string> {
    const made = await ada.call('POST', '/orgs/acme/invitations', { email, role: 'member', ...(startingAccess ? { startingAccess } : {}) });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const ua = new UserAgent();
    const link = String(made.body.link);
    const form = await ua.request(link);
    const done = await ua.submit(form, new URL(link).pathname, { name: 'New', password: 'a long enough passphrase', confirm: 'a long enough passphrase' }, () => true);
    assert.equal(done.status, 303, done.body);
    return (await server.store.users.findByEmail(email))!.id;
  }

  const roles = async (userId: string) => (await server.store.orgs.resourceMembers(server.org.id, userId)).map((m) => [m.resourceId, m.role]);

  it('without a default, a newcomer joins with no workspace role', async () => {
    assert.deepEqual(await roles(await join('plain@example.com')), []);
  });

  it("refuses a default naming another organization's workspace or a folder, and keeps the settings", async () => {
    for (const resourceId of [lab.id, folder.id]) {
      const answer = await ada.call('PATCH', '/orgs/acme', { settings: { newMemberAccess: { resourceId, role: 'viewer' } } });
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error, 'invalid_request');
    }
    assert.equal((await server.store.orgs.get(server.org.id))?.settings.newMemberAccess, undefined);
    const foreign = await ada.call('POST', '/orgs/acme/invitations', { email: 'x@example.com', startingAccess: { resourceId: lab.id, role: 'viewer' } });
    assert.equal(foreign.status, 400);
    assert.equal((await server.store.invitations.list(server.org.id)).some((i) => i.email === 'x@example.com'), false);
  });

  it('gives the default on an accepted invitation and on a SCIM-provisioned account; an invitation\'s own role takes its place', async () => {
    const set = await ada.call('PATCH', '/orgs/acme', { settings: { newMemberAccess: { resourceId: docs.id, role: 'viewer' } } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(await roles(await join('invited@example.com')), [[docs.id, 'viewer']]);
    assert.deepEqual(await roles(await join('editor@example.com', { resourceId: docs.id, role: 'editor' })), [[docs.id, 'editor']]);

    const token = await issueToken(server);
    const created = await scimRequest(server, token, 'POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'scim@example.com', emails: [{ value: 'scim@example.com', primary: true }], active: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(await roles((await server.store.users.findByEmail('scim@example.com'))!.id), [[docs.id, 'viewer']]);
  });
});
