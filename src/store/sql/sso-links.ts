/** Single sign-on account links, in SQL. */
import type { SsoLink, SsoLinkStore } from '../sso-links.ts';
import type { SqlDriver } from './driver.ts';

const COLUMNS =
  'issuer, subject, connection_id AS "connectionId", user_id AS "userId", created_at AS "createdAt", last_login_at AS "lastLoginAt"';
const toLink = (row: SsoLink | undefined): SsoLink | undefined =>
  row ? { ...row, createdAt: Number(row.createdAt), lastLoginAt: Number(row.lastLoginAt) } : undefined;

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
  };
}
