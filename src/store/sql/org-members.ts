/** Organization members, in SQL; "an org keeps an owner" is kept inside one transaction per change. */
import { PortcullisError } from '../../core/errors.ts';
import type { OrgRole } from '../../core/roles.ts';
import type { MemberChange, OrgMember, OrgStore } from '../orgs.ts';
import type { SqlDriver } from './driver.ts';

const MEMBER_COLUMNS = 'org_id AS "orgId", user_id AS "userId", role, created_at AS "createdAt"';

export type OrgMemberStore = Pick<OrgStore, 'member' | 'members' | 'addMember' | 'setRole' | 'removeMember'>;

/** Would this change leave the org without an owner? Run inside the transaction, after locking the org. */
async function lastOwner(tx: SqlDriver, orgId: string, userId: string): Promise<boolean> {
  const member = await tx.get<{ role: OrgRole }>('SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
  if (member?.role !== 'owner') return false;
  const owners = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM org_members WHERE org_id = $1 AND role = 'owner'", [orgId]);
  return Number(owners?.n ?? 0) <= 1;
}

/** Serialize membership changes of one org (PostgreSQL row lock; SQLite's transaction is exclusive). */
const lockOrg = (tx: SqlDriver, orgId: string) =>
  tx.get(tx.dialect === 'postgres' ? 'SELECT id FROM orgs WHERE id = $1 FOR UPDATE' : 'SELECT id FROM orgs WHERE id = $1', [orgId]);

/** A change to an existing member, with the org locked: `not_found` when they are not one. */
function changeMember(db: SqlDriver, orgId: string, userId: string, change: (tx: SqlDriver) => Promise<MemberChange>): Promise<MemberChange> {
  return db.transaction(async (tx) => {
    await lockOrg(tx, orgId);
    const member = await tx.get('SELECT 1 AS hit FROM org_members WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
    if (!member) return 'not_found';
    return change(tx);
  });
}

export function orgMemberStore(db: SqlDriver): OrgMemberStore {
  return {
    member: (orgId, userId) => db.get<OrgMember>(`SELECT ${MEMBER_COLUMNS} FROM org_members WHERE org_id = $1 AND user_id = $2`, [orgId, userId]),
    members: (orgId) => db.all<OrgMember>(`SELECT ${MEMBER_COLUMNS} FROM org_members WHERE org_id = $1 ORDER BY created_at, user_id`, [orgId]),
    async addMember(orgId, userId, role, at) {
      const { changes } = await db.run(
        'INSERT INTO org_members (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, user_id) DO NOTHING',
        [orgId, userId, role, at],
      );
      if (changes === 0) throw new PortcullisError('conflict', 'already a member of this organization', { rule: 'unique-member' });
      return { orgId, userId, role, createdAt: at };
    },
    setRole: (orgId, userId, role) =>
      changeMember(db, orgId, userId, async (tx) => {
        if (role !== 'owner' && (await lastOwner(tx, orgId, userId))) return 'last_owner';
        await tx.run('UPDATE org_members SET role = $3 WHERE org_id = $1 AND user_id = $2', [orgId, userId, role]);
        return 'ok';
      }),
    removeMember: (orgId, userId) =>
      changeMember(db, orgId, userId, async (tx) => {
        if (await lastOwner(tx, orgId, userId)) return 'last_owner';
        await tx.run('DELETE FROM resource_members WHERE user_id = $2 AND resource_id IN (SELECT id FROM org_resources WHERE org_id = $1)', [orgId, userId]);
        await tx.run('DELETE FROM org_members WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
        return 'ok';
      }),
  };
}
