/** Single sign-on account links, in SQL. */
import type { SsoLink, SsoLinkStore } from '../sso-links.ts';
import type { SqlDriver } from './driver.ts';

const COLUMNS =
  'issuer, subject, connection_id AS "connectionId", user_id AS "userId", created_at AS "createdAt", last_login_at AS "lastLoginAt", credential_sealed AS "credentialSealed", checked_at AS "checkedAt"';
const toLink = (row: SsoLink | undefined): SsoLink | undefined =>
  row
    ? {
        ...row,
        createdAt: Number(row.createdAt),
        lastLoginAt: Number(row.lastLoginAt),
        credentialSealed: row.credentialSealed ?? null,
        checkedAt: row.checkedAt === null || row.checkedAt === undefined ? null : Number(row.checkedAt),
      }
    : undefined;

export function ssoLinkStore(db: SqlDriver): SsoLinkStore {
  return {
    find: async (issuer, subject) => toLink(await db.get<SsoLink>(`SELECT ${COLUMNS} FROM sso_links WHERE issuer = $1 AND subject = $2`, [issuer, subject])),
    async create(link) {
      const result = await db.run(
        `INSERT INTO sso_links (issuer, subject, connection_id, user_id, created_at, last_login_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (issuer, subject) DO NOTHING`,
        [link.issuer, link.subject, link.connectionId, link.userId, link.createdAt, link.lastLoginAt],
      );
      return result.changes === 1;
    },
    async touch(issuer, subject, at) {
      await db.run('UPDATE sso_links SET last_login_at = $3 WHERE issuer = $1 AND subject = $2', [issuer, subject, at]);
    },
    forUser: async (userId) =>
      (await db.all<SsoLink>(`SELECT ${COLUMNS} FROM sso_links WHERE user_id = $1 ORDER BY created_at`, [userId])).map((r) => toLink(r)!),
    async removeForConnection(connectionId) {
      return (await db.run('DELETE FROM sso_links WHERE connection_id = $1', [connectionId])).changes;
    },
    async setCredential(issuer, subject, sealed) {
      await db.run('UPDATE sso_links SET credential_sealed = $3 WHERE issuer = $1 AND subject = $2', [issuer, subject, sealed]);
    },
    async claimCheck(issuer, subject, at, intervalSeconds) {
      // One conditional update: of two instances racing, only one sees a row change.
      const result = await db.run(
        'UPDATE sso_links SET checked_at = $3 WHERE issuer = $1 AND subject = $2 AND (checked_at IS NULL OR checked_at <= $4)',
        [issuer, subject, at, at - intervalSeconds],
      );
      return result.changes === 1;
    },
  };
}
