/**
 * The Store written once in SQL that both dialects accept (see driver.ts). Every method is a
 * single statement unless noted, which is what makes consume-once and idempotent writes hold
 * across processes sharing PostgreSQL.
 */
import { createHash } from 'node:crypto';
import { PortcullisError } from '../../core/errors.ts';
import { randomBase62 } from '../../core/crypto.ts';
import type {
  ApplicationStore,
  Binding,
  BindingStore,
  SelfTestRecord,
  SelfTestStore,
  StoredApplication,
  ToolRecord,
  ToolStore,
  ClientRecord,
  ClientStore,
  DemoNote,
  DemoProject,
  DemoStore,
  OidcRecord,
  OidcStore,
  OneTimeStore,
  RevocationEvent,
  RevocationKind,
  RevocationStore,
  SessionRecord,
  SessionStore,
  SigningKeyRecord,
  SigningKeyStore,
  Store,
  User,
  UserStore,
} from '../types.ts';
import type { SqlDriver } from './driver.ts';
import { migrate } from './migrate.ts';
import { apiKeyStore, auditStore, grantContextStore, invitationStore, orgStore } from './identity.ts';

const OIDC_COLUMNS =
  'model, id, payload, grant_id AS "grantId", user_code AS "userCode", uid, parent_id AS "parentId", ' +
  'expires_at AS "expiresAt", consumed_at AS "consumedAt", killed_at AS "killedAt", account_id AS "accountId"';

function oidcStore(db: SqlDriver): OidcStore {
  const one = (where: string, params: (string | number)[]) =>
    db.get<OidcRecord>(`SELECT ${OIDC_COLUMNS} FROM oidc_records WHERE ${where}`, params);
  return {
    async upsert(r) {
      await db.run(
        `INSERT INTO oidc_records (model, id, payload, grant_id, user_code, uid, parent_id, expires_at, account_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (model, id) DO UPDATE SET
           payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
           uid = excluded.uid, parent_id = COALESCE(excluded.parent_id, oidc_records.parent_id),
           expires_at = excluded.expires_at, account_id = excluded.account_id`,
        [r.model, r.id, r.payload, r.grantId ?? null, r.userCode ?? null, r.uid ?? null, r.parentId ?? null, r.expiresAt ?? null, r.accountId ?? null],
      );
    },
    find: (model, id) => one('model = $1 AND id = $2', [model, id]),
    findByUid: (model, uid) => one('model = $1 AND uid = $2', [model, uid]),
    findByUserCode: (model, userCode) => one('model = $1 AND user_code = $2', [model, userCode]),
    async consume(model, id, at) {
      const { changes } = await db.run(
        'UPDATE oidc_records SET consumed_at = $3 WHERE model = $1 AND id = $2 AND consumed_at IS NULL',
        [model, id, at],
      );
      return changes === 1;
    },
    async destroy(model, id) {
      await db.run('DELETE FROM oidc_records WHERE model = $1 AND id = $2', [model, id]);
    },
    async revokeByGrantId(grantId) {
      return (await db.run('DELETE FROM oidc_records WHERE grant_id = $1', [grantId])).changes;
    },
    children: (model, parentId) =>
      db.all<OidcRecord>(`SELECT ${OIDC_COLUMNS} FROM oidc_records WHERE model = $1 AND parent_id = $2`, [model, parentId]),
    async kill(model, ids, at) {
      for (const id of ids) {
        await db.run(
          'UPDATE oidc_records SET killed_at = $3 WHERE model = $1 AND id = $2 AND consumed_at IS NULL AND killed_at IS NULL',
          [model, id, at],
        );
      }
    },
    async deleteExpired(now) {
      return (await db.run('DELETE FROM oidc_records WHERE expires_at IS NOT NULL AND expires_at < $1', [now])).changes;
    },
    byAccount: (model, accountId) =>
      db.all<OidcRecord>(`SELECT ${OIDC_COLUMNS} FROM oidc_records WHERE model = $1 AND account_id = $2`, [model, accountId]),
    async destroyByAccount(model, accountId) {
      return (await db.run('DELETE FROM oidc_records WHERE model = $1 AND account_id = $2', [model, accountId])).changes;
    },
  };
}

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

