/**
 * `portcullis audit verify`: recompute every chain in the store (or one organization's) from its
 * checkpoint — or the genesis — to its head, and name the first record that does not follow.
 * Records cut off a chain's end are caught too: the chain's last record must be its recorded head.
 * An exported file is checked offline by the same verifier (verifyLines), from its own first record.
 */
import type { Store } from '../store/store.ts';
import { AUDIT_GENESIS, type AuditChain, type AuditEvent } from '../store/audit.ts';
import { ChainVerifier, type ChainBreak } from './chain.ts';

export interface ChainReport {
  ok: boolean;
  /** Records that verified. */
  checked: number;
  /** Chains looked at. */
  chains: number;
  /** The first record that does not follow (`problem: 'head'`: the chain ends before its recorded head). */
  broken?: { seq: number; chain: string; problem: ChainBreak['problem'] | 'head' };
}

async function verifyOne(store: Store, chain: AuditChain, verifier: ChainVerifier, pageSize: number): Promise<ChainReport['broken']> {
  let after = chain.checkpoint?.seq ?? 0;
  let last: AuditEvent | undefined;
  for (;;) {
    const page = await store.audit.chainRecords(chain.chain, after, pageSize);
    for (const record of page) {
      if (!verifier.check(record)) return verifier.broken;
      last = record;
    }
    if (page.length < pageSize) break;
    after = page.at(-1)!.seq;
  }
  // Records may have been written after `chains()` was read: only a chain that ends short is broken.
  if ((last?.seq ?? chain.checkpoint?.seq ?? 0) < chain.headSeq || (last && last.seq === chain.headSeq && last.hash !== chain.head)) {
    return { seq: last?.seq ?? chain.checkpoint?.seq ?? 0, chain: chain.chain, problem: 'head' };
  }
  return undefined;
}

/** Verify every chain, or only `orgId`'s. */
export async function verifyStore(store: Store, options: { orgId?: string; pageSize?: number } = {}): Promise<ChainReport> {
  const chains = (await store.audit.chains()).filter((c) => options.orgId === undefined || c.chain === options.orgId);
  const verifier = new ChainVerifier(chains.map((c) => [c.chain, c.checkpoint?.hash ?? AUDIT_GENESIS]));
  for (const chain of chains) {
    const broken = await verifyOne(store, chain, verifier, options.pageSize ?? 1000);
    if (broken) return { ok: false, checked: verifier.checked, chains: chains.length, broken };
  }
  return { ok: true, checked: verifier.checked, chains: chains.length };
}

export interface FileReport {
  ok: boolean;
  checked: number;
  /** The first line that is not a record, or whose record does not follow (1-based line number). */
  broken?: { line: number; seq?: number; chain?: string; problem: ChainBreak['problem'] | 'format' };
}

const isRecordLine = (value: unknown): value is AuditEvent =>
  typeof value === 'object' && value !== null && typeof (value as AuditEvent).hash === 'string' && typeof (value as AuditEvent).prevHash === 'string' && typeof (value as AuditEvent).seq === 'number';

/** Verify an export (JSON lines) offline, line by line, as it is read. */
export async function verifyLines(lines: AsyncIterable<string> | Iterable<string>): Promise<FileReport> {
  const verifier = new ChainVerifier();
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, checked: verifier.checked, broken: { line, problem: 'format' } };
    }
    if (!isRecordLine(value)) return { ok: false, checked: verifier.checked, broken: { line, problem: 'format' } };
    const record = { ...value, chain: typeof value.chain === 'string' ? value.chain : (value.orgId ?? '') };
    if (!verifier.check(record)) return { ok: false, checked: verifier.checked, broken: { line, seq: record.seq, chain: record.chain, problem: verifier.broken!.problem } };
  }
  return { ok: true, checked: verifier.checked };
}
