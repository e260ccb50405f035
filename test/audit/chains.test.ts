/**
 * One chain per organization, as the people who keep the trail live with it: retention cuts old
 * records and what remains still verifies from its checkpoint; a log written before
 * per-organization chains is re-linked once, only if it verified; an exported file verifies on
 * its own, offline, and names the first line that does not; records committed in groups, in order.
 * Real stores (SQLite, and PostgreSQL when PORTCULLIS_TEST_DATABASE_URL is set).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { relinkLegacyRecords } from '../../src/audit/legacy-chain.ts';
import { cutExpiredRecords } from '../../src/audit/retention.ts';
import { verifyLines, verifyStore } from '../../src/audit/verify.ts';
import { silentLogger } from '../../src/core/log.ts';
import { storeAtVersion, storesUnderTest, type StoreLocation } from '../helpers/stores.ts';

const DAY = 86_400;
const T0 = 1_800_000_000;

/** SHA-256 over the previous hash, a newline and the record's fields as JSON with sorted keys: the format the chain is specified in. */
function specHash(prev: string, fields: Record<string, unknown>): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sorted(x)])) : v;
  return createHash('sha256').update(prev).update('\n').update(JSON.stringify(sorted(fields))).digest('hex');
}

for (const target of storesUnderTest()) {
  describe(`audit chains (${target.name})`, { skip: target.skip }, () => {
    it('retention cuts the old records of every organization and what remains verifies from its checkpoint', async () => {
      const store = await target.make();
      let at = T0;
      const audit = new AuditLog(store, silentLogger(), () => at);
      for (let day = 0; day < 10; day++) {
        at = T0 + day * DAY;
        await audit.write({ kind: 'admin.member.role', orgId: 'org_a', subject: `usr_${day}` });
        await audit.write({ kind: 'admin.member.role', orgId: 'org_b', subject: `usr_${day}` });
      }
      // Kept 7 days at day 9: records of days 2…9 stay (day 2 is exactly 7 days old).
      const cut = await cutExpiredRecords(store, 7, T0 + 9 * DAY);
      assert.equal(cut, 4, 'days 0 and 1 of both organizations');
      const left = await store.audit.list({ orgId: 'org_a', limit: 100 });
      assert.deepEqual(left.map((e) => e.subject), ['usr_2', 'usr_3', 'usr_4', 'usr_5', 'usr_6', 'usr_7', 'usr_8', 'usr_9']);
      assert.deepEqual(await verifyStore(store), { ok: true, checked: 16, chains: 2 });
      const chain = (await store.audit.chains()).find((c) => c.chain === 'org_a')!;
      assert.equal(chain.checkpoint?.hash, left[0]!.prevHash, 'the checkpoint is the hash the first kept record links to');
      // Writing goes on after a cut, and still verifies.
      await audit.write({ kind: 'admin.member.role', orgId: 'org_a', subject: 'usr_10' });
      assert.equal((await verifyStore(store, { orgId: 'org_a' })).ok, true);
      assert.equal(await cutExpiredRecords(store, 0, T0 + 100 * DAY), 0, '0 days keeps everything');
    });

    it('records from before per-organization chains are re-linked into them once they verified as one chain', async () => {
      const location = await target.location();
      const store = await legacyStore(location, false);
      assert.equal(await relinkLegacyRecords(store, silentLogger()), 5);
      assert.deepEqual(await verifyStore(store), { ok: true, checked: 5, chains: 3 });
      assert.deepEqual((await verifyStore(store, { orgId: 'org_a' })).checked, 3);
      assert.equal(await relinkLegacyRecords(store, silentLogger()), 0, 'once only');
      // New records go on each organization's chain.
      await new AuditLog(store, silentLogger(), () => T0 + 99).write({ kind: 'admin.member.role', orgId: 'org_a' });
      assert.deepEqual(await verifyStore(store), { ok: true, checked: 6, chains: 3 });
    });

    it('a legacy log that was tampered with is not re-linked (that would launder the change)', async () => {
      const location = await target.location();
      const store = await legacyStore(location, true);
      assert.equal(await relinkLegacyRecords(store, silentLogger()), 0);
      const rows = await location.query<{ chain: string | null }>('SELECT chain FROM audit_events');
      assert.ok(rows.every((r) => r.chain === null), 'left exactly as they were');
    });

    it("an organization's export verifies offline, and a changed line is named", async () => {
      const store = await target.make();
      const audit = new AuditLog(store, silentLogger(), () => T0);
      for (let i = 0; i < 5; i++) {
        await audit.write({ kind: 'gateway.call', orgId: 'org_a', subject: 'usr_1', tool: `tool_${i}`, decision: 'allow' });
        await audit.write({ kind: 'gateway.call', orgId: 'org_b', subject: 'usr_2', tool: `tool_${i}`, decision: 'allow' });
      }
      // What an export holds: the org's records in order, with names resolved beside them (not hashed).
      const lines = (await store.audit.list({ orgId: 'org_a' })).map((e) => JSON.stringify({ ...e, userEmail: 'ada@example.com' }));
      assert.deepEqual(await verifyLines(lines), { ok: true, checked: 5 });
      // The export starts wherever the reader asked (a time range): it still verifies on its own.
      assert.deepEqual(await verifyLines(lines.slice(2)), { ok: true, checked: 3 });
      const edited = lines.map((line, i) => (i === 3 ? line.replace('"tool_3"', '"tool_x"') : line));
      const report = await verifyLines(edited);
      assert.deepEqual([report.ok, report.broken?.line, report.broken?.problem], [false, 4, 'hash']);
      const dropped = lines.filter((_, i) => i !== 2);
      assert.deepEqual([(await verifyLines(dropped)).broken?.line, (await verifyLines(dropped)).broken?.problem], [3, 'link']);
      assert.equal((await verifyLines(['{"not":"a record"}'])).broken?.problem, 'format');
    });

    it('records are committed in groups, in the order they were recorded; a durable record resolves once stored', async () => {
      const store = await target.make();
      const audit = new AuditLog(store, silentLogger(), () => T0, { batchMs: 10_000 });
      const writes: number[] = [];
      audit.onWrite((events) => writes.push(events));
      for (let i = 0; i < 50; i++) audit.record({ kind: 'gateway.call', orgId: 'org_a', tool: `t${i}` });
      assert.equal(audit.queued, 50);
      // A durable record does not wait for the batch timer: it joins the next group commit.
      await Promise.all(Array.from({ length: 20 }, (_, i) => audit.recordDurably({ kind: 'gateway.call', orgId: 'org_a', tool: `d${i}` })));
      assert.equal(audit.queued, 0);
      const stored = await store.audit.list({ orgId: 'org_a', limit: 100 });
      assert.deepEqual(stored.map((e) => e.tool), [...Array.from({ length: 50 }, (_, i) => `t${i}`), ...Array.from({ length: 20 }, (_, i) => `d${i}`)]);
      assert.ok(writes.length < 70, `grouped (${writes.length} transactions for 70 records)`);
      assert.equal((await verifyStore(store)).ok, true);
    });
  });

  /** A database as version 5 left it: one chain for everything, hashed as specified, then migrated. */
  async function legacyStore(location: StoreLocation, tamper: boolean) {
    const old = await storeAtVersion({ ...target, location: async () => location }, 5);
    let prev = 'genesis';
    const orgs = ['org_a', 'org_b', 'org_a', null, 'org_a'];
    for (const [i, orgId] of orgs.entries()) {
      const fields = { at: T0 + i, orgId, actor: 'usr_admin', kind: 'admin.member.role', subject: `usr_${i}`, clientId: null, app: null, tool: null, decision: null, reason: null, details: null };
      const hash = specHash(prev, fields);
      await location.query(
        'INSERT INTO audit_events (at, org_id, actor, kind, subject, client_id, app, tool, decision, reason, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL, NULL, NULL, NULL, $6, $7)',
        [fields.at, orgId, fields.actor, fields.kind, fields.subject, prev, hash],
      );
      prev = hash;
    }
    if (tamper) await location.query("UPDATE audit_events SET subject = 'usr_forged' WHERE subject = 'usr_2'");
    await old.migrate();
    return old;
  }
}
