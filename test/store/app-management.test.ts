/**
 * Store contract for managing applications (admin API, `portcullis apps`), per implementation
 * (SQLite always; PostgreSQL when PORTCULLIS_TEST_DATABASE_URL is set):
 * - the last self-test of each application (migration 0004);
 * - creating an application is one statement that a second creator loses;
 * - an approval can be tied to the exact tool version the reviewer saw;
 * - every definition change moves the fingerprint other processes poll, even two edits of equal
 *   length within one second.
 */
import type { SeenTool } from '../../src/store/tools.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storeAtVersion, storesUnderTest } from '../helpers/stores.ts';

const NOW = 1_800_000_000;

const tool = (name: string, fingerprint: string): SeenTool => ({ name, title: null, description: `${name} tool`, annotations: null, inputSchema: null, outputSchema: null, fingerprint });

for (const target of storesUnderTest()) {
  describe(`store contract (application management): ${target.name}`, { skip: target.skip }, () => {
    it('keeps the last self-test per application, replacing the previous one, and deletes it', async () => {
      const store = await target.make();
      assert.equal(await store.selfTests.get('notes'), undefined);
      await store.selfTests.put({ appSlug: 'notes', ranAt: NOW, passed: false, definitionHash: 'h1', url: 'https://pc.example/mcp/notes', checks: '[{"name":"no_token"}]' });
      await store.selfTests.put({ appSlug: 'other', ranAt: NOW, passed: true, definitionHash: 'h9', url: 'https://pc.example/mcp/other', checks: '[]' });
      await store.selfTests.put({ appSlug: 'notes', ranAt: NOW + 5, passed: true, definitionHash: 'h2', url: 'https://pc.example/mcp/notes', checks: '[]' });
      assert.deepEqual(await store.selfTests.get('notes'), { appSlug: 'notes', ranAt: NOW + 5, passed: true, definitionHash: 'h2', url: 'https://pc.example/mcp/notes', checks: '[]' });
      await store.selfTests.delete('notes');
      assert.equal(await store.selfTests.get('notes'), undefined);
      assert.equal((await store.selfTests.get('other'))?.passed, true);
    });

    it('creates an application once: the second create of a slug writes nothing', async () => {
      const store = await target.make();
      const results = await Promise.all(
        ['{"v":1}', '{"v":2}', '{"v":3}'].map((definition) => store.applications.create({ slug: 'notes', definition, source: 'api', at: NOW })),
      );
      assert.equal(results.filter(Boolean).length, 1);
      const stored = await store.applications.get('notes');
      assert.equal(stored?.source, 'api');
      assert.equal(await store.applications.create({ slug: 'notes', definition: '{"v":4}', source: 'api', at: NOW + 1 }), false);
      assert.equal((await store.applications.get('notes'))?.definition, stored?.definition);
    });

    it('moves the fingerprint on every definition change, even an equal-length edit within the same second', async () => {
      const store = await target.make();
      await store.applications.upsert({ slug: 'notes', definition: '{"name":"aaaa"}', source: 'api', at: NOW });
      const first = await store.applications.fingerprint();
      await store.applications.upsert({ slug: 'notes', definition: '{"name":"bbbb"}', source: 'api', at: NOW });
      const second = await store.applications.fingerprint();
      assert.notEqual(second, first);
      await store.applications.delete('notes');
      assert.notEqual(await store.applications.fingerprint(), second);
    });

    it('approves a tool only in the version the reviewer saw, when that version is named', async () => {
      const store = await target.make();
      await store.tools.record('notes', [tool('search', 'fp-1')], NOW, false);
      // The upstream changed the tool after the reviewer looked at fp-1.
      await store.tools.record('notes', [tool('search', 'fp-2')], NOW + 1, false);
      assert.equal(await store.tools.review('notes', 'search', 'approved', 'root@example.com', NOW + 2, 'fp-1'), false);
      assert.equal((await store.tools.list('notes'))[0]?.status, 'needs_review');
      assert.equal(await store.tools.review('notes', 'search', 'approved', 'root@example.com', NOW + 3, 'fp-2'), true);
      const [approved] = await store.tools.list('notes');
      assert.equal(approved?.status, 'approved');
      assert.equal(approved?.approvedFingerprint, 'fp-2');
      assert.equal(approved?.reviewedBy, 'root@example.com');
      // Without a named version, the current one is approved (and an unknown tool is refused).
      assert.equal(await store.tools.review('notes', 'search', 'needs_review', 'root@example.com', NOW + 4), true);
      assert.equal((await store.tools.list('notes'))[0]?.approvedFingerprint, null);
      assert.equal(await store.tools.review('notes', 'nope', 'approved', 'root@example.com', NOW + 5), false);
    });

    it('migration 0004 adds the self-test table to a database at version 3 without touching its applications', async () => {
      const store = await storeAtVersion(target, 3);
      await store.applications.upsert({ slug: 'notes', definition: '{"slug":"notes"}', source: 'config', at: NOW });
      const report = await store.migrate();
      assert.ok(report.applied.includes(4));
      assert.equal((await store.applications.get('notes'))?.definition, '{"slug":"notes"}');
      await store.selfTests.put({ appSlug: 'notes', ranAt: NOW, passed: true, definitionHash: 'h', url: 'u', checks: '[]' });
      assert.equal((await store.selfTests.get('notes'))?.passed, true);
    });
  });
}
