/**
 * node:sqlite driver. One connection in WAL mode (readers never block the writer); node:sqlite is
 * synchronous, so every statement is atomic with respect to this process's other requests, and
 * `busy_timeout` covers other processes (e.g. the CLI) writing the same file.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SqlDriver, SqlValue } from '../sql/driver.ts';

/** `$1` → `?1`: SQLite's numbered parameters take the same numbers. */
function toSqlite(sql: string): string {
  return sql.replace(/\$(\d+)/g, '?$1');
}

export function openSqliteDriver(path: string): SqlDriver {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA busy_timeout = 5000');
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
    async get<T>(sql: string, params: SqlValue[] = []) {
      return prepare(sql).get(...params) as T | undefined;
    },
    async all<T>(sql: string, params: SqlValue[] = []) {
      return prepare(sql).all(...params) as T[];
    },
    async exec(script) {
      db.exec(script);
    },
    async migrationTransaction(fn) {
      // IMMEDIATE takes the write lock up front, so two processes cannot both read "version 1".
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(driver);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    },
    async close() {
      cache.clear();
      if (db.isOpen) db.close();
    },
  };
  return driver;
}
