/** Browser sign-in sessions, in SQL. */
import type { SessionRecord, SessionStore } from '../sessions.ts';
import type { SqlDriver } from './driver.ts';

interface SessionRow extends Omit<SessionRecord, 'amr' | 'ssoConnection'> {
  amr: string;
  ssoConnection: string | null;
}
const SESSION_COLUMNS =
  'id, user_id AS "userId", created_at AS "createdAt", expires_at AS "expiresAt", last_seen_at AS "lastSeenAt", ' +
  'auth_time AS "authTime", amr, ip, user_agent AS "userAgent", sso_connection AS "ssoConnection"';
const toSession = (row: SessionRow | undefined): SessionRecord | undefined => {
  if (!row) return undefined;
  const { ssoConnection, ...rest } = row;
  return { ...rest, amr: JSON.parse(row.amr) as string[], ...(ssoConnection ? { ssoConnection } : {}) };
};

export function sessionStore(db: SqlDriver): SessionStore {
  return {
    async create(s) {
      await db.run(
        `INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen_at, auth_time, amr, ip, user_agent, sso_connection)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [s.id, s.userId, s.createdAt, s.expiresAt, s.lastSeenAt, s.authTime, JSON.stringify(s.amr), s.ip, s.userAgent, s.ssoConnection ?? null],
      );
    },
    find: async (id) => toSession(await db.get<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`, [id])),
    async touch(id, at) {
      await db.run('UPDATE sessions SET last_seen_at = $2 WHERE id = $1', [id, at]);
    },
    async delete(id) {
      await db.run('DELETE FROM sessions WHERE id = $1', [id]);
    },
    async deleteForUser(userId) {
      return (await db.run('DELETE FROM sessions WHERE user_id = $1', [userId])).changes;
    },
    listForUser: async (userId) =>
      (await db.all<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_id = $1 ORDER BY created_at DESC`, [userId])).map(
        (r) => toSession(r)!,
      ),
    async deleteExpired(now) {
      return (await db.run('DELETE FROM sessions WHERE expires_at < $1', [now])).changes;
    },
  };
}
