/**
 * `portcullis audit verify` and `portcullis audit export` as an operator runs them (real child
 * processes on a SQLite data directory): the store's chains verify (exit 0) until a record is
 * edited behind Portcullis's back (exit 1, the record named); an organization's export goes to a
 * file that holds its records only and verifies offline; usage errors exit 2.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { before, describe, it } from 'node:test';
import { auditHash } from '../../src/audit/chain.ts';
import type { AuditInput } from '../../src/store/audit.ts';
import { openStore, sqlitePath } from '../../src/store/open.ts';
import { oneLineError, runCli, tempDir } from './run-cli.ts';

// In the past: the exports recorded while the test runs come after every seeded record.
const T0 = 1_700_000_000;

describe('portcullis audit (SQLite)', () => {
  const dataDir = tempDir();
  let acmeId = '';

  before(async () => {
    const store = await openStore({ dataDir });
    await store.migrate();
    const acme = await store.orgs.create({ slug: 'acme', name: 'Acme' });
    const globex = await store.orgs.create({ slug: 'globex', name: 'Globex' });
    acmeId = acme.id;
    const records: AuditInput[] = [];
    for (let i = 1; i <= 12; i++) {
      for (const org of [acme, globex]) {
        records.push({ at: T0 + i, orgId: org.id, actor: null, kind: 'gateway.call', subject: null, clientId: null, app: 'demo', tool: `tool-of-${org.slug}`, decision: 'allow', reason: null, details: { n: i, note: '=cmd|calc' } });
      }
    }
    await store.audit.appendMany(records, auditHash);
    await store.close();
  });

  it('export: one organization to a file, complete, that verifies offline', async () => {
    const out = join(dataDir, 'acme.jsonl');
    const exported = await runCli(['audit', 'export', '--org', 'acme', '--out', out, '--since', new Date((T0 + 3) * 1000).toISOString()], { dataDir });
    assert.equal(exported.code, 0, exported.stderr);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 10, 'records 3–12');
    assert.ok(lines.every((line) => JSON.parse(line).orgId === acmeId && !line.includes('tool-of-globex')));
    const verified = await runCli(['audit', 'verify', '--file', out], { dataDir });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);

    const csv = await runCli(['audit', 'export', '--org', acmeId, '--format', 'csv', '--until', String(T0 + 3)], { dataDir });
    assert.equal(csv.code, 0, csv.stderr);
    const rows = csv.stdout.trimEnd().split('\r\n');
    assert.equal(rows.length, 3, 'the header and records 1–2');
    assert.ok(rows[1]!.includes('tool-of-acme'));
  });

  it('verify: the store is whole (exit 0), one organization or all; an edited record is named (exit 1)', async () => {
    const all = await runCli(['audit', 'verify'], { dataDir });
    assert.equal(all.code, 0, all.stdout + all.stderr);
    assert.match(all.stdout, /^OK: \d+ records in \d+ chains verify/);
    const one = await runCli(['audit', 'verify', '--org', 'acme', '--json'], { dataDir });
    assert.equal(one.code, 0);
    assert.equal(JSON.parse(one.stdout).chains, 1);

    const db = new DatabaseSync(sqlitePath(dataDir));
    const victim = db.prepare("SELECT seq FROM audit_events WHERE org_id = ? AND kind = 'gateway.call' ORDER BY seq LIMIT 1 OFFSET 4").get(acmeId) as { seq: number };
    db.prepare("UPDATE audit_events SET decision = 'deny' WHERE seq = ?").run(victim.seq);
    db.close();
    const broken = await runCli(['audit', 'verify', '--org', 'acme', '--json'], { dataDir });
    assert.equal(broken.code, 1);
    assert.deepEqual(JSON.parse(broken.stdout).broken, { seq: victim.seq, chain: acmeId, problem: 'hash' });
    const text = await runCli(['audit', 'verify'], { dataDir });
    assert.equal(text.code, 1);
    assert.match(text.stdout, new RegExp(`^BROKEN: record seq ${victim.seq} `));
    const globexStill = await runCli(['audit', 'verify', '--org', 'globex'], { dataDir });
    assert.equal(globexStill.code, 0, 'each organization verifies on its own');
  });

  it('usage errors exit 2 with one line; an unknown organization exits 1', async () => {
    for (const args of [['audit', 'export'], ['audit', 'export', '--org', 'acme', '--format', 'xml'], ['audit', 'export', '--org', 'acme', '--since', 'soon'], ['audit', 'verify', '--org', 'acme', '--file', 'x.jsonl']]) {
      const result = await runCli(args, { dataDir });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      oneLineError(result);
    }
    const unknown = await runCli(['audit', 'export', '--org', 'initech'], { dataDir });
    assert.equal(unknown.code, 1);
    assert.match(oneLineError(unknown), /no organization initech/);
    for (const command of ['verify', 'export']) {
      const help = await runCli(['audit', command, '--help']);
      assert.equal(help.code, 0);
      assert.ok(help.stdout.startsWith(`Usage: portcullis audit ${command}`));
    }
  });
});
