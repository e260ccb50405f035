/** Second factors, in SQL: every "use once" is one conditional UPDATE, so concurrent uses have one winner. */
import type { MfaStore, TotpFactor } from '../mfa.ts';
import type { SqlDriver } from './driver.ts';

const TOTP_COLUMNS = 'user_id AS "userId", secret_sealed AS "secretSealed", created_at AS "createdAt", confirmed_at AS "confirmedAt", last_step AS "lastStep"';

const toFactor = (row: TotpFactor | undefined): TotpFactor | undefined =>
  row
    ? {
        ...row,
        createdAt: Number(row.createdAt),
        confirmedAt: row.confirmedAt === null ? null : Number(row.confirmedAt),
        lastStep: row.lastStep === null ? null : Number(row.lastStep),
      }
    : undefined;

export function mfaStore(db: SqlDriver): MfaStore {
  return {
    findTotp: async (userId) => toFactor(await db.get<TotpFactor>(`SELECT ${TOTP_COLUMNS} FROM mfa_totp WHERE user_id = $1`, [userId])),
    async putPendingTotp(userId, secretSealed, now) {
      const result = await db.run(
        `INSERT INTO mfa_totp (user_id, secret_sealed, created_at, confirmed_at, last_step) VALUES ($1, $2, $3, NULL, NULL)
         ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, created_at = excluded.created_at
         WHERE mfa_totp.confirmed_at IS NULL`,
        [userId, secretSealed, now],
      );
      return result.changes > 0;
    },
    async confirmTotp(userId, step, now) {
      const result = await db.run('UPDATE mfa_totp SET confirmed_at = $2, last_step = $3 WHERE user_id = $1 AND confirmed_at IS NULL', [userId, now, step]);
      return result.changes > 0;
    },
    async useTotpStep(userId, step) {
      const result = await db.run(
        'UPDATE mfa_totp SET last_step = $2 WHERE user_id = $1 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)',
        [userId, step],
      );
      return result.changes > 0;
    },
    async deleteTotp(userId) {
      await db.transaction(async (tx) => {
        await tx.run('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
        await tx.run('DELETE FROM mfa_totp WHERE user_id = $1', [userId]);
      });
    },
    async replaceRecoveryCodes(userId, hashes, now) {
      await db.transaction(async (tx) => {
        await tx.run('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
        for (const hash of hashes) {
          await tx.run('INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at, used_at) VALUES ($1, $2, $3, NULL)', [userId, hash, now]);
        }
      });
    },
    async useRecoveryCode(userId, hash, now) {
      const result = await db.run('UPDATE mfa_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL', [userId, hash, now]);
      return result.changes > 0;
    },
    async unusedRecoveryCodes(userId) {
      const row = await db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
      return Number(row?.n ?? 0);
    },
  };
}
