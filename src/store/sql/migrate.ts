/**
 * Numbered SQL migrations per dialect: `src/store/migrations/<dialect>/NNNN_name.sql`.
 * Applied in order inside one locked transaction; `schema_migrations` records what ran.
 */
import type { MigrationReport } from '../store.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlDriver } from './driver.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = join(import.meta.dirname, '..', 'migrations');

export function listMigrations(dialect: 'sqlite' | 'postgres'): Migration[] {
  const dir = join(MIGRATIONS_DIR, dialect);
  return readdirSync(dir)
    .filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 4)), name: file.slice(5, -4), sql: readFileSync(join(dir, file), 'utf8') }));
}

export function latestVersion(dialect: 'sqlite' | 'postgres'): number {
  return listMigrations(dialect).at(-1)?.version ?? 0;
}

export async function migrate(driver: SqlDriver, options: { to?: number } = {}): Promise<MigrationReport> {
  const migrations = listMigrations(driver.dialect).filter((m) => options.to === undefined || m.version <= options.to);
  return driver.migrationTransaction(async (tx) => {
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const done = new Set((await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        Math.floor(Date.now() / 1000),
      ]);
      applied.push(migration.version);
    }
    const row = await tx.get<{ version: number | null }>('SELECT MAX(version) AS version FROM schema_migrations');
    return { dialect: driver.dialect, applied, version: Number(row?.version ?? 0) };
  });
}

/** The versions this build ships, per dialect (read from disk once). */
const KNOWN: Partial<Record<'sqlite' | 'postgres', number[]>> = {};

/** Known versions not yet recorded in `schema_migrations` (every one when the table does not exist yet). */
export async function pendingMigrations(driver: SqlDriver): Promise<number[]> {
  const known = (KNOWN[driver.dialect] ??= listMigrations(driver.dialect).map((m) => m.version));
  const table = driver.dialect === 'sqlite'
    ? await driver.get("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    : await driver.get("SELECT 1 AS found FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'");
  if (!table) return known;
  const done = new Set((await driver.all<{ version: number }>('SELECT version FROM schema_migrations')).map((row) => Number(row.version)));
  return known.filter((version) => !done.has(version));
}
