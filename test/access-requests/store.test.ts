/**
 * The access-request store on both dialects (migration 0014): one pending request per person,
 * organization and client (a double click or two tabs make one); a request is decided once (two
 * administrators deciding at once: one wins); a decided request leaves room for a new one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storesUnderTest } from '../helpers/stores.ts';

const NOW = 1_800_000_000;

for (const target of storesUnderTest()) {
  describe(`access-request store: ${target.name}`, { skip: target.skip }, () => {
    async function setup() {
      const store = await target.make();
      const user = await store.users.create({ email: 'new@example.com' });
      const admin = await store.users.create({ email: 'admin@example.com' });
      const org = await store.orgs.create({ slug: 'acme', name: 'Acme' });
      const ask = (id: string, at = NOW) =>
        store.accessRequests.create({ id, orgId: org.id, userId: user.id, kind: 'access', clientId: 'c1', clientName: 'Notes', application: 'https://x.test/mcp', createdAt: at });
      return { store, user, admin, org, ask };
    }

    it('keeps one pending request per person, organization and client, even when asked twice at once', async () => {
      const { store, user, org, ask } = await setup();
      const both = await Promise.all([ask('r1'), ask('r2')]);
      assert.deepEqual(both.map((b) => b.created).sort(), [false, true]);
      assert.equal(both[0].request.id, both[1].request.id, 'both callers see the same request');
      const [only] = await store.accessRequests.listForOrg(org.id);
      assert.equal((await store.accessRequests.listForOrg(org.id)).length, 1);
      assert.deepEqual(only, { ...both[0].request });
      assert.equal(only!.status, 'pending');
      assert.equal(only!.createdAt, NOW);
      assert.deepEqual(await store.accessRequests.listForUser(user.id), [only]);
      await store.close();
    });

    it('decides a request once; two deciders at once have one winner; a decided request leaves room for a new one', async () => {
      const { store, admin, org, ask } = await setup();
      const { request } = await ask('r1');
      const ws = await store.orgs.createResource({ orgId: org.id, kind: 'workspace', parentId: null, name: 'Docs', at: NOW });
      const decisions = await Promise.all([
        store.accessRequests.decide(org.id, request.id, { status: 'approved', resourceId: ws.id, role: 'viewer', by: admin.id, at: NOW + 5 }),
        store.accessRequests.decide(org.id, request.id, { status: 'refused', resourceId: null, role: null, by: admin.id, at: NOW + 6 }),
      ]);
      assert.deepEqual(decisions.sort(), [false, true]);
      const decided = await store.accessRequests.get(org.id, request.id);
      assert.ok(decided && decided.status !== 'pending' && decided.decidedBy === admin.id);
      assert.equal(await store.accessRequests.get('another-org', request.id), undefined, 'looked up within its organization only');
      const again = await ask('r3', NOW + 10);
      assert.equal(again.created, true);
      assert.equal((await store.accessRequests.listForOrg(org.id))[0]!.id, 'r3', 'newest first');
      await store.close();
    });

    it('decides every pending client request of an organization for one client at once, and only those', async () => {
      const { store, user, admin, org } = await setup();
      const other = await store.users.create({ email: 'other@example.com' });
      const client = (id: string, userId: string, clientId: string, kind: 'access' | 'client' = 'client') =>
        store.accessRequests.create({ id, orgId: org.id, userId, kind, clientId, clientName: 'Notes', application: 'https://x.test/mcp', createdAt: NOW });
      await client('a', user.id, 'c1');
      await client('b', other.id, 'c1');
      await client('c', user.id, 'c2');
      assert.equal((await client('d', user.id, 'c1', 'access')).created, true, 'an access request beside a client request for the same client');
      const decided = await store.accessRequests.decideClient(org.id, 'c1', { status: 'approved', by: admin.id, at: NOW + 1 });
      assert.deepEqual(decided.map((r) => r.id).sort(), ['a', 'b']);
      assert.ok(decided.every((r) => r.status === 'approved' && r.decidedAt === NOW + 1));
      assert.equal((await store.accessRequests.get(org.id, 'c'))?.status, 'pending');
      assert.equal((await store.accessRequests.get(org.id, 'd'))?.status, 'pending');
      assert.deepEqual(await store.accessRequests.decideClient(org.id, 'c1', { status: 'refused', by: admin.id, at: NOW + 2 }), [], 'decided once');
      await store.close();
    });

    it("keeps an invitation's starting workspace role", async () => {
      const { store, admin, org } = await setup();
      const ws = await store.orgs.createResource({ orgId: org.id, kind: 'workspace', parentId: null, name: 'Docs', at: NOW });
      const base = { orgId: org.id, role: 'member' as const, invitedBy: admin.id, createdAt: NOW, expiresAt: NOW + 100 };
      await store.invitations.create({ ...base, id: 'i1', email: 'a@example.com', startResourceId: ws.id, startRole: 'editor' });
      await store.invitations.create({ ...base, id: 'i2', email: 'b@example.com' });
      const accepted = await store.invitations.accept('i1', admin.id, NOW + 1);
      assert.deepEqual([accepted?.startResourceId, accepted?.startRole], [ws.id, 'editor']);
      const plain = await store.invitations.get('i2');
      assert.deepEqual([plain?.startResourceId, plain?.startRole], [null, null]);
      await store.close();
    });
  });
}
