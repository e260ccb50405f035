/**
 * PostgreSQL driver on a `pg` pool. BIGINT columns (epoch seconds, sequence numbers) come back as
 * JS numbers: every value we store fits in 2^53. An optional schema isolates test runs and
 * tenants sharing one database.
 */
import pg from 'pg';
import type { SqlDriver, SqlValue } from '../sql/driver.ts';

const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Arbitrary number for pg_advisory_xact_lock: "Portcullis migrations". */
const MIGRATION_LOCK = 7_301_914;

export interface PostgresOptions {
  url: string;
  /** Schema to use (created if missing); default `public`. */
  schema?: string;
  max?: number;
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`invalid schema name: ${name}`);
  return `"${name}"`;
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

function driverOn(target: Queryable, close: () => Promise<void>, pool: pg.Pool): SqlDriver {
  /** One connection for the whole transaction; statements inside it go through `tx`. */
  async function inTransaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    if (!('query' in pool) || target !== pool) throw new Error('nested transaction');
    const client = await pool.connect();
    // A connection lost while checked out (between two statements) is an 'error' event on the
    // client, which the pool only listens to while the client is idle: unheard, it would end the
    // process. The statement in flight fails anyway (an outage, 503), and the broken client is
    // destroyed on release rather than returned to the pool.
    let broken: Error | undefined;
    const onError = (err: Error) => void (broken = err);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(driverOn(client, async () => {}, pool));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
  const driver: SqlDriver = {
    dialect: 'postgres',
    async run(sql, params: SqlValue[] = []) {
      const result = await target.query(sql, params);
      return { changes: result.rowCount ?? 0 };
    },
    async get<T>(sql: string, params: SqlValue[] = []) {
      const result = await target.query(sql, params);
      return result.rows[0] as T | undefined;
    },
    async all<T>(sql: string, params: SqlValue[] = []) {
      const result = await target.query(sql, params);
      return result.rows as T[];
    },
    async exec(script) {
      await target.query(script);
    },
    migrationTransaction: (fn) =>
      inTransaction(async (tx) => {
        // Several processes may start at once: the lock serializes them; the loser then sees
        // the winner's migrations as applied.
        await tx.run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        return fn(tx);
      }),
    transaction: (fn) => inTransaction(fn),
    close,
  };
  return driver;
}

export async function openPostgresDriver(options: PostgresOptions): Promise<SqlDriver> {
  const schema = options.schema;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    types,
    connectionTimeoutMillis: 5000,
    ...(schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {}),
  });
  // An idle client that loses its connection emits 'error'; without a listener it would crash the process.
  pool.on('error', () => {});
  if (schema) {
    try {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    } catch (err) {
      // IF NOT EXISTS does not cover a race: when several processes create the schema at once,
      // the losers fail with a unique violation on pg_namespace. The schema exists, which is the point.
      const exists = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]).catch(() => undefined);
      if (!exists?.rowCount) {
        await pool.end().catch(() => {});
        throw err;
      }
    }
  }
  return driverOn(pool, () => pool.end(), pool);
}
