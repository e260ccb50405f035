/** SCIM provisioning state, in SQL; userName and displayName are unique per org, case-insensitively (RFC 7643 §4.1.1, §4.2). */
import { PortcullisError } from '../../core/errors.ts';
import type { ScimConfig, ScimGroupRow, ScimStore, ScimUserRow } from '../scim.ts';
import type { SqlDriver } from './driver.ts';

const USER_COLUMNS =
  'id, org_id AS "orgId", user_id AS "userId", user_name AS "userName", external_id AS "externalId", active, ' +
  'disabled_account AS "disabledAccount", attributes, created_at AS "createdAt", updated_at AS "updatedAt"';
const GROUP_COLUMNS = 'id, org_id AS "orgId", display_name AS "displayName", external_id AS "externalId", created_at AS "createdAt", updated_at AS "updatedAt"';

type UserRecord = Omit<ScimUserRow, 'active' | 'disabledAccount' | 'attributes' | 'createdAt' | 'updatedAt'> & {
  active: number;
  disabledAccount: number;
  attributes: string;
  createdAt: number | string;
  updatedAt: number | string;
};
type GroupRecord = Omit<ScimGroupRow, 'createdAt' | 'updatedAt'> & { createdAt: number | string; updatedAt: number | string };

const toUser = (r: UserRecord): ScimUserRow => ({
  ...r,
  active: Number(r.active) === 1,
  disabledAccount: Number(r.disabledAccount) === 1,
  attributes: JSON.parse(r.attributes) as Record<string, unknown>,
  createdAt: Number(r.createdAt),
  updatedAt: Number(r.updatedAt),
});
const toGroup = (r: GroupRecord): ScimGroupRow => ({ ...r, createdAt: Number(r.createdAt), updatedAt: Number(r.updatedAt) });
const key = (text: string) => text.toLowerCase();

function taken(what: string): PortcullisError {
  return new PortcullisError('conflict', `${what} is taken in this organization`, { rule: 'uniqueness' });
}

export function scimStore(db: SqlDriver): ScimStore {
  return { ...configs(db), ...users(db), ...groups(db) };
}

function configs(db: SqlDriver): Pick<ScimStore, 'config' | 'setToken' | 'clearToken' | 'orgOfToken' | 'setGroupRoles'> {
  return {
    async config(orgId) {
      const row = await db.get<Omit<ScimConfig, 'groupRoles'> & { groupRoles: string }>(
        'SELECT org_id AS "orgId", token_hash AS "tokenHash", token_created_at AS "tokenCreatedAt", token_created_by AS "tokenCreatedBy", group_roles AS "groupRoles" FROM scim_configs WHERE org_id = $1',
        [orgId],
      );
      if (!row) return undefined;
      return { ...row, tokenCreatedAt: row.tokenCreatedAt === null ? null : Number(row.tokenCreatedAt), groupRoles: JSON.parse(row.groupRoles) as ScimConfig['groupRoles'] };
    },
    async setToken(orgId, hash, by, at) {
      await db.run(
        `INSERT INTO scim_configs (org_id, token_hash, token_created_at, token_created_by, group_roles) VALUES ($1, $2, $3, $4, '{}')
         ON CONFLICT (org_id) DO UPDATE SET token_hash = $2, token_created_at = $3, token_created_by = $4`,
        [orgId, hash, at, by],
      );
    },
    async clearToken(orgId) {
      const { changes } = await db.run('UPDATE scim_configs SET token_hash = NULL, token_created_at = NULL, token_created_by = NULL WHERE org_id = $1 AND token_hash IS NOT NULL', [orgId]);
      return changes === 1;
    },
    orgOfToken: async (hash) => (await db.get<{ orgId: string }>('SELECT org_id AS "orgId" FROM scim_configs WHERE token_hash = $1', [hash]))?.orgId,
    async setGroupRoles(orgId, roles) {
      await db.run(
        `INSERT INTO scim_configs (org_id, group_roles) VALUES ($1, $2) ON CONFLICT (org_id) DO UPDATE SET group_roles = $2`,
        [orgId, JSON.stringify(roles)],
      );
    },
  };
}

