/** Invitations, in SQL. */
import type { Invitation, InvitationStore } from '../invitations.ts';
import type { SqlDriver } from './driver.ts';

const INVITATION_COLUMNS =
  'id, org_id AS "orgId", email, role, invited_by AS "invitedBy", created_at AS "createdAt", expires_at AS "expiresAt", ' +
  'accepted_at AS "acceptedAt", accepted_by AS "acceptedBy", revoked_at AS "revokedAt", start_resource_id AS "startResourceId", start_role AS "startRole"';

export function invitationStore(db: SqlDriver): InvitationStore {
  return {
    async create(i) {
      await db.run(
        'INSERT INTO invitations (id, org_id, email, role, invited_by, created_at, expires_at, start_resource_id, start_role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [i.id, i.orgId, i.email, i.role, i.invitedBy, i.createdAt, i.expiresAt, i.startResourceId ?? null, i.startRole ?? null],
      );
    },
    get: (id) => db.get<Invitation>(`SELECT ${INVITATION_COLUMNS} FROM invitations WHERE id = $1`, [id]),
    list: (orgId) => db.all<Invitation>(`SELECT ${INVITATION_COLUMNS} FROM invitations WHERE org_id = $1 ORDER BY created_at DESC, id`, [orgId]),
    accept: (id, userId, at) =>
      db.get<Invitation>(
        `UPDATE invitations SET accepted_at = $3, accepted_by = $2
         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3
         RETURNING ${INVITATION_COLUMNS}`,
        [id, userId, at],
      ),
    async revoke(id, at) {
      return (await db.run('UPDATE invitations SET revoked_at = $2 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL', [id, at])).changes === 1;
    },
  };
}
