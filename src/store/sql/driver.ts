/**
 * The narrow waist between the Store's SQL and a database client. Both dialects accept the same
 * statements: `$1`-style placeholders (the SQLite driver rewrites them to `?1`), `ON CONFLICT`,
 * and `RETURNING`, so the Store's logic is written once and the contract suite proves it twice.
 */
export type SqlValue = string | number | null;

export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  /** Run a statement; `changes` is the number of rows written. */
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number }>;
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Run a script of several statements (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Run `fn` inside one transaction that also holds the migration lock, so that several
   * processes starting together apply each migration once.
   */
  migrationTransaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T>;
  /**
   * Run `fn` inside one transaction; its statements go through `tx`. Nothing else on this store
   * interleaves with it (SQLite: other calls wait; PostgreSQL: its own connection, row locks with
   * `SELECT … FOR UPDATE`). Keep `fn` short: it holds the write lock.
   */
  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
