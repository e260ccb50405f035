/**
 * Numbered migrations, per dialect: an empty database reaches the latest version, a database one
 * version behind is upgraded with its data intact, running migrate again changes nothing, and
 * several processes migrating one database at once apply each migration exactly once.
 */
import type { Store } from '../../src/store/store.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { latestVersion, listMigrations } from '../../src/store/sql/migrate.ts';
import { inWorkers, storesUnderTest, type StoreLocation } from '../helpers/stores.ts';

const NOW = 1_800_000_000;

async function appliedVersions(location: StoreLocation): Promise<number[]> {
  const rows = await location.query<{ version: number | string }>('SELECT version FROM schema_migrations ORDER BY version');
  return rows.map((r) => Number(r.version));
}

it('both dialects have the same numbered migrations, numbered 1, 2, 3, …', () => {
  const sqlite = listMigrations('sqlite').map((m) => `${m.version}_${m.name}`);
  const postgres = listMigrations('postgres').map((m) => `${m.version}_${m.name}`);
  assert.deepEqual(sqlite, postgres);
  assert.deepEqual(
    listMigrations('sqlite').map((m) => m.version),
    sqlite.map((_, i) => i + 1),
  );
});

for (const target of storesUnderTest()) {
  const latest = latestVersion(target.dialect);
  const all = listMigrations(target.dialect).map((m) => m.version);

  describe(`migrations: ${target.name}`, { skip: target.skip }, () => {
    it('migrates an empty database to the latest version', async () => {
      const location = await target.location();
      const store = await location.open();
      const report = await store.migrate();
      assert.deepEqual(report, { dialect: target.dialect, applied: all, version: latest });
      assert.deepEqual(await appliedVersions(location), all);
      assert.equal(await store.users.count(), 0);
      assert.deepEqual(await store.demo.listProjects(), []);
    });

    it('upgrades a database from the previous version and keeps its data', async () => {
      assert.ok(latest >= 2, 'there is a previous version to upgrade from');
      const location = await target.location();
      const store = await location.open();
      await store.migrate({ to: latest - 1 });
      const data = await writeCoreData(location);

      const report = await store.migrate();
      assert.deepEqual(report, { dialect: target.dialect, applied: [latest], version: latest });

      await assertCoreData(store, data);
      // And what the new version added works.
      await store.demo.putProject({ id: 'p1', name: 'After upgrade', createdAt: NOW });
      assert.equal((await store.demo.listProjects()).length, 1);
    });

    it('is idempotent: a second run applies nothing and keeps the data', async () => {
      const location = await target.location();
      const store = await location.open();
      await store.migrate();
      const data = await writeCoreData(location);
      assert.deepEqual(await store.migrate(), { dialect: target.dialect, applied: [], version: latest });
      assert.deepEqual(await store.migrate({ to: 1 }), { dialect: target.dialect, applied: [], version: latest }, 'never goes down');
      assert.deepEqual(await appliedVersions(location), all);
      await assertCoreData(store, data);
    });

    it('stops at the version it is asked for', async () => {
      const location = await target.location();
      const store = await location.open();
      assert.deepEqual(await store.migrate({ to: 1 }), { dialect: target.dialect, applied: [1], version: 1 });
      assert.deepEqual(await appliedVersions(location), [1]);
      assert.deepEqual(await store.migrate(), { dialect: target.dialect, applied: all.slice(1), version: latest });
    });

    it('applies each migration once when several processes migrate the same database at once', async () => {
      const location = await target.location();
      const applied = await inWorkers<number[]>(location, 4, { job: 'migrate' });
      assert.deepEqual(
        applied.flat().sort((a, b) => a - b),
        all,
        `applied per process: ${JSON.stringify(applied)}`,
      );
      assert.deepEqual(await appliedVersions(location), all);
      const store = await location.open();
      assert.deepEqual(await store.migrate(), { dialect: target.dialect, applied: [], version: latest });
    });

    it('applies each migration once when several stores in one process migrate the same database at once', async () => {
      const location = await target.location();
      const stores = await Promise.all(Array.from({ length: 4 }, () => location.open()));
      const reports = await Promise.all(stores.map((store) => store.migrate()));
      for (const report of reports) assert.equal(report.version, latest);
      assert.deepEqual(
        reports.flatMap((r) => r.applied).sort((a, b) => a - b),
        all,
        `applied per store: ${JSON.stringify(reports.map((r) => r.applied))}`,
      );
      assert.deepEqual(await appliedVersions(location), all);
      await stores[0].users.create({ email: 'a@example.com' });
      assert.equal(await stores[3].users.count(), 1);
    });

    it('two concurrent migrate() calls on one store both succeed', async () => {
      const location = await target.location();
      const store = await location.open();
      const reports = await Promise.all([store.migrate(), store.migrate()]);
      assert.deepEqual(
        reports.map((r) => r.version),
        [latest, latest],
      );
      assert.deepEqual(
        reports.flatMap((r) => r.applied).sort((a, b) => a - b),
        all,
      );
      assert.deepEqual(await appliedVersions(location), all);
    });
  });
}

