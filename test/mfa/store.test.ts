/**
 * The second-factor store on both dialects (migration 0009): an enrolment is confirmed once and a
 * confirmed factor is never replaced by a new enrolment; a time step is accepted only when later
 * than the last one (RFC 6238 §5.2 — one winner when the same code arrives twice at once); a
 * recovery code is used once; removing the factor removes its codes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storesUnderTest } from '../helpers/stores.ts';

const NOW = 1_800_000_000;

for (const target of storesUnderTest()) {
  describe(`mfa store: ${target.name}`, { skip: target.skip }, () => {
    it('confirms an enrolment once and keeps a confirmed factor from being replaced', async () => {
      const store = await target.make();
      const user = await store.users.create({ email: 'm@example.com' });
      assert.equal(await store.mfa.putPendingTotp(user.id, 'sealed-1', NOW), true);
      assert.equal(await store.mfa.putPendingTotp(user.id, 'sealed-2', NOW + 1), true, 'an unconfirmed enrolment is restarted');
      assert.equal(await store.mfa.confirmTotp(user.id, 100, NOW + 2), true);
      assert.equal(await store.mfa.confirmTotp(user.id, 101, NOW + 3), false, 'confirmed once');
      assert.equal(await store.mfa.putPendingTotp(user.id, 'sealed-3', NOW + 4), false, 'a confirmed factor stays');
      assert.deepEqual(await store.mfa.findTotp(user.id), { userId: user.id, secretSealed: 'sealed-2', createdAt: NOW + 1, confirmedAt: NOW + 2, lastStep: 100 });
      await store.close();
    });

    it('accepts each time step once, and only a later one; one winner for the same step at once', async () => {
      const store = await target.make();
      const user = await store.users.create({ email: 's@example.com' });
      await store.mfa.putPendingTotp(user.id, 'sealed', NOW);
      assert.equal(await store.mfa.useTotpStep(user.id, 5), false, 'not before confirmation');
      await store.mfa.confirmTotp(user.id, 100, NOW);
      assert.equal(await store.mfa.useTotpStep(user.id, 100), false, 'the confirming step is used');
      assert.equal(await store.mfa.useTotpStep(user.id, 99), false, 'an older step');
      const both = await Promise.all([store.mfa.useTotpStep(user.id, 101), store.mfa.useTotpStep(user.id, 101)]);
      assert.deepEqual(both.sort(), [false, true]);
      await store.close();
    });

    it('uses a recovery code once; new codes replace the old; removing the factor removes the codes', async () => {
      const store = await target.make();
      const user = await store.users.create({ email: 'r@example.com' });
      await store.mfa.putPendingTotp(user.id, 'sealed', NOW);
      await store.mfa.confirmTotp(user.id, 1, NOW);
      await store.mfa.replaceRecoveryCodes(user.id, ['h1', 'h2', 'h3'], NOW);
      assert.equal(await store.mfa.unusedRecoveryCodes(user.id), 3);
      assert.equal(await store.mfa.useRecoveryCode(user.id, 'h2', NOW), true);
      assert.equal(await store.mfa.useRecoveryCode(user.id, 'h2', NOW), false);
      assert.equal(await store.mfa.unusedRecoveryCodes(user.id), 2);
      await store.mfa.replaceRecoveryCodes(user.id, ['h4'], NOW);
      assert.equal(await store.mfa.useRecoveryCode(user.id, 'h1', NOW), false, 'old codes are gone');
      assert.equal(await store.mfa.unusedRecoveryCodes(user.id), 1);
      await store.mfa.deleteTotp(user.id);
      assert.equal(await store.mfa.findTotp(user.id), undefined);
      assert.equal(await store.mfa.unusedRecoveryCodes(user.id), 0);
      await store.close();
    });
  });
}
