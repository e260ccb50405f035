/**
 * Every Store implementation the contract suite runs against: SQLite always, PostgreSQL whenever
 * `PORTCULLIS_TEST_DATABASE_URL` is set. Each store gets its own fresh location (a temporary
 * directory, or a schema `pct_<random>`) that is removed when the test or suite that made it ends.
 *
 * PostgreSQL is never skipped: if the variable is set and the server is unreachable, `make()`
 * throws and the test fails.
 */
import type { Store } from '../../src/store/store.ts';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after } from 'node:test';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { databaseTargets, postgresUrl, type Dialect } from './databases.ts';
import { openStore, sqlitePath, type StoreOptions } from '../../src/store/open.ts';
import type { WorkerInput, WorkerJob } from '../store/store-worker.ts';

export { TEST_DATABASE_URL, type Dialect } from './databases.ts';

/** One empty database (SQLite file or PostgreSQL schema) on which several stores may be opened. */
export interface StoreLocation {
  readonly dialect: Dialect;
  /** The PostgreSQL schema, for PostgreSQL locations. */
  readonly schema?: string;
  /** What `openStore` takes to reach this database (e.g. from a worker thread). */
  readonly options: StoreOptions;
  /** Open a store on this database, NOT migrated (another "process" sharing it). Closed at cleanup. */
  open(): Promise<Store>;
  /** Run one statement directly on this database, bypassing the Store (for assertions on tables). */
  query<T = Record<string, unknown>>(sql: string, params?: (string | number | null)[]): Promise<T[]>;
}

export interface StoreUnderTest {
  name: string;
  dialect: Dialect;
  /** `skip` for this target's describe (test/helpers/databases.ts). */
  skip: string | false;
  /** A fresh store migrated to the latest version. */
  make: () => Promise<Store>;
  /** A fresh, empty database. */
  location: () => Promise<StoreLocation>;
}

export function storesUnderTest(): StoreUnderTest[] {
  return databaseTargets().map(({ dialect, skip }) => ({
    ...target(dialect, dialect === 'sqlite' ? sqliteLocation : () => postgresLocation(postgresUrl())),
    skip,
  }));
}

/** A fresh store whose schema is migrated only up to `version` (0: nothing at all). */
export async function storeAtVersion(target: StoreUnderTest, version: number): Promise<Store> {
  const store = await (await target.location()).open();
  if (version > 0) {
    const report = await store.migrate({ to: version });
    if (report.version !== version) throw new Error(`no migration numbered ${version} for ${target.dialect}`);
  }
  return store;
}

function target(dialect: Dialect, location: () => Promise<StoreLocation>): Omit<StoreUnderTest, 'skip'> {
  return {
    name: dialect,
    dialect,
    location,
    async make() {
      const store = await (await location()).open();
      await store.migrate();
      return store;
    },
  };
}

/**
 * Cleanups run through node:test's `after`, which attaches to whatever is running: the current
 * test when called inside one, the suite while it is being defined, the file otherwise.
 */
function onCleanup(fn: () => Promise<void>): void {
  after(fn);
}

async function closeAll(stores: Store[]): Promise<void> {
  // A test may have closed its store already; closing twice is not what is under test here.
  await Promise.all(stores.map((store) => store.close().catch(() => {})));
}

async function sqliteLocation(): Promise<StoreLocation> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pct-store-'));
  const stores: Store[] = [];
  onCleanup(async () => {
    await closeAll(stores);
    await rm(dataDir, { recursive: true, force: true });
  });
  return {
    dialect: 'sqlite',
    options: { dataDir },
    async open() {
      const store = await openStore({ dataDir });
      stores.push(store);
      return store;
    },
    async query<T>(sql: string, params: (string | number | null)[] = []) {
      const db = new DatabaseSync(sqlitePath(dataDir));
      try {
        return db.prepare(sql.replace(/\$(\d+)/g, '?$1')).all(...params) as T[];
      } finally {
        db.close();
      }
    },
  };
}

/** Ends for the clients that `pgClient` opened on each schema. */
const clientsOn = new Map<string, (() => Promise<void>)[]>();

/** A PostgreSQL client of its own, on `schema` (for holding locks or transactions in a test). Ended at cleanup. */
export async function pgClient(schema?: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: postgresUrl(),
    connectionTimeoutMillis: 5000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  client.on('error', () => {});
  // Ending a pg client twice is harmless, so a test may end it itself. The schema's own cleanup
  // ends it too, first, so that a lock it still holds cannot block dropping the schema.
  const end = () => client.end().catch(() => {});
  onCleanup(end);
  if (schema) clientsOn.set(schema, [...(clientsOn.get(schema) ?? []), end]);
  await client.connect();
  return client;
}

async function postgresLocation(url: string): Promise<StoreLocation> {
  const schema = `pct_${randomBytes(6).toString('hex')}`;
  const stores: Store[] = [];
  let admin: pg.Client | undefined;
  // Registered before anything is created, so a half-made schema is dropped too.
  onCleanup(async () => {
    await Promise.all((clientsOn.get(schema) ?? []).map((end) => end()));
    clientsOn.delete(schema);
    await closeAll(stores);
    const client = admin ?? new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    // A connection lost while idle is an 'error' event: unheard, it would end the test process.
    client.on('error', () => {});
    try {
      if (!admin) await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end().catch(() => {});
    }
  });
  const adminClient = async (): Promise<pg.Client> => {
    if (!admin) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, options: `-c search_path=${schema}` });
      client.on('error', () => {});
      await client.connect();
      admin = client;
    }
    return admin;
  };
  return {
    dialect: 'postgres',
    schema,
    options: { dataDir: '/nonexistent', databaseUrl: url, schema },
    async open() {
      const store = await openStore({ dataDir: '/nonexistent', databaseUrl: url, schema });
      stores.push(store);
      return store;
    },
    async query<T>(sql: string, params: (string | number | null)[] = []) {
      const client = await adminClient();
      return (await client.query(sql, params)).rows as T[];
    },
  };
}

/**
 * Run `count` worker threads (test/store/store-worker.ts), each with a store of its own on
 * `location`, released together at a barrier; resolves with each worker's result.
 */
export async function inWorkers<R>(location: StoreLocation, count: number, work: WorkerJob): Promise<R[]> {
  const barrier = new SharedArrayBuffer(4);
  const workerData: WorkerInput = { options: location.options, work, barrier };
  const threads = Array.from({ length: count }, () => new Worker(new URL('../store/store-worker.ts', import.meta.url), { workerData }));
  let ready = 0;
  const allReady = Promise.withResolvers<void>();
  const results = threads.map(
    (worker) =>
      new Promise<R>((resolve, reject) => {
        worker.on('message', (message: { ready?: boolean; result?: R }) => {
          if (message.ready && ++ready === count) allReady.resolve();
          if ('result' in message) resolve(message.result as R);
        });
        worker.on('error', (err) => {
          allReady.reject(err);
          reject(err);
        });
        worker.on('exit', (code) => {
          const err = new Error(`worker exited with code ${code} before reporting`);
          allReady.reject(err);
          reject(err);
        });
      }),
  );
  // If a worker fails before the start, the others' outcomes are not awaited: keep them quiet.
  allReady.promise.catch(() => {});
  for (const result of results) result.catch(() => {});
  try {
    await allReady.promise;
    const flag = new Int32Array(barrier);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    return await Promise.all(results);
  } finally {
    await Promise.all(threads.map((worker) => worker.terminate()));
  }
}
