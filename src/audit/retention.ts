/**
 * `audit.retentionDays`: every chain's records older than the retention are cut — always a
 * prefix of the chain (store.audit.cut) — and the chain keeps the last cut record's hash as its
 * checkpoint, so what remains still verifies, from the checkpoint instead of the genesis.
 */
import type { Store } from '../store/store.ts';

const DAY = 86_400;

/** Cut every chain at `at − retentionDays`; how many records went. 0 days: keep everything. */
export async function cutExpiredRecords(store: Store, retentionDays: number, at: number): Promise<number> {
  if (retentionDays <= 0) return 0;
  const before = at - retentionDays * DAY;
  let cut = 0;
  for (const chain of await store.audit.chains()) cut += await store.audit.cut(chain.chain, before);
  return cut;
}
