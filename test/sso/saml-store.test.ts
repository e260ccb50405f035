/**
 * The store side of SAML replay protection (store.oneTime.putIfAbsent), on both dialects: an
 * assertion ID is kept once until it expires — of two instances offered the same ID at once,
 * exactly one wins — an expired entry no longer counts, and other kinds are kept apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storesUnderTest } from '../helpers/stores.ts';

const NOW = 1_800_000_000;

for (const target of storesUnderTest()) {
  describe(`one-time putIfAbsent (SAML assertion IDs): ${target.name}`, { skip: target.skip }, () => {
    it('keeps an ID once until it expires, then takes it again', async () => {
      const store = await target.make();
      assert.equal(await store.oneTime.putIfAbsent('saml-assertion', 'id-1', '1', NOW + 300, NOW), true);
      assert.equal(await store.oneTime.putIfAbsent('saml-assertion', 'id-1', '1', NOW + 300, NOW + 10), false, 'seen already');
      assert.equal(await store.oneTime.putIfAbsent('saml-assertion', 'id-1', '1', NOW + 900, NOW + 299), false, 'still kept the second before it expires');
      assert.equal(await store.oneTime.putIfAbsent('saml-assertion', 'id-1', '1', NOW + 900, NOW + 300), true, 'an expired entry is absent');
      assert.equal(await store.oneTime.putIfAbsent('other-kind', 'id-1', '1', NOW + 300, NOW), true, 'kinds are apart');
      await store.close();
    });

    it('of two writers at once, exactly one wins', async () => {
      const store = await target.make();
      const results = await Promise.all(Array.from({ length: 8 }, () => store.oneTime.putIfAbsent('saml-assertion', 'race', '1', NOW + 300, NOW)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.oneTime.deleteExpired(NOW + 301), 1, 'swept like any one-time value');
      await store.close();
    });
  });
}
