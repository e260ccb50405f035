/**
 * The SCIM store on both dialects: userName and displayName unique per organization whatever
 * their case (409 `conflict` with the `uniqueness` rule), the same names free in another
 * organization, a token found by its hash until it is cleared, group members replaced whole.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PortcullisError } from '../../src/core/errors.ts';
import type { ScimUserRow } from '../../src/store/scim.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const isUniqueness = (err: unknown) => err instanceof PortcullisError && err.code === 'conflict' && err.rule === 'uniqueness';

for (const target of storesUnderTest()) {
  describe(`SCIM store (${target.name})`, { skip: target.skip }, () => {
    it('keeps names unique per organization, tokens by hash, members whole', async () => {
      const store = await (await target.location()).open();
      await store.migrate();
      try {
        const acme = await store.orgs.create({ slug: 'acme', name: 'Acme' });
        const globex = await store.orgs.create({ slug: 'globex', name: 'Globex' });
        const kim = await store.users.create({ email: 'kim@acme.test' });
        const lee = await store.users.create({ email: 'lee@acme.test' });
        const row = (id: string, orgId: string, userId: string, userName: string): ScimUserRow => ({ id, orgId, userId, userName, externalId: null, active: true, disabledAccount: false, attributes: { name: { givenName: 'Kim' } }, createdAt: 1, updatedAt: 1 });
        await store.scim.insertUser(row('scu_1', acme.id, kim.id, 'Kim@acme.test'));
        await assert.rejects(store.scim.insertUser(row('scu_2', acme.id, lee.id, 'kim@ACME.test')), isUniqueness);
        await store.scim.insertUser(row('scu_3', globex.id, kim.id, 'kim@acme.test'));
        await store.scim.insertUser(row('scu_4', acme.id, lee.id, 'lee@acme.test'));
        await assert.rejects(store.scim.updateUser({ ...row('scu_4', acme.id, lee.id, 'KIM@acme.test'), updatedAt: 2 }), isUniqueness);
        assert.deepEqual((await store.scim.user(acme.id, 'scu_1'))?.attributes, { name: { givenName: 'Kim' } });
        assert.equal(await store.scim.user(globex.id, 'scu_1'), undefined);

        await store.scim.setToken(acme.id, 'hash-1', 'usr_x', 10);
        assert.equal(await store.scim.orgOfToken('hash-1'), acme.id);
        await store.scim.setToken(acme.id, 'hash-2', 'usr_x', 11);
        assert.equal(await store.scim.orgOfToken('hash-1'), undefined);
        await store.scim.setGroupRoles(acme.id, { admins: 'admin' });
        assert.deepEqual((await store.scim.config(acme.id))?.groupRoles, { admins: 'admin' });
        assert.equal(await store.scim.clearToken(acme.id), true);
        assert.equal(await store.scim.orgOfToken('hash-2'), undefined);
        assert.equal(await store.scim.clearToken(acme.id), false);

        await store.scim.insertGroup({ id: 'scg_1', orgId: acme.id, displayName: 'Admins', externalId: null, createdAt: 1, updatedAt: 1 });
        await assert.rejects(store.scim.insertGroup({ id: 'scg_2', orgId: acme.id, displayName: 'ADMINS', externalId: null, createdAt: 1, updatedAt: 1 }), isUniqueness);
        await store.scim.setGroupMembers('scg_1', ['scu_1', 'scu_4']);
        await store.scim.setGroupMembers('scg_1', ['scu_4']);
        assert.deepEqual(await store.scim.memberships(acme.id), [{ groupId: 'scg_1', scimUserId: 'scu_4' }]);
        assert.equal(await store.scim.deleteUser(acme.id, 'scu_4'), true);
        assert.deepEqual(await store.scim.memberships(acme.id), [], 'a deleted user leaves their groups');
      } finally {
        await store.close();
      }
    });
  });
}
