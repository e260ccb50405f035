/**
 * One channel per deployment: every process on the same database (and PostgreSQL schema) shares
 * it, and nothing else does — two deployments, or two test runs, on one PostgreSQL server or one
 * Redis never hear each other. The name is a short hash, so it is a valid PostgreSQL identifier
 * (LISTEN takes an identifier of at most 63 bytes) whatever the URL holds.
 */
import { createHash } from 'node:crypto';

/** `portcullis_changes_<hash>` for the database at `databaseUrl` (its host, port, database, options and schema; never its password). */
export function changeChannel(databaseUrl: string | undefined, schema: string | undefined, dataDir: string): string {
  let identity: string;
  if (databaseUrl) {
    const url = new URL(databaseUrl);
    identity = `postgres|${url.hostname}|${url.port || '5432'}|${url.pathname}|${url.search}|${schema ?? 'public'}`;
  } else identity = `sqlite|${dataDir}`;
  return `portcullis_changes_${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}
