/**
 * What people read of the audit trail, on real stores (SQLite always, PostgreSQL when
 * PORTCULLIS_TEST_DATABASE_URL is set): an organization's records newest first, filtered, paged
 * without a gap or a repeat; names resolved when read (a deleted account reads "erased", and the
 * chain still verifies); a person's own activity (about them or by them, nobody else's); the
 * export — JSON lines that verify offline and name a tampered line, CSV that a spreadsheet cannot
 * run — never holding another organization's records.
 */
import type { Store } from '../../src/store/store.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditHash } from '../../src/audit/chain.ts';
import { openExport } from '../../src/audit/export.ts';
import { listActivity, listAudit } from '../../src/audit/listing.ts';
import { parseAuditQuery, resolveAuditQuery } from '../../src/audit/query.ts';
import { verifyLines, verifyStore } from '../../src/audit/verify.ts';
import { AuditNames } from '../../src/audit/views.ts';
import type { AuditInput } from '../../src/store/audit.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const T0 = 1_800_000_000;

function call(orgId: string, i: number, extra: Partial<AuditInput> = {}): AuditInput {
  return {
    at: T0 + i,
    orgId,
    actor: null,
    kind: 'gateway.call',
    subject: null,
    clientId: 'notes-client',
    app: 'crm',
    tool: i % 2 ? 'search' : 'delete_all',
    decision: i % 3 === 0 ? 'deny' : 'allow',
    reason: i % 3 === 0 ? 'policy_denied' : null,
    details: { requestId: `req-${orgId}-${i}`, clientIp: '203.0.113.9', durationMs: 1.5 },
    ...extra,
  };
}

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

/** Two organizations with interleaved records, people with e-mails, a client with a name. */
async function seeded(store: Store) {
  const ada = await store.users.create({ email: 'ada@example.com' });
  const bob = await store.users.create({ email: 'bob@example.com' });
  const acme = await store.orgs.create({ slug: 'acme', name: 'Acme' });
  const globex = await store.orgs.create({ slug: 'globex', name: 'Globex' });
  await store.clients.upsert({ clientId: 'notes-client', metadata: { client_name: 'Team Notes' }, kind: 'static' });
  const records: AuditInput[] = [];
  for (let i = 1; i <= 30; i++) {
    const subject = i % 2 ? ada.id : bob.id;
    records.push(call(acme.id, i, { subject, actor: subject }));
    records.push(call(globex.id, i, { subject: bob.id, actor: bob.id, details: { requestId: `globex-${i}`, clientIp: '198.51.100.1' } }));
  }
  await store.audit.appendMany(records, auditHash);
  return { ada, bob, acme, globex };
}

