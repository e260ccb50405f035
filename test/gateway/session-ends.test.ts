/**
 * An MCP session ended (DELETE) through one instance is refused by every other instance within a
 * second — not after the other instance's session cache runs out (it trusted a lookup for 60 s).
 * Two "instances" here: two stores on one database, each with its own revocation list (polling
 * as a server's does) and its own gateway bindings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bindings } from '../../src/gateway/bindings.ts';
import { RevocationList } from '../../src/revocation/revocation-list.ts';
import { storesUnderTest } from '../helpers/stores.ts';

for (const target of storesUnderTest()) {
  describe(`gateway sessions across instances (${target.name})`, { skip: target.skip }, () => {
    it('a session ended through one instance is refused by another within a second', async () => {
      const location = await target.location();
      const first = await location.open();
      await first.migrate();
      const second = await location.open();
      const now = () => Math.floor(Date.now() / 1000);
      const key = Buffer.alloc(32, 7);
      const lists = [new RevocationList(first.revocations, now), new RevocationList(second.revocations, now)];
      for (const list of lists) await list.start(100);
      try {
        const atFirst = new Bindings(first, key, now, lists[0]!);
        const atSecond = new Bindings(second, key, now, lists[1]!);
        const gatewayId = await atFirst.adoptSession('notes', 'ada client', 'upstream-session-1');
        // The second instance looks the session up once: from now on it would trust its cache.
        assert.equal(await atSecond.resolveSession('notes', 'ada client', gatewayId), 'upstream-session-1');
        assert.equal(await atSecond.resolveSession('notes', 'eve client', gatewayId), undefined, 'someone else gets nothing');

        const endedAt = Date.now();
        await atFirst.endSession('notes', gatewayId);
        assert.equal(await atFirst.resolveSession('notes', 'ada client', gatewayId), undefined, 'ended where it was ended');
        let seen = await atSecond.resolveSession('notes', 'ada client', gatewayId);
        while (seen !== undefined && Date.now() - endedAt < 1500) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          seen = await atSecond.resolveSession('notes', 'ada client', gatewayId);
        }
        assert.equal(seen, undefined, 'the other instance still forwards the ended session');
        assert.ok(Date.now() - endedAt < 1000, `refused only after ${Date.now() - endedAt} ms`);
      } finally {
        for (const list of lists) list.stop();
      }
    });
  });
}
