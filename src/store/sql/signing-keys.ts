/** Token-signing keys, in SQL (sealed by the caller). */
import type { SigningKeyRecord, SigningKeyStore } from '../signing-keys.ts';
import type { SqlDriver } from './driver.ts';

const KEY_COLUMNS =
  'kid, alg, public_jwk AS "publicJwk", private_jwk_sealed AS "privateJwkSealed", created_at AS "createdAt", retired_at AS "retiredAt"';

export function signingKeyStore(db: SqlDriver): SigningKeyStore {
  return {
    list: () => db.all<SigningKeyRecord>(`SELECT ${KEY_COLUMNS} FROM signing_keys ORDER BY created_at DESC, kid`),
    async insert(k) {
      await db.run(
        'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_sealed, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [k.kid, k.alg, k.publicJwk, k.privateJwkSealed, k.createdAt, k.retiredAt],
      );
    },
    async retireAllExcept(keepKid, at) {
      await db.run('UPDATE signing_keys SET retired_at = $2 WHERE kid <> $1 AND retired_at IS NULL', [keepKid, at]);
    },
    async deleteRetiredBefore(at) {
      return (await db.run('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1', [at])).changes;
    },
    async deleteRetired(kid) {
      // The condition is in the statement so a concurrent rotation cannot make us delete the signing key.
      return (await db.run('DELETE FROM signing_keys WHERE kid = $1 AND retired_at IS NOT NULL', [kid])).changes === 1;
    },
  };
}
