/**
 * The store of organizations' SSO connections and claimed domains on both dialects (migration
 * 0012): connection ids are unique across organizations; an organization changes and removes
 * only its own; any number of organizations may ask for a domain but one holds it verified — a
 * race between two verifications has one winner; an organization's removal takes its
 * connections and domains with it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storesUnderTest } from '../helpers/stores.ts';
import type { OrgConnectionRecord } from '../../src/store/org-connections.ts';

const NOW = 1_800_000_000;

const record = (id: string, orgId: string): OrgConnectionRecord => ({ id, orgId, definition: `{"id":"${id}"}`, secretsSealed: 'v1.sealed', createdAt: NOW, updatedAt: NOW });
const claim = (domain: string, orgId: string, token = `token-${orgId}`) => ({ domain, orgId, token, createdAt: NOW, verifiedAt: null, verifiedBy: null, verifiedHow: null });

for (const target of storesUnderTest()) {
  describe(`org connection store: ${target.name}`, { skip: target.skip }, () => {
    it('keeps connection ids unique across organizations; each org changes and removes only its own', async () => {
      const store = await target.make();
      const a = await store.orgs.create({ slug: 'a', name: 'A' });
      const b = await store.orgs.create({ slug: 'b', name: 'B' });
      assert.equal(await store.orgConnections.createConnection(record('sso', a.id)), true);
      assert.equal(await store.orgConnections.createConnection(record('sso', b.id)), false, 'the id is taken');
      assert.equal(await store.orgConnections.updateConnection(b.id, 'sso', '{}', null, NOW + 1), false, 'not b\'s');
      assert.equal(await store.orgConnections.updateConnection(a.id, 'sso', '{"id":"sso","name":"x"}', null, NOW + 1), true);
      assert.deepEqual(await store.orgConnections.getConnection('sso'), { id: 'sso', orgId: a.id, definition: '{"id":"sso","name":"x"}', secretsSealed: null, createdAt: NOW, updatedAt: NOW + 1 });
      assert.equal(await store.orgConnections.createConnection(record('other', b.id)), true);
      assert.deepEqual((await store.orgConnections.listConnections()).map((r) => r.id), ['other', 'sso']);
      assert.deepEqual((await store.orgConnections.listConnections(b.id)).map((r) => r.id), ['other']);
      assert.equal(await store.orgConnections.deleteConnection(b.id, 'sso'), false);
      assert.equal(await store.orgConnections.deleteConnection(a.id, 'sso'), true);
      assert.equal(await store.orgConnections.getConnection('sso'), undefined);
      await store.close();
    });

    it('lets several organizations ask for a domain, one hold it verified; one winner when two verify at once', async () => {
      const store = await target.make();
      const orgs = await Promise.all(['a', 'b', 'c'].map((slug) => store.orgs.create({ slug, name: slug })));
      const [a, b, c] = orgs as [typeof orgs[0], typeof orgs[0], typeof orgs[0]];
      for (const org of orgs) assert.equal(await store.orgConnections.addDomain(claim('acme.test', org.id)), true);
      assert.equal(await store.orgConnections.addDomain(claim('acme.test', a.id)), false, 'asked once');
      assert.equal(await store.orgConnections.verifyDomain(a.id, 'nope.test', 'dns', 'u', NOW), 'unknown');
      const results = await Promise.all([store.orgConnections.verifyDomain(a.id, 'acme.test', 'dns', 'ua', NOW), store.orgConnections.verifyDomain(b.id, 'acme.test', 'admin', 'ub', NOW)]);
      assert.deepEqual([...results].sort(), ['ok', 'taken']);
      const holder = await store.orgConnections.verifiedDomain('acme.test');
      assert.ok(holder && holder.verifiedAt === NOW && (holder.orgId === a.id ? holder.verifiedHow === 'dns' : holder.verifiedHow === 'admin'));
      assert.equal(await store.orgConnections.verifyDomain(c.id, 'acme.test', 'dns', 'uc', NOW), 'taken');
      assert.equal((await store.orgConnections.listDomains()).filter((d) => d.verifiedAt !== null).length, 1);
      // Given up, the domain is free for the next organization to verify.
      assert.equal(await store.orgConnections.deleteDomain(holder.orgId, 'acme.test'), true);
      assert.equal(await store.orgConnections.verifyDomain(c.id, 'acme.test', 'dns', 'uc', NOW + 5), 'ok');
      assert.deepEqual((await store.orgConnections.listDomains(c.id)).map((d) => [d.domain, d.verifiedBy, d.verifiedAt]), [['acme.test', 'uc', NOW + 5]]);
      await store.close();
    });

    it('removes an organization\'s connections and domains with it', async () => {
      const store = await target.make();
      const a = await store.orgs.create({ slug: 'a', name: 'A' });
      await store.orgConnections.createConnection(record('sso', a.id));
      await store.orgConnections.addDomain(claim('acme.test', a.id));
      await store.orgs.delete(a.id);
      assert.deepEqual(await store.orgConnections.listConnections(), []);
      assert.deepEqual(await store.orgConnections.listDomains(), []);
      await store.close();
    });
  });
}
