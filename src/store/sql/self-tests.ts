/** Self-test results, in SQL. */
import type { SelfTestRecord, SelfTestStore } from '../self-tests.ts';
import type { SqlDriver } from './driver.ts';

interface SelfTestRow extends Omit<SelfTestRecord, 'passed'> {
  passed: number;
}

export function selfTestStore(db: SqlDriver): SelfTestStore {
  const COLUMNS = 'app_slug AS "appSlug", ran_at AS "ranAt", passed, definition_hash AS "definitionHash", url, checks';
  return {
    async put(r) {
      await db.run(
        `INSERT INTO app_self_tests (app_slug, ran_at, passed, definition_hash, url, checks) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (app_slug) DO UPDATE SET ran_at = excluded.ran_at, passed = excluded.passed,
           definition_hash = excluded.definition_hash, url = excluded.url, checks = excluded.checks`,
        [r.appSlug, r.ranAt, r.passed ? 1 : 0, r.definitionHash, r.url, r.checks],
      );
    },
    async get(appSlug) {
      const row = await db.get<SelfTestRow>(`SELECT ${COLUMNS} FROM app_self_tests WHERE app_slug = $1`, [appSlug]);
      return row ? { ...row, ranAt: Number(row.ranAt), passed: Number(row.passed) === 1 } : undefined;
    },
    async delete(appSlug) {
      await db.run('DELETE FROM app_self_tests WHERE app_slug = $1', [appSlug]);
    },
  };
}
