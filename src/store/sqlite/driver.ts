/**
 * node:sqlite driver. One connection in WAL mode (readers never block the writer); node:sqlite is
 * synchronous, so every statement is atomic with respect to this process's other requests, and
 * `busy_timeout` covers other processes (e.g. the CLI) writing the same file.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SqlDriver, SqlValue } from '../sql/driver.ts';

/** `$1` → `?1`: SQLite's numbered parameters take the same numbers. */
function toSqlite(sql: string): string {
  return sql.replace(/\$(\d+)/g, '?$1');
}

/** Transactions in this process, queued per database file (see transaction). */
const migrationQueues = new Map<string | SqlDriver, Promise<void>>();

export function openSqliteDriver(path: string): SqlDriver {
  if (path !== ':memory:') {
    // The database holds password hashes and users' e-mail addresses: owner-only, like secret.key.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  }
  const db = new DatabaseSync(path);
  // busy_timeout first: switching to WAL takes a lock too, and another process opening the same
  // new file at that moment would otherwise make this fail at once with "database is locked".
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');

  const cache = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(toSqlite(sql));
      cache.set(sql, statement);
    }
    return statement;
  };

  // Statements of an open transaction go straight to the connection; every other call waits for
  // the transaction to end, so nothing from another request can land inside it (or be rolled back
  // with it) while it awaits between statements.
  let gate: Promise<void> | undefined;
  const waitForGate = async () => {
    while (gate) await gate;
  };
  const direct = {
    async run(sql: string, params: SqlValue[] = []) {
      const result = prepare(sql).run(...params);
      return { changes: Number(result.changes) };
    },
    // node:sqlite returns rows with a null prototype; callers get plain objects, as from pg.
    async get<T>(sql: string, params: SqlValue[] = []) {
      const row = prepare(sql).get(...params);
      return (row ? { ...row } : undefined) as T | undefined;
    },
    async all<T>(sql: string, params: SqlValue[] = []) {
      return prepare(sql).all(...params).map((row) => ({ ...row })) as T[];
    },
    async exec(script: string) {
      db.exec(script);
    },
  };

  async function transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    // Queued per database file: `fn` awaits between statements, so without a queue a second
    // transaction on this connection would hit "cannot start a transaction within a transaction",
    // and a second connection to the same file in this process would block the event loop in
    // busy_timeout while the first cannot progress.
    const run = async () => {
      await waitForGate();
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      // IMMEDIATE takes the write lock up front (two processes cannot both read, then write).
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(tx);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      } finally {
        gate = undefined;
        release();
      }
    };
    const key = path === ':memory:' ? driver : resolve(path);
    const result = (migrationQueues.get(key) ?? Promise.resolve()).then(run);
    const done: Promise<void> = result.then(
      () => {
        if (migrationQueues.get(key) === done) migrationQueues.delete(key);
      },
      () => {
        if (migrationQueues.get(key) === done) migrationQueues.delete(key);
      },
    );
    migrationQueues.set(key, done);
    return result;
  }

  const tx: SqlDriver = {
    dialect: 'sqlite',
    ...direct,
    migrationTransaction: () => Promise.reject(new Error('nested transaction')),
    transaction: () => Promise.reject(new Error('nested transaction')),
    close: () => Promise.reject(new Error('close inside a transaction')),
  };

  const driver: SqlDriver = {
    dialect: 'sqlite',
    async run(sql, params) {
      if (gate) await waitForGate();
      return direct.run(sql, params);
    },
    async get<T>(sql: string, params?: SqlValue[]) {
      if (gate) await waitForGate();
      return direct.get<T>(sql, params);
    },
    async all<T>(sql: string, params?: SqlValue[]) {
      if (gate) await waitForGate();
      return direct.all<T>(sql, params);
    },
    async exec(script) {
      if (gate) await waitForGate();
      return direct.exec(script);
    },
    migrationTransaction: transaction,
    transaction,
    async close() {
      cache.clear();
      if (db.isOpen) db.close();
    },
  };
  return driver;
}
