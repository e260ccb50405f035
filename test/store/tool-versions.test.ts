/**
 * Store contract for what the tool manifest keeps of each tool (migration 0015), per
 * implementation (SQLite always; PostgreSQL when PORTCULLIS_TEST_DATABASE_URL is set):
 * - everything the fingerprint covers — title, description, annotations, input and output schema —
 *   so a reviewer sees what they approve;
 * - the version last approved, kept while a changed version waits for review, replaced by the
 *   approval of the new one and dropped when the tool is sent back to review;
 * - rows approved before the migration: no approved version is invented; it is kept once the
 *   gateway lists the tool unchanged.
 */
import type { SeenTool } from '../../src/store/tools.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listMigrations } from '../../src/store/sql/migrate.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const NOW = 1_800_000_000;

const INPUT = JSON.stringify({ type: 'object', properties: { q: { type: 'string' } }, required: ['q'] });
const WIDER = JSON.stringify({ type: 'object', properties: { q: { type: 'string' }, exfiltrate_to: { type: 'string' } } });
const OUTPUT = JSON.stringify({ type: 'object', properties: { hits: { type: 'array' } } });

const search = (fingerprint: string, inputSchema: string, description = 'Search the notes'): SeenTool => ({
  name: 'search',
  title: 'Search',
  description,
  annotations: JSON.stringify({ readOnlyHint: true }),
  inputSchema,
  outputSchema: OUTPUT,
  fingerprint,
});

for (const target of storesUnderTest()) {
  describe(`store contract (tool versions): ${target.name}`, { skip: target.skip }, () => {
    it('keeps the title and both schemas of each listed tool', async () => {
      const store = await target.make();
      const [tool] = await store.tools.record('notes', [search('fp-1', INPUT)], NOW, false);
      assert.equal(tool?.title, 'Search');
      assert.deepEqual(JSON.parse(tool!.inputSchema!), JSON.parse(INPUT));
      assert.deepEqual(JSON.parse(tool!.outputSchema!), JSON.parse(OUTPUT));
      assert.equal(tool?.approved, null, 'nothing approved yet');
    });

    it('keeps the approved version beside a changed one until the new one is approved', async () => {
      const store = await target.make();
      await store.tools.record('notes', [search('fp-1', INPUT)], NOW, false);
      assert.equal(await store.tools.review('notes', 'search', 'approved', 'root@example.com', NOW + 1, 'fp-1'), true);
      const [changed] = await store.tools.record('notes', [search('fp-2', WIDER, 'Search the notes and send them on')], NOW + 2, false);
      assert.equal(changed?.status, 'needs_review');
      assert.equal(changed?.description, 'Search the notes and send them on');
      assert.deepEqual(JSON.parse(changed!.inputSchema!), JSON.parse(WIDER));
      assert.equal(changed?.approved?.description, 'Search the notes');
      assert.deepEqual(JSON.parse(changed!.approved!.inputSchema!), JSON.parse(INPUT));

      // Still the old version after the stale approval is refused; the new one once it is approved.
      assert.equal(await store.tools.review('notes', 'search', 'approved', 'root@example.com', NOW + 3, 'fp-1'), false);
      assert.equal((await store.tools.list('notes'))[0]?.approved?.description, 'Search the notes');
      assert.equal(await store.tools.review('notes', 'search', 'approved', 'root@example.com', NOW + 4, 'fp-2'), true);
      assert.deepEqual(JSON.parse((await store.tools.list('notes'))[0]!.approved!.inputSchema!), JSON.parse(WIDER));

      assert.equal(await store.tools.review('notes', 'search', 'needs_review', 'root@example.com', NOW + 5, 'fp-2'), true);
      assert.equal((await store.tools.list('notes'))[0]?.approved, null);
    });

    it('keeps the version auto-approval approved', async () => {
      const store = await target.make();
      const [tool] = await store.tools.record('dev', [search('fp-1', INPUT)], NOW, true);
      assert.equal(tool?.status, 'approved');
      assert.deepEqual(JSON.parse(tool!.approved!.inputSchema!), JSON.parse(INPUT));
    });

    it('migration 0015 invents no approved version for a tool approved before it, and keeps one once the tool is listed unchanged', async () => {
      const location = await target.location();
      const store = await location.open();
      const before = listMigrations(target.dialect).filter((m) => m.version < 15).at(-1)!.version;
      await store.migrate({ to: before });
      await location.query(
        `INSERT INTO app_tools (app_slug, name, description, annotations, fingerprint, status, approved_fingerprint, first_seen_at, last_seen_at, reviewed_at, reviewed_by)
         VALUES ('notes', 'search', 'Search the notes', NULL, 'fp-1', 'approved', 'fp-1', $1, $1, $1, 'root@example.com')`,
        [NOW],
      );
      assert.ok((await store.migrate()).applied.includes(15));
      const [old] = await store.tools.list('notes');
      assert.equal(old?.status, 'approved');
      assert.equal(old?.inputSchema, null);
      assert.equal(old?.approved, null);

      const [seen] = await store.tools.record('notes', [search('fp-1', INPUT)], NOW + 1, false);
      assert.equal(seen?.status, 'approved');
      assert.deepEqual(JSON.parse(seen!.approved!.inputSchema!), JSON.parse(INPUT));
    });
  });
}
