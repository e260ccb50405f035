/**
 * Records written before per-organization chains were one chain for the whole server. At start,
 * once, they are verified as that chain and — only if every one of them verifies — re-linked into
 * per-organization chains, so that an organization's export verifies on its own. A legacy chain
 * that does not verify is left as it is (chain unset) and named in the log at every start:
 * re-linking it would launder the tampering.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import { AUDIT_GENESIS, type AuditChain } from '../store/audit.ts';
import { auditHash, ChainVerifier, hashedPart } from './chain.ts';

export async function relinkLegacyRecords(store: Store, log: Logger): Promise<number> {
  const verifier = new ChainVerifier([['', AUDIT_GENESIS]]);
  const relinked: { seq: number; chain: string; prevHash: string; hash: string }[] = [];
  const heads = new Map<string, AuditChain>();
  let after = 0;
  for (;;) {
    const page = await store.audit.legacyRecords(after, 1000);
    for (const record of page) {
      if (!verifier.check({ ...record, chain: '' })) {
        log.error({ seq: record.seq }, 'audit records from before per-organization chains do not verify; left as they are');
        return 0;
      }
      const chain = record.orgId ?? '';
      const head = heads.get(chain) ?? { chain, head: AUDIT_GENESIS, headSeq: 0, records: 0, checkpoint: null };
      const hash = auditHash(head.head, hashedPart(record));
      relinked.push({ seq: record.seq, chain, prevHash: head.head, hash });
      heads.set(chain, { ...head, head: hash, headSeq: record.seq, records: head.records + 1 });
    }
    if (page.length < 1000) break;
    after = page.at(-1)!.seq;
  }
  if (relinked.length === 0) return 0;
  if ((await store.audit.chains()).length > 0) {
    // New records were written to chains already: legacy ones, older, cannot go before them.
    log.warn({ records: relinked.length }, 'audit records from before per-organization chains stay in the server-wide legacy chain');
    return 0;
  }
  await store.audit.relinkLegacy(relinked, [...heads.values()]);
  log.info({ records: relinked.length, chains: heads.size }, 'audit records re-linked into per-organization chains');
  return relinked.length;
}