interface CoreData {
  userId: string;
}

/**
 * Data in the tables of migration 0001, written with the columns that version has — as a server
 * of that version wrote them (today's Store code may need columns an old database lacks).
 */
async function writeCoreData(location: StoreLocation): Promise<CoreData> {
  const userId = 'usr_upgrade';
  const q = (sql: string, params: (string | number | null)[]) => location.query(sql, params);
  await q('INSERT INTO users (id, email, email_normalized, name, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    userId,
    'Ada@Example.com',
    'ada@example.com',
    'Ada',
    'hash',
    1,
    NOW,
  ]);
  await q('INSERT INTO clients (client_id, metadata, kind, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5)', [
    'c1',
    JSON.stringify({ client_name: 'Claude' }),
    'dynamic',
    NOW,
    NOW + 1,
  ]);
  await q('INSERT INTO oidc_records (model, id, payload, grant_id, expires_at, consumed_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    'RefreshToken',
    'rt1',
    'sealed',
    'g1',
    NOW + 60,
    NOW + 2,
  ]);
  await q('INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_sealed, created_at) VALUES ($1, $2, $3, $4, $5)', ['k1', 'ES256', '{}', 'sealed', NOW]);
  await q('INSERT INTO revocations (kind, id, at, expires_at) VALUES ($1, $2, $3, $4)', ['grant', 'g0', NOW, NOW + 3600]);
  await q('INSERT INTO one_time (kind, key, value, expires_at) VALUES ($1, $2, $3, $4)', ['setup', 'k', 'v', NOW + 3600]);
  await q('INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen_at, auth_time, amr) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    's1',
    userId,
    NOW,
    NOW + 3600,
    NOW,
    NOW,
    '["pwd"]',
  ]);
  return { userId };
}

async function assertCoreData(store: Store, data: CoreData): Promise<void> {
  const user = await store.users.findByEmail('ada@example.com');
  assert.equal(user?.id, data.userId);
  assert.equal(user?.isAdmin, true);
  assert.equal(user?.passwordHash, 'hash');
  assert.deepEqual(await store.clients.find('c1'), {
    clientId: 'c1',
    metadata: { client_name: 'Claude' },
    kind: 'dynamic',
    createdAt: NOW,
    lastUsedAt: NOW + 1,
  });
  const rt = await store.oidc.find('RefreshToken', 'rt1');
  assert.equal(rt?.payload, 'sealed');
  assert.equal(rt?.consumedAt, NOW + 2);
  assert.deepEqual(
    (await store.signingKeys.list()).map((k) => k.kid),
    ['k1'],
  );
  assert.equal(await store.revocations.isRevoked('grant', 'g0'), true);
  assert.equal((await store.sessions.find('s1'))?.userId, data.userId);
  assert.equal(await store.oneTime.consume('setup', 'k', NOW), 'v');
}
