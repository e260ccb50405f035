/**
 * The one list of databases every store- and server-level test runs against: SQLite always, and
 * PostgreSQL — at PORTCULLIS_TEST_DATABASE_URL (.ci/run sets it). When the variable is not set,
 * the PostgreSQL variants are registered with `{ skip: 'why' }` (the count shows them); with
 * CI=true they run anyway and fail, since in CI every prerequisite must be there. An unreachable
 * PostgreSQL always fails, never skips.
 */
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
