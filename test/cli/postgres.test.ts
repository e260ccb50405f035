/**
 * `portcullis migrate` (and a store-writing command) against PostgreSQL, when
 * PORTCULLIS_TEST_DATABASE_URL is set: each test gets a fresh schema, named to the CLI the way an
 * operator would, in DATABASE_URL (`?options=-c search_path=<schema>`). Unreachable PostgreSQL
 * fails these tests; it never skips them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it, before } from 'node:test';
import pg from 'pg';
import { listMigrations } from '../../src/store/sql/migrate.ts';
import { databaseTargets, postgresUrl } from '../helpers/databases.ts';
import { json, oneLineError, runCli, tempDir } from './run-cli.ts';

/** A new, empty schema (dropped when the suite ends) and the DATABASE_URL that selects it. */
async function freshSchema(url: string): Promise<{ databaseUrl: string; schema: string }> {
  const schema = `pct_cli_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  after(async () => {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  await client.query(`CREATE SCHEMA "${schema}"`);
  const databaseUrl = new URL(url);
  databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
  return { databaseUrl: databaseUrl.href, schema };
}

const postgres = databaseTargets().find((t) => t.dialect === 'postgres')!;

describe('portcullis migrate (PostgreSQL)', { skip: postgres.skip }, () => {
  let url: string;
  before(() => {
    url = postgresUrl();
  });
  it('applies every migration to a fresh schema, prints the versions, then has nothing to do', async () => {
    const { databaseUrl } = await freshSchema(url);
    const env = { DATABASE_URL: databaseUrl };
    const first = await runCli(['migrate', '--json'], { dataDir: tempDir(), env });
    assert.equal(first.code, 0, first.stderr);
    const report = json<{ dialect: string; applied: number[]; version: number; location: string }>(first);
    assert.equal(report.dialect, 'postgres');
    assert.deepEqual(report.applied, listMigrations('postgres').map((m) => m.version));
    const again = await runCli(['migrate', '--json'], { dataDir: tempDir(), env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(json(again).applied, []);
  });

  it('lands in the schema named in DATABASE_URL, and several processes at once apply each migration exactly once', async () => {
    const { databaseUrl, schema } = await freshSchema(url);
    const results = await Promise.all(Array.from({ length: 3 }, () => runCli(['migrate', '--json'], { dataDir: tempDir(), env: { DATABASE_URL: databaseUrl } })));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const applied = results.flatMap((result) => json<{ applied: number[] }>(result).applied).sort((a, b) => a - b);
    assert.deepEqual(applied, listMigrations('postgres').map((m) => m.version));

    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      const rows = (await client.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)).rows.map((r) => Number(r.version));
      assert.deepEqual(rows, listMigrations('postgres').map((m) => m.version));
    } finally {
      await client.end();
    }
  });

  it('prints the database without its password', async () => {
    const { databaseUrl } = await freshSchema(url);
    const withPassword = new URL(databaseUrl);
    withPassword.password = 'not-the-real-one';
    // pg ignores a password the server does not ask for (trust auth), so this still connects
    // where the test database allows it; either way the password must not be printed.
    const result = await runCli(['migrate'], { dataDir: tempDir(), env: { DATABASE_URL: withPassword.href } });
    const output = result.stdout + result.stderr;
    assert.ok(!output.includes('not-the-real-one'));
    assert.ok(output.includes(`${withPassword.username}:****@${withPassword.host}`), 'the database is named, its password masked');
    if (result.code !== 0) oneLineError(result);
  });

  it('admin create-user writes to PostgreSQL and refuses a duplicate', async () => {
    const { databaseUrl } = await freshSchema(url);
    const env = { DATABASE_URL: databaseUrl };
    const dataDir = tempDir();
    const created = await runCli(['admin', 'create-user', '--email', 'pg@example.com', '--password-stdin'], { dataDir, env, stdin: 'a long enough passphrase' });
    assert.equal(created.code, 0, created.stderr);
    const duplicate = await runCli(['admin', 'create-user', '--email', 'PG@example.com', '--password-stdin'], { dataDir, env, stdin: 'a long enough passphrase' });
    assert.equal(duplicate.code, 1);
    oneLineError(duplicate);
  });
});
