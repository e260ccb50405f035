/**
 * The guard's in-memory view of revocation events, over every real store (SQLite always,
 * PostgreSQL when PORTCULLIS_TEST_DATABASE_URL is set): what one process records, another
 * process sharing the database refuses within its poll interval.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RevocationList } from '../../src/revocation/revocation-list.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
  return Date.now() - started;
}

for (const target of storesUnderTest()) {
  describe(`guard: revocation list (${target.name})`, { skip: target.skip }, () => {
    it('loads the events already recorded when it starts', async () => {
      const store = await target.make();
      const at = 1_000;
      await store.revocations.add({ kind: 'grant', id: 'g1', at, expiresAt: at + 600 });
      await store.revocations.add({ kind: 'token', id: 'j1', at, expiresAt: at + 600 });
      const list = new RevocationList(store.revocations, () => at);
      await list.sync();
      assert.ok(list.has('grant', 'g1'));
      assert.ok(list.has('token', 'j1'));
      assert.ok(!list.has('token', 'g1'), 'kinds do not mix');
      assert.ok(list.isRevoked({ grantId: 'g1', jti: 'other' }));
      assert.ok(list.isRevoked({ grantId: undefined, jti: 'j1' }));
      assert.ok(!list.isRevoked({ grantId: 'g2', jti: 'j2' }));
      assert.ok(!list.isRevoked({ grantId: undefined, jti: 'g1' }));
    });

    it('another process sharing the database sees a revocation within its poll interval', async () => {
      const location = await target.location();
      const writer = await location.open();
      await writer.migrate();
      const reader = await location.open();
      const now = () => Math.floor(Date.now() / 1000);
      const list = new RevocationList(reader.revocations, now);
      await list.start(100);
      try {
        assert.ok(!list.isRevoked({ grantId: 'late', jti: 'x' }));
        await writer.revocations.add({ kind: 'grant', id: 'late', at: now(), expiresAt: now() + 600 });
        const took = await until(() => list.isRevoked({ grantId: 'late', jti: 'x' }), 1000);
        assert.ok(took < 1000);
      } finally {
        list.stop();
      }
    });

    it('reads past the first page of events (more than 1000 recorded)', async () => {
      const store = await target.make();
      const at = 5_000;
      const total = 1_205;
      for (let i = 0; i < total; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, total - i) }, (_, k) => store.revocations.add({ kind: 'token', id: `t${i + k}`, at, expiresAt: at + 600 })),
        );
      }
      const list = new RevocationList(store.revocations, () => at);
      await list.sync();
      assert.ok(list.has('token', 't0'));
      assert.ok(list.has('token', `t${total - 1}`));
      for (let i = 0; i < total; i += 97) assert.ok(list.has('token', `t${i}`), `t${i}`);
    });

    it('forgets events once every credential they concern has expired', async () => {
      const store = await target.make();
      let clock = 10_000;
      await store.revocations.add({ kind: 'grant', id: 'short', at: clock, expiresAt: clock + 30 });
      await store.revocations.add({ kind: 'grant', id: 'long', at: clock, expiresAt: clock + 3_000 });
      const list = new RevocationList(store.revocations, () => clock);
      await list.sync();
      assert.ok(list.has('grant', 'short'));
      clock += 31;
      await list.sync();
      assert.ok(!list.has('grant', 'short'));
      assert.ok(list.has('grant', 'long'));
    });

    it('hears of an in-process revocation at once, and does not lose later events because of it', async () => {
      const store = await target.make();
      const list = new RevocationList(store.revocations, () => 20_000);
      await list.sync();
      list.apply({ kind: 'grant', id: 'direct', expiresAt: 20_600 });
      assert.ok(list.isRevoked({ grantId: 'direct', jti: 'x' }));
      // Recorded in the store afterwards (as the revoker does) and then another one elsewhere.
      await store.revocations.add({ kind: 'grant', id: 'direct', at: 20_000, expiresAt: 20_600 });
      await store.revocations.add({ kind: 'token', id: 'next', at: 20_000, expiresAt: 20_600 });
      await list.sync();
      assert.ok(list.has('token', 'next'));
      assert.ok(list.has('grant', 'direct'));
    });
  });
}
