/**
 * The account links' re-check state on both dialects (migration 0011): the IdP's sealed
 * credential is kept, replaced and forgotten; of many instances asking at once whether a link is
 * due for a re-check, exactly one is told yes, and nobody again until the interval has passed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storesUnderTest } from '../helpers/stores.ts';

const NOW = 1_800_000_000;
const ISSUER = 'https://idp.initech.test';

for (const target of storesUnderTest()) {
  describe(`sso link re-check store: ${target.name}`, { skip: target.skip }, () => {
    it('keeps, replaces and forgets the sealed credential of a link', async () => {
      const store = await target.make();
      const user = await store.users.create({ email: 'leaver@initech.test' });
      await store.ssoLinks.create({ issuer: ISSUER, subject: 's-1', connectionId: 'acme', userId: user.id, createdAt: NOW, lastLoginAt: NOW });
      assert.deepEqual(
        { sealed: (await store.ssoLinks.find(ISSUER, 's-1'))?.credentialSealed, checked: (await store.ssoLinks.find(ISSUER, 's-1'))?.checkedAt },
        { sealed: null, checked: null },
        'a new link has nothing to re-check with',
      );
      await store.ssoLinks.setCredential(ISSUER, 's-1', 'sealed-1');
      await store.ssoLinks.setCredential(ISSUER, 's-1', 'sealed-2');
      assert.equal((await store.ssoLinks.find(ISSUER, 's-1'))?.credentialSealed, 'sealed-2');
      assert.equal((await store.ssoLinks.forUser(user.id))[0]?.credentialSealed, 'sealed-2');
      await store.ssoLinks.setCredential(ISSUER, 's-1', null);
      assert.equal((await store.ssoLinks.find(ISSUER, 's-1'))?.credentialSealed, null);
      await store.close();
    });

    it('lets exactly one of many concurrent callers re-check a link, then nobody until the interval has passed', async () => {
      const store = await target.make();
      const user = await store.users.create({ email: 'busy@initech.test' });
      await store.ssoLinks.create({ issuer: ISSUER, subject: 's-2', connectionId: 'acme', userId: user.id, createdAt: NOW, lastLoginAt: NOW });
      const claims = await Promise.all(Array.from({ length: 20 }, () => store.ssoLinks.claimCheck(ISSUER, 's-2', NOW, 60)));
      assert.equal(claims.filter(Boolean).length, 1);
      assert.equal((await store.ssoLinks.find(ISSUER, 's-2'))?.checkedAt, NOW);
      assert.equal(await store.ssoLinks.claimCheck(ISSUER, 's-2', NOW + 59, 60), false, 'within the interval');
      assert.equal(await store.ssoLinks.claimCheck(ISSUER, 's-2', NOW + 60, 60), true, 'once the interval has passed');
      assert.equal(await store.ssoLinks.claimCheck(ISSUER, 'unknown', NOW, 60), false, 'no such link');
      await store.close();
    });
  });
}
