/** Organizations' SSO connections and claimed domains, in SQL (migration 0012). */
import type { DomainVerification, OrgConnectionRecord, OrgConnectionStore, OrgDomain } from '../org-connections.ts';
import type { SqlDriver } from './driver.ts';

const CONNECTION_COLUMNS =
  'id, org_id AS "orgId", definition, secrets_sealed AS "secretsSealed", created_at AS "createdAt", updated_at AS "updatedAt"';
const DOMAIN_COLUMNS =
  'domain, org_id AS "orgId", token, created_at AS "createdAt", verified_at AS "verifiedAt", verified_by AS "verifiedBy", verified_how AS "verifiedHow"';

const toConnection = (row: OrgConnectionRecord): OrgConnectionRecord => ({ ...row, createdAt: Number(row.createdAt), updatedAt: Number(row.updatedAt) });
const toDomain = (row: OrgDomain): OrgDomain => ({ ...row, createdAt: Number(row.createdAt), verifiedAt: row.verifiedAt === null ? null : Number(row.verifiedAt) });

export function orgConnectionStore(db: SqlDriver): OrgConnectionStore {
  return {
    listConnections: async (orgId) =>
      (orgId === undefined
        ? await db.all<OrgConnectionRecord>(`SELECT ${CONNECTION_COLUMNS} FROM org_sso_connections ORDER BY created_at, id`)
        : await db.all<OrgConnectionRecord>(`SELECT ${CONNECTION_COLUMNS} FROM org_sso_connections WHERE org_id = $1 ORDER BY created_at, id`, [orgId])
      ).map(toConnection),
    async getConnection(id) {
      const row = await db.get<OrgConnectionRecord>(`SELECT ${CONNECTION_COLUMNS} FROM org_sso_connections WHERE id = $1`, [id]);
      return row ? toConnection(row) : undefined;
    },
    async createConnection(r) {
      const result = await db.run(
        `INSERT INTO org_sso_connections (id, org_id, definition, secrets_sealed, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [r.id, r.orgId, r.definition, r.secretsSealed, r.createdAt, r.updatedAt],
      );
      return result.changes === 1;
    },
    async updateConnection(orgId, id, definition, secretsSealed, now) {
      const result = await db.run('UPDATE org_sso_connections SET definition = $3, secrets_sealed = $4, updated_at = $5 WHERE org_id = $1 AND id = $2', [
        orgId,
        id,
        definition,
        secretsSealed,
        now,
      ]);
      return result.changes === 1;
    },
    deleteConnection: async (orgId, id) => (await db.run('DELETE FROM org_sso_connections WHERE org_id = $1 AND id = $2', [orgId, id])).changes === 1,
    ...domainMethods(db),
  };
}

type DomainMethods = Pick<OrgConnectionStore, 'listDomains' | 'verifiedDomain' | 'addDomain' | 'verifyDomain' | 'deleteDomain'>;

function domainMethods(db: SqlDriver): DomainMethods {
  return {
    listDomains: async (orgId) =>
      (orgId === undefined
        ? await db.all<OrgDomain>(`SELECT ${DOMAIN_COLUMNS} FROM org_domains ORDER BY domain, created_at`)
        : await db.all<OrgDomain>(`SELECT ${DOMAIN_COLUMNS} FROM org_domains WHERE org_id = $1 ORDER BY domain`, [orgId])
      ).map(toDomain),
    async verifiedDomain(domain) {
      const row = await db.get<OrgDomain>(`SELECT ${DOMAIN_COLUMNS} FROM org_domains WHERE domain = $1 AND verified_at IS NOT NULL`, [domain]);
      return row ? toDomain(row) : undefined;
    },
    async addDomain(d) {
      const result = await db.run(
        'INSERT INTO org_domains (domain, org_id, token, created_at, verified_at, verified_by, verified_how) VALUES ($1, $2, $3, $4, NULL, NULL, NULL) ON CONFLICT (domain, org_id) DO NOTHING',
        [d.domain, d.orgId, d.token, d.createdAt],
      );
      return result.changes === 1;
    },
    verifyDomain: (orgId, domain, how, by, now) => verifyDomain(db, orgId, domain, how, by, now),
    deleteDomain: async (orgId, domain) => (await db.run('DELETE FROM org_domains WHERE org_id = $1 AND domain = $2', [orgId, domain])).changes === 1,
  };
}

async function verifyDomain(db: SqlDriver, orgId: string, domain: string, how: DomainVerification, by: string, now: number): Promise<'ok' | 'taken' | 'unknown'> {
  let changes: number;
  try {
    ({ changes } = await db.run(
      `UPDATE org_domains SET verified_at = $3, verified_by = $4, verified_how = $5
       WHERE org_id = $1 AND domain = $2
         AND NOT EXISTS (SELECT 1 FROM org_domains other WHERE other.domain = $2 AND other.org_id <> $1 AND other.verified_at IS NOT NULL)`,
      [orgId, domain, now, by, how],
    ));
  } catch (err) {
    // Two organizations verifying at once: the unique index on verified domains lets one commit.
    if ((await db.get('SELECT 1 AS hit FROM org_domains WHERE domain = $1 AND org_id <> $2 AND verified_at IS NOT NULL', [domain, orgId])) !== undefined) return 'taken';
    throw err;
  }
  if (changes === 1) return 'ok';
  const mine = await db.get('SELECT 1 AS hit FROM org_domains WHERE domain = $1 AND org_id = $2', [domain, orgId]);
  return mine ? 'taken' : 'unknown';
}
