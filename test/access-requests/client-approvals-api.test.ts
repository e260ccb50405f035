/**
 * The admin API's client approvals (`/orgs/:org/client-approvals`), attacked: a plain member gets
 * 403, another organization's administrator 404; a client nobody registered or asked for is 404.
 * Approving puts the client on the organization's allow-list and tells the members who asked;
 * refusing takes it off; the organization's client rule (the one the consent page and the token
 * endpoint apply) follows at once; each decision is audited.
 */
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { orgRefusesClient } from '../../src/identity/org-clients.ts';
import { adminClient, type AdminClient } from '../admin/support.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const CLIENT = 'https://notes.example/client.json';

describe('admin API: client approvals', () => {
  let server: TestServer;
  let ada: AdminClient;
  let mia: User;

  before(async () => {
    server = await startTestServer();
    ada = await adminClient(server, 'ada@example.com', false);
    mia = await server.addUser('mia@example.com', undefined, { role: 'member' });
    const globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    await server.addUser('gina@example.com', undefined, { role: 'admin', org: globex });
    const on = await ada.call('PATCH', '/orgs/acme', { settings: { clientApproval: true } });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    await server.store.accessRequests.create({ id: 'asked', orgId: server.org.id, userId: mia.id, kind: 'client', clientId: CLIENT, clientName: 'Notes', application: server.mcpUrl, createdAt: 1 });
  });
  after(async () => {
    await server?.stop();
  });

  const path = (verb: string, id = CLIENT) => `/orgs/acme/client-approvals/${encodeURIComponent(id)}/${verb}`;
  const refusal = async () => orgRefusesClient((await server.store.orgs.get(server.org.id))!, CLIENT, 'metadata-document');

  it('in approval mode an unapproved client is refused; members and other orgs cannot decide; an unknown client is 404', async () => {
    assert.equal(await refusal(), 'client_not_allowed');
    const listed = await ada.call('GET', '/orgs/acme/client-approvals');
    assert.equal(listed.body.clientApproval, true);
    assert.deepEqual(listed.body.approved, []);
    assert.equal((listed.body.requests as { status: string }[])[0]?.status, 'pending');

    const member = await adminClient(server, 'mia@example.com', false);
    assert.equal((await member.call('POST', path('approve'))).status, 403);
    const gina = await adminClient(server, 'gina@example.com', false);
    assert.equal((await gina.call('POST', path('approve'))).status, 404);
    const unknown = await ada.call('POST', path('approve', 'https://nobody.example/client.json'));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'not_found');
    assert.equal(await refusal(), 'client_not_allowed', 'still refused');
  });

  it('approving allows the client and tells who asked; refusing takes it off again; both are audited', async () => {
    const approved = await ada.call('POST', path('approve'));
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.deepEqual(approved.body.approved, [CLIENT]);
    assert.equal((approved.body.decided as { id: string; status: string }[])[0]?.status, 'approved');
    assert.equal(await refusal(), undefined);

    const refused = await ada.call('POST', path('refuse'));
    assert.deepEqual(refused.body.approved, []);
    assert.equal(await refusal(), 'client_not_allowed');
    await server.audit.flush();
    const kinds = (await server.store.audit.list({ orgId: server.org.id })).map((e) => e.kind);
    assert.ok(kinds.includes('client_approval.approved') && kinds.includes('client_approval.refused'), kinds.join(' '));
  });
});
