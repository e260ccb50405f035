/** People with an account, in SQL; e-mail addresses compared lower-cased. */
import { randomBase62 } from '../../core/crypto.ts';
import { PortcullisError } from '../../core/errors.ts';
import type { User, UserStore } from '../users.ts';
import type { SqlDriver } from './driver.ts';

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  passwordHash: string | null;
  createdAt: number;
  disabledAt: number | null;
  deletedAt: number | null;
  isAdmin: number;
}
const USER_COLUMNS =
  'id, email, name, password_hash AS "passwordHash", created_at AS "createdAt", disabled_at AS "disabledAt", deleted_at AS "deletedAt", is_admin AS "isAdmin"';
const toUser = (row: UserRow | undefined): User | undefined => (row ? { ...row, isAdmin: Number(row.isAdmin) === 1 } : undefined);
const normalizeEmail = (email: string) => email.trim().toLowerCase();

export function userStore(db: SqlDriver): UserStore {
  return {
    async create(input) {
      const user: User = {
        id: `usr_${randomBase62(20)}`,
        email: input.email.trim(),
        name: input.name ?? null,
        passwordHash: input.passwordHash ?? null,
        createdAt: Math.floor(Date.now() / 1000),
        disabledAt: null,
        deletedAt: null,
        isAdmin: input.isAdmin ?? false,
      };
      const { changes } = await db.run(
        `INSERT INTO users (id, email, email_normalized, name, password_hash, is_admin, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email_normalized) DO NOTHING`,
        [user.id, user.email, normalizeEmail(user.email), user.name, user.passwordHash, user.isAdmin ? 1 : 0, user.createdAt],
      );
      if (changes === 0) throw new PortcullisError('conflict', 'a user with this e-mail address exists', { rule: 'unique-email' });
      return user;
    },
    findById: async (id) => toUser(await db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id])),
    findByEmail: async (email) =>
      toUser(await db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email_normalized = $1`, [normalizeEmail(email)])),
    async setPassword(id, passwordHash) {
      await db.run('UPDATE users SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
    },
    async setName(id, name) {
      return (await db.run('UPDATE users SET name = $2 WHERE id = $1 AND deleted_at IS NULL', [id, name])).changes === 1;
    },
    async setEmail(id, email) {
      const normalized = normalizeEmail(email);
      const takenByAnother = async () => !!(await db.get('SELECT 1 AS found FROM users WHERE email_normalized = $1 AND id <> $2', [normalized, id]));
      try {
        // One statement: the address changes only if no other account holds it.
        const { changes } = await db.run(
          'UPDATE users SET email = $2, email_normalized = $3 WHERE id = $1 AND deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM users AS o WHERE o.email_normalized = $3 AND o.id <> $1)',
          [id, email.trim(), normalized],
        );
        if (changes === 1) return 'ok';
      } catch (err) {
        // A concurrent change took it between the check and the write: the unique index refused.
        if (!(await takenByAnother())) throw err;
        return 'taken';
      }
      return (await takenByAnother()) ? 'taken' : 'not_found';
    },
    async setDisabled(id, at) {
      return (await db.run('UPDATE users SET disabled_at = $2 WHERE id = $1 AND deleted_at IS NULL', [id, at])).changes === 1;
    },
    async erase(id, at) {
      // The row stays (records refer to it); what identifies a person goes.
      const tombstone = `deleted+${id}@invalid`;
      return (
        await db.run(
          `UPDATE users SET email = $2, email_normalized = $2, name = NULL, password_hash = NULL,
             deleted_at = $3, disabled_at = COALESCE(disabled_at, $3) WHERE id = $1 AND deleted_at IS NULL`,
          [id, tombstone, at],
        )
      ).changes === 1;
    },
    list: async () => (await db.all<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY created_at, id`)).map((r) => toUser(r)!),
    count: async () => Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM users'))?.n ?? 0),
  };
}
