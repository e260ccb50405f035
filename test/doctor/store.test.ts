/**
 * The connection doctor's store on both dialects (migration 0013): a batch is appended in order and
 * read back per client, per person, by time and after an id (the watch); the sweep deletes what is
 * older than the retention and keeps only each client's newest events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storesUnderTest } from '../helpers/stores.ts';

const NOW = 1_800_000_000;

const event = (at: number, clientId: string | null, kind: string, ok = true, userId: string | null = null) => ({ at, clientId, userId, kind, ok, detail: { n: at } });

for (const target of storesUnderTest()) {
  describe(`connection events store: ${target.name}`, { skip: target.skip }, () => {
    it('reads back a batch per client, per person, since a time and after an id, oldest first', async () => {
      const store = await target.make();
      await store.connectionEvents.append([event(NOW, 'a', 'registered'), event(NOW + 1, null, 'server-metadata'), event(NOW + 2, 'a', 'authorize', false, 'u1'), event(NOW + 3, 'b', 'token', true, 'u1')]);
      const a = await store.connectionEvents.forClient('a', NOW);
      assert.deepEqual(a.map((e) => [e.kind, e.ok, e.at, e.detail]), [['registered', true, NOW, { n: NOW }], ['authorize', false, NOW + 2, { n: NOW + 2 }]]);
      assert.deepEqual((await store.connectionEvents.forUser('u1', NOW)).map((e) => e.clientId), ['a', 'b']);
      assert.deepEqual((await store.connectionEvents.since(NOW + 1)).map((e) => e.kind), ['server-metadata', 'authorize', 'token']);
      assert.deepEqual((await store.connectionEvents.since(NOW, 2)).map((e) => e.kind), ['authorize', 'token'], 'the newest, oldest first');
      const all = await store.connectionEvents.since(0);
      const after = await store.connectionEvents.newerThan(all[1]!.id);
      assert.deepEqual(after.map((e) => e.kind), ['authorize', 'token']);
      assert.equal((await store.connectionEvents.forClient('a', NOW + 3)).length, 0);
      await store.close();
    });

    it('sweeps events past the retention and all but the newest of each client', async () => {
      const store = await target.make();
      const many = Array.from({ length: 5 }, (_, i) => event(NOW + i, 'busy', 'registered'));
      await store.connectionEvents.append([event(NOW - 100, 'old', 'token'), ...many, event(NOW, 'quiet', 'token'), event(NOW, null, 'server-metadata')]);
      assert.equal(await store.connectionEvents.sweep(NOW - 10, 3), 3);
      assert.deepEqual((await store.connectionEvents.forClient('busy', 0)).map((e) => e.at), [NOW + 2, NOW + 3, NOW + 4]);
      assert.equal((await store.connectionEvents.forClient('old', 0)).length, 0);
      assert.equal((await store.connectionEvents.forClient('quiet', 0)).length, 1);
      assert.equal((await store.connectionEvents.since(0)).length, 5);
      await store.close();
    });
  });
}
