/**
 * Pages of records as people read them, newest first: an organization's trail (filtered), and one
 * person's own activity — every record they did (actor) or that is about them (subject), in any
 * organization. Each page ends with the cursor of the next (`before` = the last seq shown), so
 * paging never skips or repeats a record, even while new ones are written.
 */
import type { Store } from '../store/store.ts';
import type { AuditEvent } from '../store/audit.ts';
import type { ResolvedQuery } from './query.ts';
import type { AuditNames, AuditView } from './views.ts';

export interface AuditListing {
  records: AuditView[];
  /** The `before` of the next (older) page, or null when this is the last. */
  next: number | null;
}

function pageOf(rows: AuditEvent[], limit: number): { rows: AuditEvent[]; next: number | null } {
  const shown = rows.slice(0, limit);
  return { rows: shown, next: rows.length > limit ? shown.at(-1)!.seq : null };
}

/** One page of an organization's records. */
export async function listAudit(store: Store, names: AuditNames, query: ResolvedQuery): Promise<AuditListing> {
  if (query.matchesNothing) return { records: [], next: null };
  const { limit } = query.page;
  const { rows, next } = pageOf(await store.audit.list({ ...query.page, limit: limit + 1 }), limit);
  return { records: await names.describe(rows), next };
}

/**
 * One page of a person's own activity. The store filters by actor or by subject, not either: both
 * lists, newest first, each a page long, merged — the newest `limit` of the union are among them.
 */
export async function listActivity(store: Store, names: AuditNames, userId: string, page: { before?: number; limit: number }): Promise<AuditListing> {
  const query = { beforeSeq: page.before, order: 'desc' as const, limit: page.limit + 1 };
  const [about, by] = await Promise.all([store.audit.list({ ...query, subject: userId }), store.audit.list({ ...query, actor: userId })]);
  const merged = new Map<number, AuditEvent>();
  for (const record of [...about, ...by]) merged.set(record.seq, record);
  const newestFirst = [...merged.values()].sort((a, b) => b.seq - a.seq);
  const { rows, next } = pageOf(newestFirst, page.limit);
  return { records: await names.describe(rows), next };
}
