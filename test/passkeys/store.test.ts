/**
 * The passkey store on both dialects (migration 0010): a credential ID is registered once across
 * every account; a person's passkeys come back oldest first with every field; a use moves the
 * signature counter forward only (WebAuthn §7.2 step 22) — equal or lower is refused, both zero is
 * an authenticator without a counter, and of two concurrent uses with the same counter one wins;
 * a person removes only their own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PasskeyCredential } from '../../src/store/passkeys.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const NOW = 1_800_000_000;

const credential = (id: string, userId: string, over: Partial<PasskeyCredential> = {}): PasskeyCredential => ({
  id,
  userId,
  publicKey: 'pQECAyYgASFYIA',
  counter: 0,
  transports: ['internal', 'hybrid'],
  backedUp: false,
  name: 'Laptop',
  createdAt: NOW,
  lastUsedAt: null,
  ...over,
});

for (const target of storesUnderTest()) {
  describe(`passkey store: ${target.name}`, { skip: target.skip }, () => {
    it('registers a credential ID once across accounts and lists a person’s passkeys oldest first', async () => {
      const store = await target.make();
      const ann = await store.users.create({ email: 'ann@example.com' });
      const bob = await store.users.create({ email: 'bob@example.com' });
      assert.equal(await store.passkeys.add(credential('cred-2', ann.id, { createdAt: NOW + 5, name: 'Phone', backedUp: true })), true);
      assert.equal(await store.passkeys.add(credential('cred-1', ann.id)), true);
      assert.equal(await store.passkeys.add(credential('cred-1', bob.id)), false, 'the same credential for someone else');
      assert.deepEqual(await store.passkeys.forUser(ann.id), [credential('cred-1', ann.id), credential('cred-2', ann.id, { createdAt: NOW + 5, name: 'Phone', backedUp: true })]);
      assert.deepEqual(await store.passkeys.forUser(bob.id), []);
      assert.deepEqual(await store.passkeys.find('cred-1'), credential('cred-1', ann.id));
      assert.equal(await store.passkeys.find('nope'), undefined);
      await store.close();
    });

    it('moves the counter forward only; one winner when the same counter arrives twice at once', async () => {
      const store = await target.make();
      const user = await store.users.create({ email: 'c@example.com' });
      await store.passkeys.add(credential('zero', user.id));
      assert.equal(await store.passkeys.use('zero', 0, false, NOW + 1), true, 'no counter: both zero');
      assert.equal(await store.passkeys.use('zero', 0, false, NOW + 2), true);
      assert.equal(await store.passkeys.use('zero', 3, true, NOW + 3), true);
      assert.equal(await store.passkeys.use('zero', 0, true, NOW + 4), false, 'a counter that went back to zero');
      assert.equal(await store.passkeys.use('zero', 3, true, NOW + 4), false, 'an equal counter');
      assert.equal(await store.passkeys.use('zero', 2, true, NOW + 4), false, 'a lower counter');
      const both = await Promise.all([store.passkeys.use('zero', 9, true, NOW + 5), store.passkeys.use('zero', 9, true, NOW + 5)]);
      assert.deepEqual(both.sort(), [false, true]);
      assert.deepEqual(await store.passkeys.find('zero'), credential('zero', user.id, { counter: 9, backedUp: true, lastUsedAt: NOW + 5 }));
      assert.equal(await store.passkeys.use('unknown', 1, false, NOW), false);
      await store.close();
    });

    it('removes only the person’s own passkey', async () => {
      const store = await target.make();
      const ann = await store.users.create({ email: 'ra@example.com' });
      const bob = await store.users.create({ email: 'rb@example.com' });
      await store.passkeys.add(credential('ann-key', ann.id));
      await store.passkeys.add(credential('bob-key', bob.id));
      assert.equal(await store.passkeys.remove(bob.id, 'ann-key'), false);
      assert.ok(await store.passkeys.find('ann-key'));
      assert.equal(await store.passkeys.remove(ann.id, 'ann-key'), true);
      assert.equal(await store.passkeys.remove(ann.id, 'ann-key'), false);
      assert.equal(await store.passkeys.find('ann-key'), undefined);
      assert.ok(await store.passkeys.find('bob-key'), "bob's stays");
      await store.close();
    });
  });
}
