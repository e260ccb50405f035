/**
 * The one list of databases every store- and server-level test runs against: SQLite always, and
 * PostgreSQL — at PORTCULLIS_TEST_DATABASE_URL (.ci/run sets it). When the variable is not set,
 * the PostgreSQL variants are registered with `{ skip: 'why' }` (the count shows them); with
 * CI=true they run anyway and fail, since in CI every prerequisite must be there. An unreachable
 * PostgreSQL always fails, never skips.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { skipUnless } from './prerequisites.ts';

export type Dialect = 'sqlite' | 'postgres';

export const TEST_DATABASE_URL: string | undefined = process.env.PORTCULLIS_TEST_DATABASE_URL || undefined;

export interface DatabaseTarget {
  dialect: Dialect;
  /** `skip` for the describe of this target's tests. */
  skip: string | false;
}

const NO_URL = 'PORTCULLIS_TEST_DATABASE_URL is not set (PostgreSQL at postgres://postgres@127.0.0.1:5432/test, as .ci/run sets it)';

export function databaseTargets(): DatabaseTarget[] {
  return [
    { dialect: 'sqlite', skip: false },
    { dialect: 'postgres', skip: TEST_DATABASE_URL ? false : skipUnless(NO_URL) },
  ];
}

/** The PostgreSQL URL, or the failure a test must end in without one (CI). */
export function postgresUrl(): string {
  if (!TEST_DATABASE_URL) throw new Error(NO_URL);
  return TEST_DATABASE_URL;
}

/**
 * A PostgreSQL database of the test's own, for a server in a child process (which cannot be
 * given a schema): its URL, and `drop` to remove it (call from `after`).
 */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = postgresUrl();
  const name = `pct_${randomBytes(6).toString('hex')}`;
  await runSql(admin, `CREATE DATABASE "${name}"`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => runSql(admin, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/** Drop a test's PostgreSQL schema and everything in it. */
export function dropSchema(url: string, schema: string): Promise<void> {
  return runSql(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** One statement on its own connection (a failing database fails the call, never the process). */
async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}
