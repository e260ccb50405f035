/**
 * Organizations in SQL, with their members (org-members.ts) and their resource tree
 * (org-resources.ts): one OrgStore, in three modules of one job each.
 */
import { randomBase62 } from '../../core/crypto.ts';
import { PortcullisError } from '../../core/errors.ts';
import type { OrgRole } from '../../core/roles.ts';
import type { Org, OrgStore } from '../orgs.ts';
import type { SqlDriver, SqlValue } from './driver.ts';
import { orgMemberStore } from './org-members.ts';
import { orgResourceStore } from './org-resources.ts';

interface OrgRow {
  id: string;
  slug: string;
  name: string;
  settings: string;
  createdAt: number;
}
const ORG_COLUMNS = 'o.id, o.slug, o.name, o.settings, o.created_at AS "createdAt"';
const toOrg = (row: OrgRow): Org => ({ ...row, settings: JSON.parse(row.settings) as Org['settings'] });

type OrgRecordStore = Pick<OrgStore, 'create' | 'get' | 'bySlug' | 'list' | 'forUser' | 'update' | 'delete'>;

/** Only the fields given change; nothing given: true when the org exists. */
async function updateOrg(db: SqlDriver, id: string, changes: Parameters<OrgStore['update']>[1]): Promise<boolean> {
  const sets: string[] = [];
  const params: SqlValue[] = [id];
  if (changes.name !== undefined) {
    params.push(changes.name);
    sets.push(`name = $${params.length}`);
  }
  if (changes.settings !== undefined) {
    params.push(JSON.stringify(changes.settings));
    sets.push(`settings = $${params.length}`);
  }
  if (!sets.length) return (await db.get('SELECT 1 AS hit FROM orgs WHERE id = $1', [id])) !== undefined;
  return (await db.run(`UPDATE orgs SET ${sets.join(', ')} WHERE id = $1`, params)).changes === 1;
}

function orgRecordStore(db: SqlDriver): OrgRecordStore {
  return {
    async create({ slug, name, settings = {} }) {
      const org: Org = { id: `org_${randomBase62(16)}`, slug, name, settings, createdAt: Math.floor(Date.now() / 1000) };
      const { changes } = await db.run(
        'INSERT INTO orgs (id, slug, name, settings, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING',
        [org.id, slug, name, JSON.stringify(settings), org.createdAt],
      );
      if (changes === 0) throw new PortcullisError('conflict', 'an organization with this slug exists', { rule: 'unique-org-slug' });
      return org;
    },
    get: async (id) => {
      const row = await db.get<OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs o WHERE o.id = $1`, [id]);
      return row ? toOrg(row) : undefined;
    },
    bySlug: async (slug) => {
      const row = await db.get<OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs o WHERE o.slug = $1`, [slug]);
      return row ? toOrg(row) : undefined;
    },
    list: async () => (await db.all<OrgRow>(`SELECT ${ORG_COLUMNS} FROM orgs o ORDER BY o.created_at, o.id`)).map(toOrg),
    forUser: async (userId) =>
      (
        await db.all<OrgRow & { role: OrgRole }>(
          `SELECT ${ORG_COLUMNS}, m.role FROM orgs o JOIN org_members m ON m.org_id = o.id WHERE m.user_id = $1 ORDER BY o.created_at, o.id`,
          [userId],
        )
      ).map((row) => ({ ...toOrg(row), role: row.role })),
    update: (id, changes) => updateOrg(db, id, changes),
    async delete(id) {
      return (await db.run('DELETE FROM orgs WHERE id = $1', [id])).changes === 1;
    },
  };
}

export function orgStore(db: SqlDriver): OrgStore {
  return { ...orgRecordStore(db), ...orgMemberStore(db), ...orgResourceStore(db) };
}