for (const target of storesUnderTest()) {
  describe(`audit views and export (${target.name})`, { skip: target.skip }, () => {
    it('lists newest first, filtered, and pages through every record once — no gap, no repeat', async () => {
      const store = await target.make();
      const { ada, acme } = await seeded(store);
      const names = new AuditNames(store);
      const seen: number[] = [];
      let before: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const query = await resolveAuditQuery(store, acme.id, parseAuditQuery({ limit: '7', ...(before ? { before } : {}) }));
        const page = await listAudit(store, names, query);
        seen.push(...page.records.map((r) => r.seq));
        assert.ok(page.records.every((r) => r.orgId === acme.id));
        if (page.next === null) break;
        before = String(page.next);
      }
      assert.equal(seen.length, 30);
      assert.deepEqual(seen, [...seen].sort((a, b) => b - a), 'newest first');
      assert.equal(new Set(seen).size, 30, 'no record twice');

      const denied = await listAudit(store, names, await resolveAuditQuery(store, acme.id, parseAuditQuery({ decision: 'deny', code: 'policy_denied', user: 'ada@example.com' })));
      assert.deepEqual(
        denied.records.map((r) => [r.decision, r.reason, r.userEmail]),
        Array(5).fill(['deny', 'policy_denied', 'ada@example.com']),
        'i = 3, 9, 15, 21, 27: odd (ada) and a multiple of 3 (denied)',
      );
      assert.equal(denied.records[0]!.subject, ada.id);
      assert.equal(denied.records[0]!.clientName, 'Team Notes');
      const byTool = await listAudit(store, names, await resolveAuditQuery(store, acme.id, parseAuditQuery({ tool: 'delete_all', application: 'crm', since: String(T0 + 11), until: new Date((T0 + 21) * 1000).toISOString() })));
      assert.deepEqual(byTool.records.map((r) => r.at - T0), [20, 18, 16, 14, 12]);
      const nobody = await listAudit(store, names, await resolveAuditQuery(store, acme.id, parseAuditQuery({ user: 'nobody@example.com' })));
      assert.deepEqual(nobody.records, []);
    });

    it('refuses a filter it cannot read, naming the field (400 invalid_request)', () => {
      for (const [query, field] of [[{ since: 'yesterday' }, 'since'], [{ limit: '201' }, 'limit'], [{ decision: 'maybe' }, 'decision'], [{ before: 'abc' }, 'before'], [{ colour: 'red' }, 'colour']] as const) {
        assert.throws(
          () => parseAuditQuery(query as Record<string, string>),
          (err: { code?: string; detail?: { errors?: { path: string }[] } }) => err.code === 'invalid_request' && err.detail?.errors?.[0]?.path === field,
          field,
        );
      }
    });

    it('shows a deleted account as "erased", and the chain still verifies', async () => {
      const store = await target.make();
      const { ada, acme } = await seeded(store);
      await store.users.erase(ada.id, T0 + 100);
      const page = await listAudit(store, new AuditNames(store), await resolveAuditQuery(store, acme.id, parseAuditQuery({ user: ada.id, limit: '3' })));
      assert.deepEqual(page.records.map((r) => [r.subject, r.userEmail, r.actorName]), Array(3).fill([ada.id, 'erased', 'erased']));
      assert.equal((await verifyStore(store, { orgId: acme.id })).ok, true);
      const lines = (await collect((await openExport(store, { orgId: acme.id, format: 'jsonl' })).chunks)).trimEnd().split('\n');
      assert.ok(lines.some((line) => JSON.parse(line).userEmail === 'erased'));
      assert.ok(!lines.some((line) => line.includes('ada@example.com')), 'the export carries no erased e-mail');
      assert.deepEqual(await verifyLines(lines), { ok: true, checked: 30 });
    });

    it("a person's activity: records about them or by them, in any org, and nobody else's", async () => {
      const store = await target.make();
      const { ada, bob, acme } = await seeded(store);
      // ada, as an admin, changed bob's role: by her, about him.
      await store.audit.append({ at: T0 + 50, orgId: acme.id, actor: ada.id, kind: 'admin.member.role', subject: bob.id, clientId: null, app: null, tool: null, decision: null, reason: 'admin', details: null }, auditHash);
      const seen = [];
      let before: number | undefined;
      do {
        const page = await listActivity(store, new AuditNames(store), ada.id, { before, limit: 4 });
        seen.push(...page.records);
        before = page.next ?? undefined;
      } while (before !== undefined);
      assert.equal(seen.length, 16, "ada's 15 calls and the role change she made");
      assert.ok(seen.every((r) => r.subject === ada.id || r.actor === ada.id));
      assert.equal(new Set(seen.map((r) => r.seq)).size, seen.length);
      assert.deepEqual(seen.map((r) => r.seq), [...seen.map((r) => r.seq)].sort((a, b) => b - a));
      assert.equal(seen[0]!.kind, 'admin.member.role');
      assert.equal(seen[0]!.userEmail, 'bob@example.com');
    });

    it("exports one org's records only, as JSON lines that verify offline; a tampered line is named", async () => {
      const store = await target.make();
      const { acme, globex } = await seeded(store);
      const text = await collect((await openExport(store, { orgId: acme.id, format: 'jsonl', pageSize: 7 })).chunks);
      const lines = text.trimEnd().split('\n');
      assert.equal(lines.length, 30);
      const records = lines.map((line) => JSON.parse(line));
      assert.ok(records.every((r) => r.orgId === acme.id && r.chain === acme.id));
      assert.ok(!text.includes(globex.id) && !text.includes('globex-'), "not a trace of the other org's records");
      assert.equal(records[0].clientName, 'Team Notes');
      assert.deepEqual(await verifyLines(lines), { ok: true, checked: 30 });

      const tampered = [...lines];
      tampered[11] = tampered[11]!.replace(/"decision":"(allow|deny)"/, (_, d: string) => `"decision":"${d === 'allow' ? 'deny' : 'allow'}"`);
      assert.notEqual(tampered[11], lines[11]);
      assert.deepEqual(await verifyLines(tampered), { ok: false, checked: 11, broken: { line: 12, seq: records[11].seq, chain: acme.id, problem: 'hash' } });
      const removed = lines.filter((_, i) => i !== 20);
      assert.deepEqual((await verifyLines(removed)).broken, { line: 21, seq: records[21].seq, chain: acme.id, problem: 'link' });

      const ranged = (await collect((await openExport(store, { orgId: acme.id, format: 'jsonl', since: T0 + 10, until: T0 + 20 })).chunks)).trimEnd().split('\n');
      assert.deepEqual(ranged.map((line) => JSON.parse(line).at - T0), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
      assert.equal((await verifyLines(ranged)).ok, true, 'a time range is one unbroken stretch of the chain');
    });

    it('CSV: a header row, RFC 4180 quoting, and no cell a spreadsheet would run as a formula', async () => {
      const store = await target.make();
      const org = await store.orgs.create({ slug: 'acme', name: 'Acme' });
      await store.audit.appendMany(
        [
          call(org.id, 1, { tool: '=HYPERLINK("http://evil.example","click")', details: { userAgent: 'agent, "quoted"\r\nnext line', clientIp: '@evil', upstreamError: -32603 } }),
          call(org.id, 2, { tool: '+1', reason: '-2', app: 'plain' }),
        ],
        auditHash,
      );
      const text = await collect((await openExport(store, { orgId: org.id, format: 'csv' })).chunks);
      const [header] = text.split('\r\n');
      assert.ok(header!.startsWith('seq,time,org_id,kind,'));
      assert.ok(text.includes(`"'=HYPERLINK(""http://evil.example"",""click"")"`), 'quoted, quotes doubled, neutralised');
      assert.ok(text.includes(`"agent, ""quoted""\r\nnext line"`), 'a comma, quotes and a line break stay in one quoted field');
      assert.ok(text.includes(",'@evil,"));
      assert.ok(text.includes(",'+1,") && text.includes(",'-2,"));
      assert.ok(text.includes(',-32603,'), 'numbers we write are left alone');
      assert.ok(text.endsWith('\r\n'));
      assert.equal((await collect((await openExport(store, { orgId: (await store.orgs.create({ slug: 'empty', name: 'Empty' })).id, format: 'csv' })).chunks)), header + '\r\n', 'an empty export is the header');
    });
  });
}
