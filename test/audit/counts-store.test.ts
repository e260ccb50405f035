/**
 * The audit store's counts (the server dashboard's numbers) on both dialects: gateway calls per
 * UTC day by outcome — denied (the gateway refused), failed (allowed, the upstream failed),
 * allowed —, denials by code, the busiest tools and people; a filter narrows them and the
 * largest group comes first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditHash } from '../../src/audit/chain.ts';
import type { AuditInput } from '../../src/store/audit.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const DAY = 86_400;
const D1 = 20_000 * DAY; // a UTC midnight

function call(at: number, decision: 'allow' | 'deny', reason: string | null, tool: string, subject: string): AuditInput {
  return { at, orgId: null, actor: subject, kind: 'gateway.call', subject, clientId: 'c1', app: 'notes', tool, decision, reason, details: null };
}

for (const target of storesUnderTest()) {
  describe(`audit counts: ${target.name}`, { skip: target.skip }, () => {
    it('counts gateway calls by day and outcome, denials by code, tools and people, largest first', async () => {
      const store = await target.make();
      await store.audit.appendMany(
        [
          call(D1 + 10, 'allow', null, 'search', 'u1'),
          call(D1 + 20, 'allow', null, 'search', 'u1'),
          call(D1 + DAY - 1, 'deny', 'insufficient_scope', 'write', 'u2'),
          call(D1 + DAY, 'allow', 'upstream_unavailable', 'search', 'u2'),
          call(D1 + DAY + 5, 'deny', 'insufficient_scope', 'write', 'u1'),
          call(D1 + DAY + 6, 'deny', 'tool_not_approved', 'delete', 'u1'),
          { ...call(D1 + 30, 'allow', null, 'x', 'u3'), kind: 'admin.user.disabled', decision: null },
        ],
        auditHash,
      );
      const calls = { kind: 'gateway.call' };
      const byDay = await store.audit.count(calls, ['day', 'outcome'], 100);
      const key = (rows: { values: unknown[]; count: number }[]) => rows.map((r) => [...r.values, r.count]).sort((a, b) => String(a).localeCompare(String(b)));
      assert.deepEqual(key(byDay), key([
        { values: [20_000, 'allowed'], count: 2 },
        { values: [20_000, 'denied'], count: 1 },
        { values: [20_001, 'failed'], count: 1 },
        { values: [20_001, 'denied'], count: 2 },
      ]));
      assert.deepEqual(await store.audit.count({ ...calls, decision: 'deny' }, ['reason'], 10), [
        { values: ['insufficient_scope'], count: 2 },
        { values: ['tool_not_approved'], count: 1 },
      ]);
      assert.deepEqual(await store.audit.count(calls, ['tool'], 1), [{ values: ['search'], count: 3 }], 'largest first, limited');
      assert.deepEqual(await store.audit.count({ ...calls, since: D1 + DAY }, ['subject'], 10), [
        { values: ['u1'], count: 2 },
        { values: ['u2'], count: 1 },
      ]);
      await store.close();
    });
  });
}
