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

/** Transactions in this process, queued per database file (see serialTransactions). */
const transactionQueues = new Map<string | object, Promise<void>>();

/** The database holds password hashes and users' e-mail addresses: owner-only, like secret.key. */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}

function openDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  // busy_timeout first: switching to WAL takes a lock too, and another process opening the same
  // new file at that moment would otherwise make this fail at once with "database is locked".
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  return db;
}

type Statements = Pick<SqlDriver, 'run' | 'get' | 'all' | 'exec'>;

/** Prepared statements kept per connection. */
const MAX_PREPARED = 256;

/** The statements, straight to the connection, each prepared once (`cache`). */
function statementsOn(db: DatabaseSync, cache: Map<string, StatementSync>): Statements {
  const prepare = (sql: string): StatementSync => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(toSqlite(sql));
      // Bounded: statements built per batch size (the audit log's multi-row inserts) would
      // otherwise each stay prepared for good; the oldest goes first.
      if (cache.size >= MAX_PREPARED) cache.delete(cache.keys().next().value!);
      cache.set(sql, statement);
    }
    return statement;
  };
  return {
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
}

/**
 * Statements of an open transaction go straight to the connection; every other call waits for
 * the transaction to end, so nothing from another request can land inside it (or be rolled back
 * with it) while it awaits between statements.
 */
interface Gate {
  /** A transaction is open: other calls must `pass` first. */
  readonly shut: boolean;
  /** Resolves once no transaction is open. */
  pass(): Promise<void>;
  /** Shut it for a transaction; the returned function opens it again. */
  close(): () => void;
}

function createGate(): Gate {
  let gate: Promise<void> | undefined;
  return {
    get shut() {
      return gate !== undefined;
    },
    async pass() {
      while (gate) await gate;
    },
    close() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

/** Run `run` after every transaction queued before it on the same file (`key`). */
function enqueue<T>(key: string | object, run: () => Promise<T>): Promise<T> {
  const result = (transactionQueues.get(key) ?? Promise.resolve()).then(run);
  const forget = () => {
    if (transactionQueues.get(key) === done) transactionQueues.delete(key);
  };
  const done: Promise<void> = result.then(forget, forget);
  transactionQueues.set(key, done);
  return result;
}

function serialTransactions(db: DatabaseSync, key: string | object, direct: Statements, gate: Gate): SqlDriver['transaction'] {
  const tx: SqlDriver = {
    dialect: 'sqlite',
    ...direct,
    migrationTransaction: () => Promise.reject(new Error('nested transaction')),
    transaction: () => Promise.reject(new Error('nested transaction')),
    close: () => Promise.reject(new Error('close inside a transaction')),
  };
  // Queued per database file: `fn` awaits between statements, so without a queue a second
  // transaction on this connection would hit "cannot start a transaction within a transaction",
  // and a second connection to the same file in this process would block the event loop in
  // busy_timeout while the first cannot progress.
  return <T>(fn: (tx: SqlDriver) => Promise<T>) =>
    enqueue(key, async () => {
      await gate.pass();
      const reopen = gate.close();
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
        reopen();
      }
    });
}

export function openSqliteDriver(path: string): SqlDriver {
  if (path !== ':memory:') createPrivateFile(path);
  const db = openDatabase(path);
  const cache = new Map<string, StatementSync>();
  const direct = statementsOn(db, cache);
  const gate = createGate();
  // An in-memory database is its own: its queue key is unique to this driver.
  const transaction = serialTransactions(db, path === ':memory:' ? {} : resolve(path), direct, gate);
  return {
    dialect: 'sqlite',
    async run(sql, params) {
      if (gate.shut) await gate.pass();
      return direct.run(sql, params);
    },
    async get<T>(sql: string, params?: SqlValue[]) {
      if (gate.shut) await gate.pass();
      return direct.get<T>(sql, params);
    },
    async all<T>(sql: string, params?: SqlValue[]) {
      if (gate.shut) await gate.pass();
      return direct.all<T>(sql, params);
    },
    async exec(script) {
      if (gate.shut) await gate.pass();
      return direct.exec(script);
    },
    migrationTransaction: transaction,
    transaction,
    async close() {
      cache.clear();
      if (db.isOpen) db.close();
    },
  };
}
