/** Pick the Store for a configuration: PostgreSQL when a database URL is given, else SQLite in the data directory. */
import type { Store } from './store.ts';
import { join, resolve } from 'node:path';
import { openPostgresDriver } from './postgres/driver.ts';
import { openSqliteDriver } from './sqlite/driver.ts';
import { reportingOutages } from './sql/outages.ts';
import { createSqlStore } from './sql/store.ts';

export interface StoreOptions {
  databaseUrl?: string;
  dataDir: string;
  /** PostgreSQL schema (tests give each run its own). */
  schema?: string;
}

export function sqlitePath(dataDir: string): string {
  return join(resolve(dataDir), 'portcullis.db');
}

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    return createSqlStore(reportingOutages(await openPostgresDriver({ url: options.databaseUrl, schema: options.schema })));
  }
  return createSqlStore(reportingOutages(openSqliteDriver(sqlitePath(options.dataDir))));
}
