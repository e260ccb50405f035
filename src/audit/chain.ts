/**
 * The hash chain, as pure functions: a record's hash covers the hash before it in its chain and
 * every field of the record (canonical JSON), so removing, reordering or editing any record breaks
 * the hash of the record after it. One verifier checks records as they come — from the store
 * (verify.ts) or from an exported file, offline — several chains interleaved, and names the
 * first record that does not follow from the one before it in its chain.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';
import type { AuditEvent, AuditInput } from '../store/audit.ts';

/** The fields a record's hash covers, in this order (display fields added to exports are not among them). */
const HASHED_FIELDS = ['at', 'orgId', 'actor', 'kind', 'subject', 'clientId', 'app', 'tool', 'decision', 'reason', 'details'] as const;

export function auditHash(prevHash: string, event: AuditInput): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(event)).digest('hex');
}

/** The hashed part of a stored or exported record. */
export function hashedPart(record: Pick<AuditEvent, (typeof HASHED_FIELDS)[number]>): AuditInput {
  return Object.fromEntries(HASHED_FIELDS.map((field) => [field, record[field] ?? null])) as unknown as AuditInput;
}

export interface ChainBreak {
  seq: number;
  chain: string;
  /** `hash`: the record's contents do not give its hash (edited); `link`: it does not follow the record before it in its chain (one removed, reordered, or inserted). */
  problem: 'hash' | 'link';
}

/**
 * Checks records in order. Each chain starts from the anchor given for it (its checkpoint, or the
 * genesis); a chain with no anchor — an exported file read on its own — starts from whatever its
 * first record links to.
 */
export class ChainVerifier {
  readonly #last = new Map<string, string>();
  #checked = 0;
  #broken: ChainBreak | undefined;

  constructor(anchors: Iterable<[chain: string, hash: string]> = []) {
    for (const [chain, hash] of anchors) this.#last.set(chain, hash);
  }

  /** Check the next record; false once a record has failed (the first failure is kept). */
  check(record: Pick<AuditEvent, 'seq' | 'chain' | 'prevHash' | 'hash'> & Pick<AuditEvent, (typeof HASHED_FIELDS)[number]>): boolean {
    if (this.#broken) return false;
    const expected = this.#last.get(record.chain);
    if (expected !== undefined && record.prevHash !== expected) return this.#fail(record, 'link');
    if (auditHash(record.prevHash, hashedPart(record)) !== record.hash) return this.#fail(record, 'hash');
    this.#last.set(record.chain, record.hash);
    this.#checked++;
    return true;
  }

  /** The hash of the last good record of each chain. */
  heads(): Map<string, string> {
    return new Map(this.#last);
  }

  get checked(): number {
    return this.#checked;
  }

  get broken(): ChainBreak | undefined {
    return this.#broken;
  }

  #fail(record: { seq: number; chain: string }, problem: ChainBreak['problem']): false {
    this.#broken = { seq: record.seq, chain: record.chain, problem };
    return false;
  }
}
