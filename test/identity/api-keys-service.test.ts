/**
 * API keys as the admin API and the account pages issue them (identity/api-keys.ts):
 * the secret is shown once and only its keyed hash is stored; listing never shows it; the expiry
 * options; revoking is permanent (no re-enable, a second revoke is 409); and a key never exceeds
 * its creator when it is made — refused field by field.
 */
import type { OrgResource } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import { isApiKeyShaped } from '../../src/shared/api-key-shape.ts';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { isRefusal, PortcullisError } from '../../src/core/errors.ts';
import { issueApiKey, listApiKeys, revokeApiKey } from '../../src/api-keys/service.ts';
import { hashApiKey } from '../../src/api-keys/format.ts';
import { storesUnderTest } from '../helpers/stores.ts';
import { identityFixture, type IdentityFixture } from './support.ts';

async function refused(promise: Promise<unknown>, code: string): Promise<PortcullisError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(isRefusal(err), `expected PortcullisError ${code}, got ${String(err)}`);
  assert.equal(err.code, code);
  return err;
}

function paths(err: PortcullisError): string[] {
  return ((err.detail.errors as { path: string }[] | undefined) ?? []).map((e) => e.path).sort();
}

const DAY = 86400;

for (const target of storesUnderTest()) {
  // Built while the suite is defined, so the store's cleanup belongs to the suite (not to a hook).
  describe(`API keys (${target.name})`, { skip: target.skip }, async () => {
    const f: IdentityFixture = await identityFixture(target);
    let bob: User;
    let ws: OrgResource;
    let alpha: OrgResource;
    let beta: OrgResource;

    before(async () => {
      await f.store.applications.create({ slug: 'notes', definition: '{}', source: 'api', at: f.now() });
      ws = await f.store.orgs.createResource({ orgId: f.org.id, kind: 'workspace', parentId: null, name: 'Main', at: f.now() });
      alpha = await f.store.orgs.createResource({ orgId: f.org.id, kind: 'project', parentId: ws.id, name: 'Alpha', at: f.now() });
      beta = await f.store.orgs.createResource({ orgId: f.org.id, kind: 'project', parentId: ws.id, name: 'Beta', at: f.now() });
      bob = await f.person('bob@example.com', 'member');
      await f.store.orgs.setResourceMember(alpha.id, bob.id, 'editor', f.now());
      await f.store.orgs.setResourceMember(beta.id, bob.id, 'viewer', f.now());
    });

    it('shows the secret once at creation; the store keeps its keyed hash, and listing shows only the prefix', async () => {
      const { key, secret } = await issueApiKey(f.deps, { orgId: f.org.id, userId: f.ada.id }, { name: 'CI', permissions: { mode: 'simple', level: 'read' }, applications: ['notes'] });
      assert.ok(isApiKeyShaped(secret));
      assert.equal(key.prefix, secret.slice(0, 8));
      assert.equal(key.status, 'active');
      const stored = await f.store.apiKeys.byHash(hashApiKey(f.deps.pepper, secret));
      assert.equal(stored?.id, key.id);
      const listed = await listApiKeys(f.deps, { orgId: f.org.id });
      const text = JSON.stringify(listed);
      assert.ok(listed.some((k) => k.id === key.id));
      assert.ok(!text.includes(secret) && !text.includes(stored!.hash), 'neither the secret nor its hash is listed');
    });

    it('expires never, after 7/30/90/365 days, on a date — 90 days unless told', async () => {
      const issue = (expiry?: string) => issueApiKey(f.deps, { orgId: f.org.id, userId: f.ada.id }, { name: `exp ${expiry}`, permissions: { mode: 'simple', level: 'read' }, ...(expiry ? { expiry } : {}) });
      const now = f.now();
      assert.equal((await issue('never')).key.expiresAt, null);
      for (const days of [7, 30, 90, 365]) {
        const at = Date.parse((await issue(`${days}d`)).key.expiresAt!) / 1000;
        assert.ok(Math.abs(at - (now + days * DAY)) <= 2, `${days}d`);
      }
      const byDefault = Date.parse((await issue()).key.expiresAt!) / 1000;
      assert.ok(Math.abs(byDefault - (now + 90 * DAY)) <= 2);
      const date = new Date((now + 40 * DAY) * 1000).toISOString().slice(0, 10);
      assert.equal((await issue(date)).key.expiresAt, `${date}T23:59:59.000Z`, 'a date means the end of that day');
      assert.deepEqual(paths(await refused(issue('2001-01-01'), 'invalid_request')), ['expiry']);
      assert.deepEqual(paths(await refused(issue('14d'), 'invalid_request')), ['expiry']);
    });

    it('an expired key is listed as expired', async () => {
      const { key } = await issueApiKey(f.deps, { orgId: f.org.id, userId: f.ada.id }, { name: 'soon', permissions: { mode: 'simple', level: 'read' }, expiry: '7d' });
      const later = { ...f.deps, now: () => f.now() + 8 * DAY };
      assert.equal((await listApiKeys(later, { orgId: f.org.id })).find((k) => k.id === key.id)?.status, 'expired');
    });

    it('revoking is immediate and permanent: a key event, no way back, a second revoke is 409', async () => {
      const { key, secret } = await issueApiKey(f.deps, { orgId: f.org.id, userId: f.ada.id }, { name: 'to revoke', permissions: { mode: 'simple', level: 'read-write' } });
      const revoked = await revokeApiKey(f.deps, { orgId: f.org.id }, key.id, f.ada.id);
      assert.equal(revoked.status, 'revoked');
      assert.equal(revoked.revokedBy, f.ada.id);
      assert.ok(f.revocations.has('key', key.id), 'this process hears at once');
      assert.ok(await f.store.revocations.isRevoked('key', key.id), 'other processes through the store');
      await refused(revokeApiKey(f.deps, { orgId: f.org.id }, key.id, f.ada.id), 'already_revoked');
      const stored = await f.store.apiKeys.byHash(hashApiKey(f.deps.pepper, secret));
      assert.notEqual(stored?.revokedAt, null, 'still revoked, still in the history');
      assert.equal((await listApiKeys(f.deps, { orgId: f.org.id })).find((k) => k.id === key.id)?.status, 'revoked');
    });

    it('another org or another user cannot revoke a key: 404, and the key lives on', async () => {
      const { key } = await issueApiKey(f.deps, { orgId: f.org.id, userId: f.ada.id }, { name: 'mine', permissions: { mode: 'simple', level: 'read' } });
      const other = await f.store.orgs.create({ slug: `other-${target.dialect}`, name: 'Other' });
      await refused(revokeApiKey(f.deps, { orgId: other.id }, key.id, 'x'), 'not_found');
      await refused(revokeApiKey(f.deps, { orgId: f.org.id, userId: bob.id }, key.id, bob.id), 'not_found');
      assert.equal((await f.store.apiKeys.get(key.id))?.revokedAt, null);
    });

    it('a key never exceeds its creator: a member gets what they hold, and is refused field by field beyond it', async () => {
      const bobs = (input: Record<string, unknown>) => issueApiKey(f.deps, { orgId: f.org.id, userId: bob.id }, { name: 'bob', ...input });
      // Within what bob holds: write on Alpha, read on Beta, read-write "anywhere he can".
      await bobs({ resources: [alpha.id], permissions: { mode: 'simple', level: 'read-write' } });
      await bobs({ permissions: { mode: 'granular', levels: { [alpha.id]: 'write', [beta.id]: 'read' } } });
      await bobs({ permissions: { mode: 'simple', level: 'read-write' } });
      // Beyond it.
      assert.deepEqual(paths(await refused(bobs({ resources: [beta.id], permissions: { mode: 'simple', level: 'read-write' } }), 'invalid_request')), ['resources.0']);
      assert.deepEqual(
        paths(await refused(bobs({ permissions: { mode: 'granular', levels: { [alpha.id]: 'delete', [beta.id]: 'write', [ws.id]: 'read' } } }), 'invalid_request')),
        [`permissions.levels.${alpha.id}`, `permissions.levels.${beta.id}`, `permissions.levels.${ws.id}`].sort(),
      );
      // Admin keys are for owners and admins.
      await refused(bobs({ permissions: { mode: 'simple', level: 'read' }, admin: true }), 'forbidden');
      // Someone with no resource at all cannot make a key that reads anything.
      const carol = await f.person(`carol-${target.dialect}@example.com`, 'member');
      assert.deepEqual(paths(await refused(issueApiKey(f.deps, { orgId: f.org.id, userId: carol.id }, { name: 'c', permissions: { mode: 'simple', level: 'read' } }), 'invalid_request')), ['permissions.level']);
    });

    it('refuses unknown applications, resources of another org, unknown fields — each by its path — and non-members', async () => {
      const other = await f.store.orgs.create({ slug: `elsewhere-${target.dialect}`, name: 'Elsewhere' });
      const foreign = await f.store.orgs.createResource({ orgId: other.id, kind: 'workspace', parentId: null, name: 'Theirs', at: f.now() });
      const err = await refused(
        issueApiKey(f.deps, { orgId: f.org.id, userId: f.ada.id }, { name: 'x', applications: ['notes', 'nope'], resources: [foreign.id], permissions: { mode: 'simple', level: 'read' } }),
        'invalid_request',
      );
      assert.deepEqual(paths(err), ['applications.1', 'resources.0']);
      assert.deepEqual(paths(await refused(issueApiKey(f.deps, { orgId: f.org.id, userId: f.ada.id }, { name: '', permissions: { mode: 'sometimes' }, colour: 'red' }), 'invalid_request')), ['colour', 'name', 'permissions.mode']);
      const outsider = await f.person(`out-${target.dialect}@example.com`, null);
      await refused(issueApiKey(f.deps, { orgId: f.org.id, userId: outsider.id }, { name: 'x', permissions: { mode: 'simple', level: 'read' } }), 'not_found');
    });

    it('an owner may issue an admin key; it says so in its listing', async () => {
      const { key } = await issueApiKey(f.deps, { orgId: f.org.id, userId: f.ada.id }, { name: 'automation', permissions: { mode: 'simple', level: 'read' }, admin: true });
      assert.equal(key.admin, true);
      assert.equal((await f.store.apiKeys.get(key.id))?.permissions.admin, true);
    });
  });
}