function userStore(db: SqlDriver): UserStore {
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

interface ClientRow {
  clientId: string;
  metadata: string;
  kind: ClientRecord['kind'];
  createdAt: number;
  lastUsedAt: number | null;
}
const CLIENT_COLUMNS = 'client_id AS "clientId", metadata, kind, created_at AS "createdAt", last_used_at AS "lastUsedAt"';
const toClient = (row: ClientRow | undefined): ClientRecord | undefined =>
  row ? { ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown> } : undefined;

function clientStore(db: SqlDriver): ClientStore {
  return {
    async upsert(record) {
      await db.run(
        `INSERT INTO clients (client_id, metadata, kind, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (client_id) DO UPDATE SET metadata = excluded.metadata, kind = excluded.kind`,
        [record.clientId, JSON.stringify(record.metadata), record.kind, record.createdAt ?? Math.floor(Date.now() / 1000)],
      );
    },
    find: async (clientId) => toClient(await db.get<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE client_id = $1`, [clientId])),
    list: async () => (await db.all<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM clients ORDER BY created_at, client_id`)).map((r) => toClient(r)!),
    async delete(clientId) {
      return (await db.run('DELETE FROM clients WHERE client_id = $1', [clientId])).changes === 1;
    },
    async markUsed(clientId, at) {
      await db.run('UPDATE clients SET last_used_at = $2 WHERE client_id = $1', [clientId, at]);
    },
    async deleteUnusedDynamic(createdBefore) {
      return (
        await db.run("DELETE FROM clients WHERE kind = 'dynamic' AND last_used_at IS NULL AND created_at < $1", [createdBefore])
      ).changes;
    },
  };
}

const KEY_COLUMNS =
  'kid, alg, public_jwk AS "publicJwk", private_jwk_sealed AS "privateJwkSealed", created_at AS "createdAt", retired_at AS "retiredAt"';

function signingKeyStore(db: SqlDriver): SigningKeyStore {
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
  };
}

/** Arbitrary number for pg_advisory_xact_lock: "Portcullis revocation sequence". */
const REVOCATION_LOCK = 7_301_915;

/**
 * Consumers replay events with `since(lastSeenSeq)`, so an event must never become visible after
 * one with a higher seq. SQLite has one writer at a time, so seq order is commit order. PostgreSQL
 * hands out BIGSERIAL values before commit: a statement that drew seq 5 and then waited (for example
 * on a concurrent insert of the same (kind, id)) could commit after seq 6 was read, and be skipped
 * for good. There the insert first takes a transaction-scoped advisory lock, still in one statement,
 * so seq values are drawn and committed one writer at a time.
 */
const ADD_REVOCATION = {
  sqlite: 'INSERT INTO revocations (kind, id, at, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, id) DO NOTHING',
  postgres: `WITH seq_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(${REVOCATION_LOCK}))
    INSERT INTO revocations (kind, id, at, expires_at) SELECT $1, $2, $3, $4 FROM seq_lock
    ON CONFLICT (kind, id) DO NOTHING`,
};

/**
 * Kinds whose event can happen again for the same id: a user disabled, re-enabled and disabled
 * again; a member removed, re-added and removed again. The second event must move `at` (every
 * token issued until then is refused) and reach every consumer, so it replaces the row under a NEW
 * sequence number — consumers replaying from their last seq would never see an updated old one.
 */
const RENEWABLE: ReadonlySet<RevocationKind> = new Set(['user', 'member']);

