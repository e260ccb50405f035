/**
 * People (identity/people.ts): roles, removal, disabling and deleting — what each takes away at
 * once (revocation events this process hears immediately and the store keeps for the others;
 * grants' stored artifacts; keys; sessions) and what it leaves alone (other people, other orgs,
 * the audit history). An organization always keeps an owner.
 */
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRefusal } from '../../src/core/errors.ts';
import { deleteUser, disableUser, enableUser, removeMember, setRole } from '../../src/identity/people.ts';
import { storesUnderTest } from '../helpers/stores.ts';
import { identityFixture } from './support.ts';

async function refused(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(isRefusal(err), `expected PortcullisError ${code}, got ${String(err)}`);
  assert.equal(err.code, code);
}

for (const target of storesUnderTest()) {
  describe(`people (${target.name})`, { skip: target.skip }, async () => {
    const f = await identityFixture(target);
    const owner = { userId: f.ada.id, role: 'owner' as const };
    let n = 0;
    const fresh = (role: 'owner' | 'admin' | 'member' = 'member') => f.person(`p${++n}@example.com`, role);
    // Members without resources cannot issue keys that reach anything; these are stored as they would be.
    const keyOf = async (user: User, orgId = f.org.id) => {
      const id = `key_${user.id}_${orgId}`;
      await f.store.apiKeys.create({ id, orgId, userId: user.id, name: 'k', prefix: 'pcs_test', hash: `h-${id}`, applications: null, resources: null, permissions: { mode: 'simple', level: 'read' }, createdAt: f.now(), expiresAt: null });
      return id;
    };
    const session = async (user: User, id: string) =>
      f.store.sessions.create({ id, userId: user.id, createdAt: f.now(), expiresAt: f.now() + 3600, lastSeenAt: f.now(), authTime: f.now(), amr: ['pwd'], ip: null, userAgent: null });

    it('the last owner cannot be demoted, removed or deleted (409 last_owner); with a second owner they can', async () => {
      await refused(setRole(f.deps, owner, f.org.id, f.ada.id, 'admin'), 'last_owner');
      await refused(removeMember(f.deps, owner, f.org.id, f.ada.id), 'last_owner');
      await refused(deleteUser(f.deps, f.ada.id, 'root'), 'last_owner');
      const other = await fresh('member');
      await setRole(f.deps, owner, f.org.id, other.id, 'owner');
      await setRole(f.deps, { userId: other.id, role: 'owner' }, f.org.id, f.ada.id, 'admin');
      assert.equal((await f.store.orgs.member(f.org.id, f.ada.id))?.role, 'admin');
      await setRole(f.deps, { userId: other.id, role: 'owner' }, f.org.id, f.ada.id, 'owner');
    });

    it('an admin cannot make an owner, nor touch one', async () => {
      const admin = await fresh('admin');
      const member = await fresh('member');
      const asAdmin = { userId: admin.id, role: 'admin' as const };
      await refused(setRole(f.deps, asAdmin, f.org.id, member.id, 'owner'), 'forbidden');
      await refused(setRole(f.deps, asAdmin, f.org.id, f.ada.id, 'member'), 'forbidden');
      await refused(removeMember(f.deps, asAdmin, f.org.id, f.ada.id), 'forbidden');
      await setRole(f.deps, asAdmin, f.org.id, member.id, 'admin');
      assert.equal((await f.store.orgs.member(f.org.id, member.id))?.role, 'admin');
    });

    it('removing a member revokes their grants and keys in that org at once — not elsewhere, not anyone else\'s', async () => {
      const bob = await fresh();
      const carol = await fresh();
      const elsewhere = await f.store.orgs.create({ slug: `else-${target.dialect}`, name: 'Elsewhere' });
      await f.store.orgs.addMember(elsewhere.id, bob.id, 'owner', f.now());
      await f.grant(bob, f.org, `g-bob-${target.dialect}`);
      await f.grant(bob, elsewhere, `g-bob-else-${target.dialect}`);
      await f.grant(carol, f.org, `g-carol-${target.dialect}`);
      const bobKey = await keyOf(bob);
      const bobElseKey = await keyOf(bob, elsewhere.id);
      const carolKey = await keyOf(carol);

      const result = await removeMember(f.deps, owner, f.org.id, bob.id);
      assert.deepEqual(result, { grants: 1, keys: 1 });
      assert.equal(await f.store.orgs.member(f.org.id, bob.id), undefined);
      assert.ok(f.revocations.has('member', `${f.org.id}:${bob.id}`), 'guards in this process hear at once');
      assert.ok(await f.store.revocations.isRevoked('member', `${f.org.id}:${bob.id}`), 'the others through the store');
      assert.ok(f.revocations.has('grant', `g-bob-${target.dialect}`));
      assert.equal(await f.store.oidc.find('RefreshToken', `rt-g-bob-${target.dialect}`), undefined, 'the refresh token is gone');
      assert.ok(f.revocations.has('key', bobKey));
      assert.notEqual((await f.store.apiKeys.get(bobKey))?.revokedAt, null);
      // Untouched: bob elsewhere, carol here.
      assert.ok(await f.store.oidc.find('RefreshToken', `rt-g-bob-else-${target.dialect}`));
      assert.equal((await f.store.apiKeys.get(bobElseKey))?.revokedAt, null);
      assert.ok(!f.revocations.has('grant', `g-carol-${target.dialect}`));
      assert.equal((await f.store.apiKeys.get(carolKey))?.revokedAt, null);
      await refused(removeMember(f.deps, owner, f.org.id, bob.id), 'not_found');
    });

    it('disabling a user ends everything they hold everywhere — tokens, grants, keys, browser and engine sessions; enabling brings none of it back', async () => {
      const dave = await fresh();
      const erin = await fresh();
      await f.grant(dave, f.org, `g-dave-${target.dialect}`);
      const daveKey = await keyOf(dave);
      await session(dave, `s-dave-${target.dialect}`);
      await session(erin, `s-erin-${target.dialect}`);
      await f.store.oidc.upsert({ model: 'Session', id: `es-dave-${target.dialect}`, payload: JSON.stringify({ accountId: dave.id }), accountId: dave.id, expiresAt: f.now() + 3600 });

      // A grant whose consent never recorded an org (no context) is found through the engine's rows;
      // the row id is a keyed hash, the grant id is in grantId (authz/adapter.ts).
      await f.store.oidc.upsert({ model: 'Grant', id: `hashed-${target.dialect}`, grantId: `g-dave-orphan-${target.dialect}`, payload: '{}', accountId: dave.id, expiresAt: f.now() + 3600 });

      await disableUser(f.deps, dave.id, f.ada.id);
      assert.ok(f.revocations.has('grant', `g-dave-orphan-${target.dialect}`));
      assert.notEqual((await f.store.users.findById(dave.id))?.disabledAt, null);
      assert.ok(f.revocations.has('user', dave.id));
      assert.ok(f.revocations.has('grant', `g-dave-${target.dialect}`));
      assert.ok(f.revocations.has('key', daveKey));
      assert.equal(await f.store.sessions.find(`s-dave-${target.dialect}`), undefined);
      assert.deepEqual(await f.store.oidc.byAccount('Session', dave.id), []);
      assert.ok(await f.store.sessions.find(`s-erin-${target.dialect}`), 'other people stay signed in');

      await enableUser(f.deps, dave.id);
      assert.equal((await f.store.users.findById(dave.id))?.disabledAt, null);
      assert.notEqual((await f.store.apiKeys.get(daveKey))?.revokedAt, null, 'a revoked key stays revoked');
      await refused(disableUser(f.deps, 'usr_nobody', f.ada.id), 'not_found');
    });

    it('deleting a user erases their personal data, revokes everything, leaves the audit history intact', async () => {
      const frank = await fresh('admin');
      await f.grant(frank, f.org, `g-frank-${target.dialect}`);
      const frankKey = await keyOf(frank);
      const hash = (prev: string) => `${prev}x`;
      await f.store.audit.append({ at: f.now(), orgId: f.org.id, actor: frank.id, kind: 'member.role', subject: frank.id, clientId: null, app: null, tool: null, decision: null, reason: null, details: null }, hash);
      const before = await f.store.audit.list({ subject: frank.id });

      await deleteUser(f.deps, frank.id, f.ada.id);
      const gone = await f.store.users.findById(frank.id);
      assert.ok(gone?.deletedAt, 'the row stays, marked deleted');
      assert.notEqual(gone?.email, frank.email, 'the e-mail is erased');
      assert.equal(await f.store.users.findByEmail(frank.email), undefined);
      assert.equal(await f.store.orgs.member(f.org.id, frank.id), undefined);
      assert.ok(f.revocations.has('user', frank.id));
      assert.ok(f.revocations.has('member', `${f.org.id}:${frank.id}`));
      assert.ok(f.revocations.has('grant', `g-frank-${target.dialect}`));
      assert.ok(f.revocations.has('key', frankKey));
      assert.deepEqual(await f.store.audit.list({ subject: frank.id }), before, 'records untouched');
      await refused(deleteUser(f.deps, frank.id, f.ada.id), 'not_found');
    });
  });
}
