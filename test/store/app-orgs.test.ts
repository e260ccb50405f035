/**
 * Store contract for applications owned by an organization (migration 0016), per implementation
 * (SQLite always; PostgreSQL when PORTCULLIS_TEST_DATABASE_URL is set):
 * - a new application is server-wide unless created for an organization;
 * - listing by organization shows that organization's applications and no other;
 * - an edit of the definition (the registry's and the API's upsert) keeps the owner;
 * - a server administrator gives an application to an organization and takes it back;
 * - deleting the organization leaves its applications server-wide, not deleted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storesUnderTest } from '../helpers/stores.ts';

const NOW = 1_800_000_000;

for (const target of storesUnderTest()) {
  describe(`store contract (applications owned by an organization): ${target.name}`, { skip: target.skip }, () => {
    it('creates server-wide by default or for an organization, and lists one organization\'s applications only', async () => {
      const store = await target.make();
      const acme = await store.orgs.create({ slug: 'acme', name: 'Acme' });
      const globex = await store.orgs.create({ slug: 'globex', name: 'Globex' });
      assert.equal(await store.applications.create({ slug: 'wide', definition: '{}', source: 'api', at: NOW }), true);
      assert.equal(await store.applications.create({ slug: 'notes', definition: '{}', source: 'api', at: NOW, orgId: acme.id }), true);
      assert.equal(await store.applications.create({ slug: 'crm', definition: '{}', source: 'api', at: NOW, orgId: globex.id }), true);
      assert.equal((await store.applications.get('wide'))?.orgId, null);
      assert.equal((await store.applications.get('notes'))?.orgId, acme.id);
      assert.deepEqual((await store.applications.list({ orgId: acme.id })).map((a) => a.slug), ['notes']);
      assert.deepEqual((await store.applications.list({ orgId: globex.id })).map((a) => a.slug), ['crm']);
      assert.deepEqual((await store.applications.list()).map((a) => a.slug), ['crm', 'notes', 'wide']);
      await store.close();
    });

    it('keeps the owner through an edit; moves an application to an organization and back', async () => {
      const store = await target.make();
      const acme = await store.orgs.create({ slug: 'acme', name: 'Acme' });
      await store.applications.create({ slug: 'notes', definition: '{"v":1}', source: 'api', at: NOW, orgId: acme.id });
      await store.applications.upsert({ slug: 'notes', definition: '{"v":2}', source: 'api', at: NOW + 1 });
      assert.equal((await store.applications.get('notes'))?.orgId, acme.id, 'an edit keeps the owner');
      assert.equal(await store.applications.setOrg('notes', null, NOW + 2), true);
      assert.equal((await store.applications.get('notes'))?.orgId, null);
      assert.equal(await store.applications.setOrg('notes', acme.id, NOW + 3), true);
      assert.equal((await store.applications.get('notes'))?.orgId, acme.id);
      assert.equal(await store.applications.setOrg('nothing', acme.id, NOW), false, 'no such application');
      await store.close();
    });

    it('refuses an owner that is not an organization, and leaves applications server-wide when their organization is deleted', async () => {
      const store = await target.make();
      const acme = await store.orgs.create({ slug: 'acme', name: 'Acme' });
      await store.applications.create({ slug: 'notes', definition: '{}', source: 'api', at: NOW, orgId: acme.id });
      await assert.rejects(store.applications.setOrg('notes', 'org_nobody', NOW));
      assert.equal(await store.orgs.delete(acme.id), true);
      const after = await store.applications.get('notes');
      assert.equal(after?.orgId, null, 'the application stays, now server-wide');
      await store.close();
    });
  });
}