function users(db: SqlDriver): Pick<ScimStore, 'users' | 'user' | 'insertUser' | 'updateUser' | 'deleteUser'> {
  return {
    users: async (orgId) => (await db.all<UserRecord>(`SELECT ${USER_COLUMNS} FROM scim_users WHERE org_id = $1 ORDER BY created_at, id`, [orgId])).map(toUser),
    async user(orgId, id) {
      const row = await db.get<UserRecord>(`SELECT ${USER_COLUMNS} FROM scim_users WHERE org_id = $1 AND id = $2`, [orgId, id]);
      return row ? toUser(row) : undefined;
    },
    async insertUser(u) {
      const { changes } = await db.run(
        `INSERT INTO scim_users (id, org_id, user_id, user_name, user_name_key, external_id, active, disabled_account, attributes, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
        [u.id, u.orgId, u.userId, u.userName, key(u.userName), u.externalId, u.active ? 1 : 0, u.disabledAccount ? 1 : 0, JSON.stringify(u.attributes), u.createdAt, u.updatedAt],
      );
      if (changes === 0) throw taken('userName');
    },
    async updateUser(u) {
      const clash = await db.get('SELECT id FROM scim_users WHERE org_id = $1 AND user_name_key = $2 AND id <> $3', [u.orgId, key(u.userName), u.id]);
      if (clash) throw taken('userName');
      await db.run(
        `UPDATE scim_users SET user_name = $3, user_name_key = $4, external_id = $5, active = $6, disabled_account = $7, attributes = $8, updated_at = $9
         WHERE org_id = $1 AND id = $2`,
        [u.orgId, u.id, u.userName, key(u.userName), u.externalId, u.active ? 1 : 0, u.disabledAccount ? 1 : 0, JSON.stringify(u.attributes), u.updatedAt],
      );
    },
    deleteUser: async (orgId, id) => (await db.run('DELETE FROM scim_users WHERE org_id = $1 AND id = $2', [orgId, id])).changes === 1,
  };
}

function groups(db: SqlDriver): Omit<ScimStore, 'config' | 'setToken' | 'clearToken' | 'orgOfToken' | 'setGroupRoles' | 'users' | 'user' | 'insertUser' | 'updateUser' | 'deleteUser'> {
  return {
    groups: async (orgId) => (await db.all<GroupRecord>(`SELECT ${GROUP_COLUMNS} FROM scim_groups WHERE org_id = $1 ORDER BY created_at, id`, [orgId])).map(toGroup),
    async group(orgId, id) {
      const row = await db.get<GroupRecord>(`SELECT ${GROUP_COLUMNS} FROM scim_groups WHERE org_id = $1 AND id = $2`, [orgId, id]);
      return row ? toGroup(row) : undefined;
    },
    async insertGroup(g) {
      const { changes } = await db.run(
        `INSERT INTO scim_groups (id, org_id, display_name, display_name_key, external_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [g.id, g.orgId, g.displayName, key(g.displayName), g.externalId, g.createdAt, g.updatedAt],
      );
      if (changes === 0) throw taken('displayName');
    },
    async updateGroup(g) {
      const clash = await db.get('SELECT id FROM scim_groups WHERE org_id = $1 AND display_name_key = $2 AND id <> $3', [g.orgId, key(g.displayName), g.id]);
      if (clash) throw taken('displayName');
      await db.run('UPDATE scim_groups SET display_name = $3, display_name_key = $4, external_id = $5, updated_at = $6 WHERE org_id = $1 AND id = $2', [
        g.orgId, g.id, g.displayName, key(g.displayName), g.externalId, g.updatedAt,
      ]);
    },
    deleteGroup: async (orgId, id) => (await db.run('DELETE FROM scim_groups WHERE org_id = $1 AND id = $2', [orgId, id])).changes === 1,
    memberships: (orgId) =>
      db.all<{ groupId: string; scimUserId: string }>(
        'SELECT m.group_id AS "groupId", m.scim_user_id AS "scimUserId" FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id WHERE g.org_id = $1 ORDER BY m.group_id, m.scim_user_id',
        [orgId],
      ),
    async setGroupMembers(groupId, scimUserIds) {
      await db.transaction(async (tx) => {
        await tx.run('DELETE FROM scim_group_members WHERE group_id = $1', [groupId]);
        for (const id of new Set(scimUserIds)) await tx.run('INSERT INTO scim_group_members (group_id, scim_user_id) VALUES ($1, $2)', [groupId, id]);
      });
    },
  };
}
