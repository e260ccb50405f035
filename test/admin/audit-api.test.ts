/**
 * The audit trail through the admin API, as an organization's owner meets it: newest first,
 * filtered (user by e-mail, code, decision), paged by following `next`; the export streamed as JSON
 * lines that `portcullis audit verify --file` checks offline (and that names a tampered line), or
 * as CSV; the chain verified. Only owners and admins: a member gets 403 `forbidden`, someone from
 * another organization 404 — and each owner's export holds their own organization's records only.
 */
import type { Org } from '../../src/store/orgs.ts';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditHash } from '../../src/audit/chain.ts';
import type { AuditInput } from '../../src/store/audit.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { runCli, tempDir } from '../cli/run-cli.ts';
import { adminClient, type AdminClient, type ApiAnswer } from './support.ts';

const T0 = 1_800_000_000;

function assertError(answer: ApiAnswer, code: string, status: number): void {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error, code);
}

type Listed = { records: { seq: number; orgId: string; userEmail: string | null; reason: string | null; decision: string; time: string }[]; next: { before: number; href: string } | null };

describe('the audit trail in the admin API', () => {
  let server: TestServer;
  let globex: Org;
  let ada: AdminClient;
  let bob: AdminClient;
  let olga: AdminClient;

  before(async () => {
    server = await startTestServer();
    await server.addUser('bob@example.com', undefined, { role: 'member' });
    globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    const olgaUser = await server.addUser('olga@example.com', undefined, { role: 'owner', org: globex });
    const records: AuditInput[] = [];
    for (let i = 1; i <= 25; i++) {
      const base = { actor: null, kind: 'gateway.call', clientId: null, app: 'demo', tool: 'list_projects', details: { requestId: `r${i}`, clientIp: '203.0.113.7' } };
      records.push({ ...base, at: T0 + i, orgId: server.org.id, subject: server.user.id, decision: i % 5 ? 'allow' : 'deny', reason: i % 5 ? null : 'rate_limited' });
      records.push({ ...base, at: T0 + i, orgId: globex.id, subject: olgaUser.id, decision: 'allow', reason: null, details: { requestId: `globex-secret-${i}` } });
    }
    await server.store.audit.appendMany(records, auditHash);
    ada = await adminClient(server, 'ada@example.com', false);
    bob = await adminClient(server, 'bob@example.com', false);
    olga = await adminClient(server, 'olga@example.com', false);
  });
  after(() => server?.stop());

  it('refuses a plain member (403 forbidden) and anyone from another organization (404 not_found)', async () => {
    for (const path of ['/orgs/acme/audit', '/orgs/acme/audit/export?format=jsonl', '/orgs/acme/audit/verify']) {
      assertError(await bob.call('GET', path), 'forbidden', 403);
      assertError(await olga.call('GET', path), 'not_found', 404);
    }
    assert.equal((await fetch(`${server.url}/admin/api/orgs/acme/audit`)).status, 401);
  });

  it('lists newest first and pages by following `next` without a gap or a repeat', async () => {
    const seqs: number[] = [];
    let path: string | undefined = '/orgs/acme/audit?limit=10&kind=gateway.*';
    while (path) {
      const answer = await ada.call('GET', path.replace(/^.*\/admin\/api/, ''));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const body = answer.body as unknown as Listed;
      assert.ok(body.records.every((r) => r.orgId === server.org.id && r.userEmail === 'ada@example.com'));
      seqs.push(...body.records.map((r) => r.seq));
      path = body.next?.href;
    }
    assert.equal(seqs.length, 25);
    assert.equal(new Set(seqs).size, 25);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a));
  });

  it('filters by user e-mail, decision, code and time (ISO 8601 or epoch seconds)', async () => {
    const denied = (await ada.call('GET', `/orgs/acme/audit?user=ada@example.com&decision=deny&code=rate_limited&since=${T0 + 6}&until=${encodeURIComponent(new Date((T0 + 25) * 1000).toISOString())}`)).body as unknown as Listed;
    assert.deepEqual(denied.records.map((r) => r.time), [new Date((T0 + 20) * 1000).toISOString(), new Date((T0 + 15) * 1000).toISOString(), new Date((T0 + 10) * 1000).toISOString()]);
    assert.equal(denied.next, null);
    assertError(await ada.call('GET', '/orgs/acme/audit?limit=500'), 'invalid_request', 400);
    assertError(await ada.call('GET', '/orgs/acme/audit?since=last-tuesday'), 'invalid_request', 400);
    assertError(await ada.call('GET', '/orgs/acme/audit/export?format=xml'), 'invalid_request', 400);
  });

  it("streams each owner's export with their organization's records only, and the file verifies offline", async () => {
    const dir = tempDir();
    const acmeExport = await ada.ua.request(`${server.url}/admin/api/orgs/acme/audit/export?format=jsonl`);
    assert.equal(acmeExport.status, 200);
    assert.match(acmeExport.headers.get('content-type') ?? '', /^application\/jsonl/);
    assert.match(acmeExport.headers.get('content-disposition') ?? '', /^attachment; filename="audit-acme-\d{8}T\d{6}Z\.jsonl"$/);
    const lines = acmeExport.body.trimEnd().split('\n');
    assert.equal(lines.length, 25);
    assert.ok(lines.every((line) => JSON.parse(line).orgId === server.org.id));
    assert.ok(!acmeExport.body.includes('globex-secret'));

    const globexExport = await olga.ua.request(`${server.url}/admin/api/orgs/globex/audit/export`);
    const globexLines = globexExport.body.trimEnd().split('\n');
    assert.equal(globexLines.length, 25);
    assert.ok(globexLines.every((line) => JSON.parse(line).orgId === globex.id));

    const file = join(dir, 'acme.jsonl');
    writeFileSync(file, acmeExport.body);
    const ok = await runCli(['audit', 'verify', '--file', file]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^OK: 25 records/);

    const tampered = [...lines];
    tampered[6] = tampered[6]!.replace('"tool":"list_projects"', '"tool":"delete_everything"');
    writeFileSync(file, `${tampered.join('\n')}\n`);
    const broken = await runCli(['audit', 'verify', '--file', file, '--json']);
    assert.equal(broken.code, 1);
    const report = JSON.parse(broken.stdout) as { ok: boolean; broken: { line: number; seq: number; problem: string } };
    assert.deepEqual(report.broken, { line: 7, seq: JSON.parse(lines[6]!).seq, chain: server.org.id, problem: 'hash' });
  });

  it('exports CSV as an attachment, records that the trail was exported, and verifies the chain', async () => {
    const csv = await ada.ua.request(`${server.url}/admin/api/orgs/acme/audit/export?format=csv&since=${T0 + 21}`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(csv.headers.get('content-disposition') ?? '', /^attachment; filename="audit-acme-.*\.csv"$/);
    const rows = csv.body.trimEnd().split('\r\n');
    assert.ok(rows[0]!.startsWith('seq,time,'));
    assert.ok(rows.length >= 6, 'the header, records 21–25 (and exports recorded since)');
    const exported = (await ada.call('GET', '/orgs/acme/audit?kind=audit.exported')).body as unknown as { records: { actor: string; details: { format: string } }[] };
    assert.ok(exported.records.some((r) => r.details.format === 'csv' && r.actor === server.user.id));
    const verified = await ada.call('GET', '/orgs/acme/audit/verify');
    assert.equal(verified.status, 200);
    assert.equal(verified.body.ok, true);
    assert.ok((verified.body.checked as number) >= 25);
  });
});
