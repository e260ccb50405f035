/**
 * The audit log is tamper-evident: whoever edits, deletes or reorders a record in the database
 * behind Portcullis's back is caught by `verifyChain`, which names the first record that no
 * longer follows from the one before it. Real stores (SQLite always, PostgreSQL when
 * PORTCULLIS_TEST_DATABASE_URL is set), tampered with by plain SQL as an intruder would.
 *
 * Records cut off the END of a chain are caught too: each chain's head is kept apart from its records.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { auditHash } from '../../src/audit/chain.ts';
import { verifyStore } from '../../src/audit/verify.ts';
import { silentLogger } from '../../src/core/log.ts';
import { storesUnderTest, type StoreLocation } from '../helpers/stores.ts';

/** A store on a fresh database with records 1…count written through the audit log. */
async function loggedStore(location: StoreLocation, count: number) {
  const store = await location.open();
  await store.migrate();
  const audit = new AuditLog(store, silentLogger(), () => 1_800_000_000);
  for (let i = 1; i <= count; i++) await audit.write({ kind: 'member.role_changed', orgId: 'org_1', actor: 'usr_admin', subject: `usr_${i}`, reason: `change ${i}` });
  const seqs = (await location.query<{ seq: number }>('SELECT seq FROM audit_events ORDER BY seq')).map((row) => Number(row.seq));
  return { store, seqs };
}

for (const target of storesUnderTest()) {
  describe(`audit log: tampering is caught (${target.name})`, { skip: target.skip }, () => {
    it('an untouched log verifies', async () => {
      const location = await target.location();
      const { store, seqs } = await loggedStore(location, 6);
      assert.deepEqual(await verifyStore(store), { ok: true, checked: seqs.length, chains: 1 });
    });

    it('an edited record is named: its own hash no longer matches its contents', async () => {
      const location = await target.location();
      const { store, seqs } = await loggedStore(location, 6);
      await location.query("UPDATE audit_events SET reason = 'nothing to see' WHERE seq = $1", [seqs[3]!]);
      assert.deepEqual(await verifyStore(store), { ok: false, checked: 3, chains: 1, broken: { seq: seqs[3], chain: 'org_1', problem: 'hash' } });
    });

    it('a deleted record is caught at the record after it', async () => {
      const location = await target.location();
      const { store, seqs } = await loggedStore(location, 6);
      await location.query('DELETE FROM audit_events WHERE seq = $1', [seqs[2]!]);
      assert.deepEqual(await verifyStore(store), { ok: false, checked: 2, chains: 1, broken: { seq: seqs[3], chain: 'org_1', problem: 'link' } });
    });

    it('two records swapped are caught at the first of them', async () => {
      const location = await target.location();
      const { store, seqs } = await loggedStore(location, 6);
      // Swap the contents of records 2 and 3 (hashes included), as if they had been written the other way round.
      const [a, b] = [seqs[1]!, seqs[2]!];
      await location.query('UPDATE audit_events SET seq = -1 WHERE seq = $1', [a]);
      await location.query('UPDATE audit_events SET seq = $1 WHERE seq = $2', [a, b]);
      await location.query('UPDATE audit_events SET seq = $1 WHERE seq = -1', [b]);
      assert.deepEqual(await verifyStore(store), { ok: false, checked: 1, chains: 1, broken: { seq: a, chain: 'org_1', problem: 'link' } });
    });

    it('a record whose hash was recomputed after an edit is still caught, at the record after it', async () => {
      const location = await target.location();
      const { store, seqs } = await loggedStore(location, 6);
      // A careful intruder edits record 4 and rewrites its hash to match; record 5 still names the old hash.
      const [row] = await location.query<Record<string, unknown>>('SELECT * FROM audit_events WHERE seq = $1', [seqs[3]!]);
      const edited = { at: Number(row!.at), orgId: row!.org_id, actor: row!.actor, kind: row!.kind, subject: 'usr_someone_else', clientId: row!.client_id, app: row!.app, tool: row!.tool, decision: row!.decision, reason: row!.reason, details: row!.details === null ? null : JSON.parse(String(row!.details)) };
      const hash = auditHash(String(row!.prev_hash), edited as never);
      await location.query('UPDATE audit_events SET subject = $1, hash = $2 WHERE seq = $3', ['usr_someone_else', hash, seqs[3]!]);
      assert.deepEqual(await verifyStore(store), { ok: false, checked: 4, chains: 1, broken: { seq: seqs[4], chain: 'org_1', problem: 'link' } });
    });

    it('records cut off the end of a chain are caught: the chain ends before its head', async () => {
      const location = await target.location();
      const { store, seqs } = await loggedStore(location, 6);
      await location.query('DELETE FROM audit_events WHERE seq >= $1', [seqs[4]!]);
      assert.deepEqual(await verifyStore(store), { ok: false, checked: 4, chains: 1, broken: { seq: seqs[3], chain: 'org_1', problem: 'head' } });
    });

    it("one organization's chain verifies on its own, whatever happens to another's", async () => {
      const location = await target.location();
      const store = await location.open();
      await store.migrate();
      const audit = new AuditLog(store, silentLogger(), () => 1_800_000_000);
      for (let i = 0; i < 4; i++) {
        await audit.write({ kind: 'member.role_changed', orgId: 'org_a', subject: `usr_a${i}` });
        await audit.write({ kind: 'member.role_changed', orgId: 'org_b', subject: `usr_b${i}` });
      }
      await location.query("UPDATE audit_events SET subject = 'usr_forged' WHERE org_id = 'org_b' AND subject = 'usr_b2'");
      assert.deepEqual(await verifyStore(store, { orgId: 'org_a' }), { ok: true, checked: 4, chains: 1 });
      const b = await verifyStore(store, { orgId: 'org_b' });
      assert.deepEqual([b.ok, b.broken?.chain, b.broken?.problem], [false, 'org_b', 'hash']);
    });
  });
}
