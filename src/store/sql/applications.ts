/** Applications defined through the admin API or the configuration, in SQL. */
import { createHash } from 'node:crypto';
import type { ApplicationStore, StoredApplication } from '../applications.ts';
import type { SqlDriver } from './driver.ts';

export function applicationStore(db: SqlDriver): ApplicationStore {
  const COLUMNS = 'slug, definition, source, org_id AS "orgId", created_at AS "createdAt", updated_at AS "updatedAt"';
  return {
    list: (filter = {}) =>
      filter.orgId === undefined
        ? db.all<StoredApplication>(`SELECT ${COLUMNS} FROM applications ORDER BY slug`)
        : db.all<StoredApplication>(`SELECT ${COLUMNS} FROM applications WHERE org_id = $1 ORDER BY slug`, [filter.orgId]),
    get: (slug) => db.get<StoredApplication>(`SELECT ${COLUMNS} FROM applications WHERE slug = $1`, [slug]),
    async upsert({ slug, definition, source, at }) {
      await db.run(
        `INSERT INTO applications (slug, definition, source, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (slug) DO UPDATE SET definition = excluded.definition, source = excluded.source, updated_at = excluded.updated_at`,
        [slug, definition, source, at],
      );
    },
    async create({ slug, definition, source, at, orgId = null }) {
      const { changes } = await db.run(
        `INSERT INTO applications (slug, definition, source, created_at, updated_at, org_id) VALUES ($1, $2, $3, $4, $4, $5)
         ON CONFLICT (slug) DO NOTHING`,
        [slug, definition, source, at, orgId],
      );
      return changes === 1;
    },
    async setOrg(slug, orgId, at) {
      return (await db.run('UPDATE applications SET org_id = $1, updated_at = $2 WHERE slug = $3', [orgId, at, slug])).changes === 1;
    },
    async delete(slug) {
      return (await db.run('DELETE FROM applications WHERE slug = $1', [slug])).changes === 1;
    },
    async fingerprint() {
      const rows = await db.all<{ slug: string; updatedAt: number; definition: string }>(
        'SELECT slug, updated_at AS "updatedAt", definition FROM applications ORDER BY slug',
      );
      // A hash of the definitions themselves: two edits within the same second (the admin API
      // writes as fast as it is asked) must still change the fingerprint, even at equal length.
      const hash = createHash('sha256');
      for (const r of rows) hash.update(`${r.slug}\u0000${r.updatedAt}\u0000${r.definition}\u0000`);
      return hash.digest('base64url');
    },
  };
}
