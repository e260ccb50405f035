/**
 * Numbered migrations, per dialect: an empty database reaches the latest version, a database one
 * version behind is upgraded with its data intact, running migrate again changes nothing, and
 * several processes migrating one database at once apply each migration exactly once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { latestVersion, listMigrations } from '../../src/store/sql/migrate.ts';
import type { Store } from '../../src/store/types.ts';
import { inWorkers, storeAtVersion, storesUnderTest, type StoreLocation } from '../helpers/stores.ts';

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

  describe(`migrations: ${target.name}`, () => {
    it('migrates an empty database to the latest version', async () => {
      const location = await target.location();
      const store = await location.open();
      const report = await store.migrate();
      assert.deepEqual(report, { dialect: target.dialect, applied: all, version: latest });
      assert.deepEqual(await appliedVersions(location), all);
      assert.equal(await store.users.count(), 0);
      assert.deepEqual(await store.demo.listProjects(), []);
    });

    it('upgrades a database from the previous version and keeps its data', { skip: latest < 2 && 'only one migration' }, async () => {
      const store = await storeAtVersion(target, latest - 1);
      const data = await writeCoreData(store);

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
      const data = await writeCoreData(store);
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

/** Data in the tables of migration 0001, written through the Store as any running server would. */
async function writeCoreData(store: Store): Promise<CoreData> {
  const user = await store.users.create({ email: 'Ada@Example.com', name: 'Ada', passwordHash: 'hash', isAdmin: true });
  await store.clients.upsert({ clientId: 'c1', metadata: { client_name: 'Claude' }, kind: 'dynamic', createdAt: NOW });
  await store.clients.markUsed('c1', NOW + 1);
  await store.oidc.upsert({ model: 'RefreshToken', id: 'rt1', payload: 'sealed', grantId: 'g1', expiresAt: NOW + 60 });
  await store.oidc.consume('RefreshToken', 'rt1', NOW + 2);
  await store.signingKeys.insert({ kid: 'k1', alg: 'ES256', publicJwk: '{}', privateJwkSealed: 'sealed', createdAt: NOW, retiredAt: null });
  await store.revocations.add({ kind: 'grant', id: 'g0', at: NOW, expiresAt: NOW + 3600 });
  await store.oneTime.put('setup', 'k', 'v', NOW + 3600);
  await store.sessions.create({
    id: 's1',
    userId: user.id,
    createdAt: NOW,
    expiresAt: NOW + 3600,
    lastSeenAt: NOW,
    authTime: NOW,
    amr: ['pwd'],
    ip: null,
    userAgent: null,
  });
  return { userId: user.id };
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
