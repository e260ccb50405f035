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

/** Migration transactions in this process, queued per database file (see migrationTransaction). */
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

  const driver: SqlDriver = {
    dialect: 'sqlite',
    async run(sql, params: SqlValue[] = []) {
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
    async exec(script) {
      db.exec(script);
    },
    async migrationTransaction(fn) {
      // `fn` awaits between statements, so without a queue a second migrate() on this connection
      // would hit "cannot start a transaction within a transaction" and its ROLLBACK would undo the
      // first one's work; a second connection to the same file in this process would block the
      // event loop in busy_timeout while the first transaction cannot progress.
      const run = async () => {
        // IMMEDIATE takes the write lock up front, so two processes cannot both read "version 1".
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(driver);
          db.exec('COMMIT');
          return result;
        } catch (err) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw err;
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
    },
    async close() {
      cache.clear();
      if (db.isOpen) db.close();
    },
  };
  return driver;
}