function revocationStore(db: SqlDriver): RevocationStore {
  return {
    async add({ kind, id, at, expiresAt }) {
      if (RENEWABLE.has(kind)) {
        return db.transaction(async (tx) => {
          // The same lock as ADD_REVOCATION: seq values drawn and committed one writer at a time.
          if (tx.dialect === 'postgres') await tx.run(`SELECT pg_advisory_xact_lock(${REVOCATION_LOCK})`);
          const row = await tx.get<{ seq: number; at: number; expiresAt: number }>(
            'SELECT seq, at, expires_at AS "expiresAt" FROM revocations WHERE kind = $1 AND id = $2',
            [kind, id],
          );
          // Nothing new (a repeated or older event): idempotent, the same sequence number.
          if (row && Number(row.at) >= at && Number(row.expiresAt) >= expiresAt) return Number(row.seq);
          if (row) await tx.run('DELETE FROM revocations WHERE seq = $1', [row.seq]);
          const inserted = await tx.get<{ seq: number }>('INSERT INTO revocations (kind, id, at, expires_at) VALUES ($1, $2, $3, $4) RETURNING seq', [
            kind,
            id,
            Math.max(at, Number(row?.at ?? at)),
            Math.max(expiresAt, Number(row?.expiresAt ?? expiresAt)),
          ]);
          return Number(inserted!.seq);
        });
      }
      await db.run(ADD_REVOCATION[db.dialect], [kind, id, at, expiresAt]);
      const row = await db.get<{ seq: number }>('SELECT seq FROM revocations WHERE kind = $1 AND id = $2', [kind, id]);
      return Number(row!.seq);
    },
    since: (seq, limit = 1000) =>
      db.all<RevocationEvent>(
        'SELECT seq, kind, id, at, expires_at AS "expiresAt" FROM revocations WHERE seq > $1 ORDER BY seq LIMIT $2',
        [seq, limit],
      ),
    async isRevoked(kind, id) {
      return (await db.get('SELECT 1 AS hit FROM revocations WHERE kind = $1 AND id = $2', [kind, id])) !== undefined;
    },
    async deleteExpired(now) {
      return (await db.run('DELETE FROM revocations WHERE expires_at < $1', [now])).changes;
    },
  };
}

