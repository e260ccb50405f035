/**
 * What readiness asks the store about its schema (store/sql/migrate.ts `pendingMigrations`): the
 * versions this build knows that the database has not applied — all of them on an empty database,
 * the later ones on a database migrated part of the way, none once migrated. On every dialect.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { storeAtVersion, storesUnderTest } from '../helpers/stores.ts';

for (const target of storesUnderTest()) {
  describe(`pending migrations: ${target.name}`, { skip: target.skip }, () => {
    // The numbered files this build ships (src/store/migrations/<dialect>/NNNN_name.sql).
    const known = readdirSync(join(import.meta.dirname, '../../src/store/migrations', target.dialect))
      .filter((file) => /^\d{4}_.*\.sql$/.test(file))
      .map((file) => Number(file.slice(0, 4)))
      .sort((a, b) => a - b);

    it('an empty database: every known migration is pending', async () => {
      assert.deepEqual(await (await storeAtVersion(target, 0)).pendingMigrations(), known);
    });

    it('migrated up to the first: the rest are pending', async () => {
      assert.deepEqual(await (await storeAtVersion(target, known[0]!)).pendingMigrations(), known.slice(1));
    });

    it('migrated: none', async () => {
      assert.deepEqual(await (await target.make()).pendingMigrations(), []);
    });
  });
}
