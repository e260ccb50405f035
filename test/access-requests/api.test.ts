/**
 * The admin API's access requests (`/orgs/:org/access-requests`), attacked: a plain member gets
 * 403, another organization's administrator 404 (for the list and for an id of this org); an
 * approval naming another organization's workspace or an unknown role is refused (400) and gives
 * nothing; a request is decided once (409 after); an approval gives the member the role, a refusal
 * gives nothing; each decision is audited.
 */
import type { Org, OrgResource } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, type AdminClient } from '../admin/support.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const now = () => Math.floor(Date.now() / 1000);

describe('admin API: access requests', () => {
  let server: TestServer;
  let ada: AdminClient;
  let newcomer: User;
  let globex: Org;
  let docs: OrgResource;
  let lab: OrgResource;
  let seq = 0;

  before(async () => {
    server = await startTestServer();
    ada = await adminClient(server, 'ada@example.com', false);
    newcomer = await server.addUser('newcomer@example.com', undefined, { role: 'member' });
    globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    await server.addUser('gina@example.com', undefined, { role: 'admin', org: globex });
    docs = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'workspace', parentId: null, name: 'Docs', at: now() });
    lab = await server.store.orgs.createResource({ orgId: globex.id, kind: 'workspace', parentId: null, name: 'Lab', at: now() });
  });
  after(async () => {
    await server?.stop();
  });

  /** A pending request of the newcomer in Acme, as the consent page records it. */
  async function pending(clientId = `client-${++seq}`) {
    const { request } = await server.store.accessRequests.create({
      id: `req-${seq}-${clientId}`,
      orgId: server.org.id,
      userId: newcomer.id,
      kind: 'access',
      clientId,
      clientName: 'Notes',
      application: server.mcpUrl,
      createdAt: now(),
    });
    return request;
  }

  it('lists requests for the org\'s administrators only: a member gets 403, another org\'s admin 404', async () => {
    const request = await pending();
    const list = await ada.call('GET', '/orgs/acme/access-requests');
    assert.equal(list.status, 200);
    const listed = (list.body.accessRequests as { id: string; status: string; userId: string }[]).find((r) => r.id === request.id);
    assert.deepEqual(listed && { status: listed.status, userId: listed.userId }, { status: 'pending', userId: newcomer.id });

    const member = await adminClient(server, 'newcomer@example.com', false);
    assert.equal((await member.call('GET', '/orgs/acme/access-requests')).body.error, 'forbidden');
    assert.equal((await member.call('POST', `/orgs/acme/access-requests/${request.id}/approve`, { resourceId: docs.id, role: 'viewer' })).status, 403);

    const gina = await adminClient(server, 'gina@example.com', false);
    assert.equal((await gina.call('GET', '/orgs/acme/access-requests')).status, 404);
    const crossOrg = await gina.call('POST', `/orgs/globex/access-requests/${request.id}/approve`, { resourceId: lab.id, role: 'viewer' });
    assert.equal(crossOrg.status, 404);
    assert.equal(crossOrg.body.error, 'not_found');
    assert.equal((await server.store.accessRequests.get(server.org.id, request.id))?.status, 'pending');
  });

  it("refuses an approval naming another organization's workspace or an unknown role, and gives nothing", async () => {
    const request = await pending();
    const foreign = await ada.call('POST', `/orgs/acme/access-requests/${request.id}/approve`, { resourceId: lab.id, role: 'viewer' });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.body.error, 'invalid_request');
    const badRole = await ada.call('POST', `/orgs/acme/access-requests/${request.id}/approve`, { resourceId: docs.id, role: 'owner' });
    assert.equal(badRole.status, 400);
    assert.equal((await server.store.orgs.resourceMembers(globex.id, newcomer.id)).length, 0);
    assert.equal((await server.store.orgs.resourceMembers(server.org.id, newcomer.id)).length, 0);
    assert.equal((await server.store.accessRequests.get(server.org.id, request.id))?.status, 'pending');
  });

  it('an approval gives the member the role, once; a second decision is 409; each decision is audited', async () => {
    const request = await pending();
    const approved = await ada.call('POST', `/orgs/acme/access-requests/${request.id}/approve`, { resourceId: docs.id, role: 'viewer' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'approved');
    assert.deepEqual(
      (await server.store.orgs.resourceMembers(server.org.id, newcomer.id)).map((m) => [m.resourceId, m.role]),
      [[docs.id, 'viewer']],
    );
    const again = await ada.call('POST', `/orgs/acme/access-requests/${request.id}/refuse`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'conflict');

    const other = await pending();
    const refused = await ada.call('POST', `/orgs/acme/access-requests/${other.id}/refuse`);
    assert.equal(refused.body.status, 'refused');
    await server.audit.flush();
    const approvedEvents = await server.store.audit.list({ orgId: server.org.id, kind: 'access_request.approved', subject: newcomer.id });
    assert.equal(approvedEvents.length, 1);
    assert.equal(approvedEvents[0]!.actor, ada.user.id);
    assert.equal((await server.store.audit.list({ orgId: server.org.id, kind: 'access_request.refused', subject: newcomer.id })).length, 1);
  });
});
