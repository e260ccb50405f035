/**
 * A database out of reach is reported as an outage (`unavailable`, 503 at every surface), and
 * nothing else is: real errors from real drivers, not hand-made ones.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import pg from 'pg';
import { isDatabaseOutage, reportingOutages } from '../../src/store/sql/outages.ts';
import { openSqliteDriver } from '../../src/store/sqlite/driver.ts';
import { openPostgresDriver } from '../../src/store/postgres/driver.ts';
import { databaseTargets, postgresUrl } from '../helpers/databases.ts';
import { freePort } from '../helpers/private-postgres.ts';

const postgres = databaseTargets().find((t) => t.dialect === 'postgres')!;

const codeOf = async (promise: Promise<unknown>) => promise.then(() => 'resolved', (err: { code?: string }) => err.code);

describe('database outages', () => {
  it('PostgreSQL that refuses connections is an outage, reported as unavailable', async () => {
    const port = await freePort();
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, connectionTimeoutMillis: 2000 });
    const err = await client.connect().then(() => undefined, (e: unknown) => e);
    assert.ok(isDatabaseOutage(err), String(err));
  });

  it('a locked SQLite file is an outage; a broken statement or a constraint is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pct-outage-'));
    try {
      const path = join(dir, 'db.sqlite');
      const holder = new DatabaseSync(path);
      holder.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      holder.exec('BEGIN IMMEDIATE');
      const other = new DatabaseSync(path);
      other.exec('PRAGMA busy_timeout = 0');
      const busy = (() => {
        try {
          other.exec('INSERT INTO t VALUES (1)');
        } catch (e) {
          return e;
        }
      })();
      assert.ok(isDatabaseOutage(busy), String(busy));
      holder.exec('ROLLBACK');
      const driver = reportingOutages(openSqliteDriver(join(dir, 'other.sqlite')));
      assert.equal(await codeOf(driver.run('SELEC nonsense')), 'ERR_SQLITE_ERROR', 'a syntax error is a bug, not an outage');
      await driver.exec('CREATE TABLE u (id INTEGER PRIMARY KEY)');
      await driver.run('INSERT INTO u VALUES (1)');
      assert.equal(await codeOf(driver.run('INSERT INTO u VALUES (1)')), 'ERR_SQLITE_ERROR', 'a constraint is not an outage');
      await driver.close();
      holder.close();
      other.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('through the store driver, an unreachable PostgreSQL is `unavailable`', async () => {
    const port = await freePort();
    // The pool connects lazily: opening without a schema does not touch the server.
    const driver = reportingOutages(await openPostgresDriver({ url: `postgres://postgres@127.0.0.1:${port}/test` }));
    try {
      assert.equal(await codeOf(driver.get('SELECT 1')), 'unavailable');
      assert.equal(await codeOf(driver.transaction(async (tx) => tx.get('SELECT 1'))), 'unavailable');
    } finally {
      await driver.close();
    }
  });

  it('on a live PostgreSQL, a syntax error passes through as it is (42601), not as an outage', { skip: postgres.skip }, async () => {
    const live = reportingOutages(await openPostgresDriver({ url: postgresUrl() }));
    try {
      assert.equal(await codeOf(live.get('SELEC 1')), '42601');
    } finally {
      await live.close();
    }
  });
});