function oneTimeStore(db: SqlDriver): OneTimeStore {
  return {
    async put(kind, key, value, expiresAt) {
      await db.run(
        `INSERT INTO one_time (kind, key, value, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        [kind, key, value, expiresAt],
      );
    },
    async consume(kind, key, now) {
      const row = await db.get<{ value: string }>(
        'DELETE FROM one_time WHERE kind = $1 AND key = $2 AND expires_at > $3 RETURNING value',
        [kind, key, now],
      );
      return row?.value;
    },
    async deleteExpired(now) {
      return (await db.run('DELETE FROM one_time WHERE expires_at <= $1', [now])).changes;
    },
  };
}

interface SessionRow extends Omit<SessionRecord, 'amr'> {
  amr: string;
}
const SESSION_COLUMNS =
  'id, user_id AS "userId", created_at AS "createdAt", expires_at AS "expiresAt", last_seen_at AS "lastSeenAt", ' +
  'auth_time AS "authTime", amr, ip, user_agent AS "userAgent"';
const toSession = (row: SessionRow | undefined): SessionRecord | undefined =>
  row ? { ...row, amr: JSON.parse(row.amr) as string[] } : undefined;

function sessionStore(db: SqlDriver): SessionStore {
  return {
    async create(s) {
      await db.run(
        `INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen_at, auth_time, amr, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [s.id, s.userId, s.createdAt, s.expiresAt, s.lastSeenAt, s.authTime, JSON.stringify(s.amr), s.ip, s.userAgent],
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

function demoStore(db: SqlDriver): DemoStore {
  return {
    listProjects: () => db.all<DemoProject>('SELECT id, name, created_at AS "createdAt" FROM demo_projects ORDER BY created_at, id'),
    async putProject(p) {
      await db.run(
        'INSERT INTO demo_projects (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = excluded.name',
        [p.id, p.name, p.createdAt],
      );
    },
    listNotes: (projectId) =>
      db.all<DemoNote>(
        'SELECT id, project_id AS "projectId", title, body, updated_at AS "updatedAt" FROM demo_notes WHERE project_id = $1 ORDER BY updated_at DESC, id',
        [projectId],
      ),
    getNote: (id) =>
      db.get<DemoNote>('SELECT id, project_id AS "projectId", title, body, updated_at AS "updatedAt" FROM demo_notes WHERE id = $1', [id]),
    async putNote(n) {
      await db.run(
        `INSERT INTO demo_notes (id, project_id, title, body, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body, updated_at = excluded.updated_at`,
        [n.id, n.projectId, n.title, n.body, n.updatedAt],
      );
    },
    async deleteNote(id) {
      return (await db.run('DELETE FROM demo_notes WHERE id = $1', [id])).changes === 1;
    },
  };
}

function applicationStore(db: SqlDriver): ApplicationStore {
  const COLUMNS = 'slug, definition, source, created_at AS "createdAt", updated_at AS "updatedAt"';
  return {
    list: () => db.all<StoredApplication>(`SELECT ${COLUMNS} FROM applications ORDER BY slug`),
    get: (slug) => db.get<StoredApplication>(`SELECT ${COLUMNS} FROM applications WHERE slug = $1`, [slug]),
    async upsert({ slug, definition, source, at }) {
      await db.run(
        `INSERT INTO applications (slug, definition, source, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (slug) DO UPDATE SET definition = excluded.definition, source = excluded.source, updated_at = excluded.updated_at`,
        [slug, definition, source, at],
      );
    },
    async create({ slug, definition, source, at }) {
      const { changes } = await db.run(
        `INSERT INTO applications (slug, definition, source, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (slug) DO NOTHING`,
        [slug, definition, source, at],
      );
      return changes === 1;
    },
    async delete(slug) {
      return (await db.run('DELETE FROM applications WHERE slug = $1', [slug])).changes === 1;
    },
    async fingerprint() {
      const rows = await db.all<{ slug: string; updatedAt: number; definition: string }>(
        'SELECT slug, updated_at AS "updatedAt", definition FROM applications ORDER BY slug',
      );
      // A hash of the definitions themselves: two edits within the same second (the admin API
      // writes as fast as it is asked) must still change the fingerprint, even at equal length.
      const hash = createHash('sha256');
      for (const r of rows) hash.update(`${r.slug}\u0000${r.updatedAt}\u0000${r.definition}\u0000`);
      return hash.digest('base64url');
    },
  };
}

const TOOL_COLUMNS =
  'app_slug AS "appSlug", name, description, annotations, fingerprint, status, approved_fingerprint AS "approvedFingerprint", ' +
  'first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt", reviewed_at AS "reviewedAt", reviewed_by AS "reviewedBy"';

function toolStore(db: SqlDriver): ToolStore {
  const list = (appSlug: string) => db.all<ToolRecord>(`SELECT ${TOOL_COLUMNS} FROM app_tools WHERE app_slug = $1 ORDER BY name`, [appSlug]);
  return {
    list,
    async record(appSlug, tools, at, autoApprove) {
      for (const tool of tools) {
        // New: approved only under autoApprove. Seen before: approved exactly when what is listed now
        // is what was approved; any change to description, schema or annotations needs a review.
        await db.run(
          `INSERT INTO app_tools (app_slug, name, description, annotations, fingerprint, status, approved_fingerprint, first_seen_at, last_seen_at, reviewed_at, reviewed_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)
           ON CONFLICT (app_slug, name) DO UPDATE SET
             description = excluded.description, annotations = excluded.annotations, fingerprint = excluded.fingerprint,
             last_seen_at = excluded.last_seen_at,
             status = CASE
               WHEN app_tools.approved_fingerprint = excluded.fingerprint THEN 'approved'
               WHEN $11 = 1 THEN 'approved'
               ELSE 'needs_review' END,
             approved_fingerprint = CASE WHEN $11 = 1 THEN excluded.fingerprint ELSE app_tools.approved_fingerprint END,
             reviewed_at = CASE WHEN $11 = 1 AND app_tools.approved_fingerprint IS DISTINCT FROM excluded.fingerprint THEN excluded.last_seen_at ELSE app_tools.reviewed_at END,
             reviewed_by = CASE WHEN $11 = 1 AND app_tools.approved_fingerprint IS DISTINCT FROM excluded.fingerprint THEN 'auto-approve' ELSE app_tools.reviewed_by END`,
          [
            appSlug,
            tool.name,
            tool.description,
            tool.annotations,
            tool.fingerprint,
            autoApprove ? 'approved' : 'needs_review',
            autoApprove ? tool.fingerprint : null,
            at,
            autoApprove ? at : null,
            autoApprove ? 'auto-approve' : null,
            autoApprove ? 1 : 0,
          ],
        );
      }
      return list(appSlug);
    },
    async review(appSlug, name, status, by, at, expectedFingerprint) {
      // One conditional statement: a tool that changed between the reviewer's look and this
      // approval is not approved ('' = no expectation).
      const { changes } = await db.run(
        `UPDATE app_tools SET status = $3, reviewed_at = $4, reviewed_by = $5,
           approved_fingerprint = CASE WHEN $3 = 'approved' THEN fingerprint ELSE NULL END
         WHERE app_slug = $1 AND name = $2 AND ($6 = '' OR fingerprint = $6)`,
        [appSlug, name, status, at, by, expectedFingerprint ?? ''],
      );
      return changes === 1;
    },
    async deleteApp(appSlug) {
      await db.run('DELETE FROM app_tools WHERE app_slug = $1', [appSlug]);
    },
  };
}

interface SelfTestRow extends Omit<SelfTestRecord, 'passed'> {
  passed: number;
}

function selfTestStore(db: SqlDriver): SelfTestStore {
  const COLUMNS = 'app_slug AS "appSlug", ran_at AS "ranAt", passed, definition_hash AS "definitionHash", url, checks';
  return {
    async put(r) {
      await db.run(
        `INSERT INTO app_self_tests (app_slug, ran_at, passed, definition_hash, url, checks) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (app_slug) DO UPDATE SET ran_at = excluded.ran_at, passed = excluded.passed,
           definition_hash = excluded.definition_hash, url = excluded.url, checks = excluded.checks`,
        [r.appSlug, r.ranAt, r.passed ? 1 : 0, r.definitionHash, r.url, r.checks],
      );
    },
    async get(appSlug) {
      const row = await db.get<SelfTestRow>(`SELECT ${COLUMNS} FROM app_self_tests WHERE app_slug = $1`, [appSlug]);
      return row ? { ...row, ranAt: Number(row.ranAt), passed: Number(row.passed) === 1 } : undefined;
    },
    async delete(appSlug) {
      await db.run('DELETE FROM app_self_tests WHERE app_slug = $1', [appSlug]);
    },
  };
}

function bindingStore(db: SqlDriver): BindingStore {
  const COLUMNS = 'kind, app_slug AS "appSlug", key, owner, value, created_at AS "createdAt", expires_at AS "expiresAt"';
  return {
    async create(b) {
      const { changes } = await db.run(
        `INSERT INTO gateway_bindings (kind, app_slug, key, owner, value, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (kind, app_slug, key) DO NOTHING`,
        [b.kind, b.appSlug, b.key, b.owner, b.value, b.createdAt, b.expiresAt],
      );
      return changes === 1;
    },
    find: (kind, appSlug, key, now) =>
      db.get<Binding>(`SELECT ${COLUMNS} FROM gateway_bindings WHERE kind = $1 AND app_slug = $2 AND key = $3 AND expires_at > $4`, [
        kind,
        appSlug,
        key,
        now,
      ]),
    async extend(kind, appSlug, key, expiresAt) {
      await db.run('UPDATE gateway_bindings SET expires_at = $4 WHERE kind = $1 AND app_slug = $2 AND key = $3', [kind, appSlug, key, expiresAt]);
    },
    async delete(kind, appSlug, key) {
      await db.run('DELETE FROM gateway_bindings WHERE kind = $1 AND app_slug = $2 AND key = $3', [kind, appSlug, key]);
    },
    async deleteExpired(now) {
      return (await db.run('DELETE FROM gateway_bindings WHERE expires_at <= $1', [now])).changes;
    },
  };
}

export function createSqlStore(db: SqlDriver): Store {
  return {
    dialect: db.dialect,
    migrate: (options) => migrate(db, options),
    async ping() {
      await db.get('SELECT 1 AS ok');
    },
    close: () => db.close(),
    oidc: oidcStore(db),
    users: userStore(db),
    clients: clientStore(db),
    signingKeys: signingKeyStore(db),
    revocations: revocationStore(db),
    orgs: orgStore(db),
    invitations: invitationStore(db),
    apiKeys: apiKeyStore(db),
    grantContexts: grantContextStore(db),
    audit: auditStore(db),
    oneTime: oneTimeStore(db),
    sessions: sessionStore(db),
    demo: demoStore(db),
    applications: applicationStore(db),
    tools: toolStore(db),
    selfTests: selfTestStore(db),
    bindings: bindingStore(db),
  };
}
