/**
 * An audit listing as people ask for it — in the admin API's query string or the console's filter
 * form — turned into what the store selects: times as ISO 8601 or epoch seconds, a user by id or
 * e-mail, a kind exactly or by prefix (`gateway.*`), newest first from a `before` cursor (a seq).
 * Wrong input is 400 `invalid_request` naming the field; empty fields are ignored (a submitted form).
 */
import * as z from 'zod';
import { parseInput } from '../core/input.ts';
import type { Store } from '../store/store.ts';
import type { AuditFilter, AuditPage } from '../store/audit.ts';

/** A listing's page size: at most this many records. */
export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const HAS_ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** ISO 8601 (a time without a zone is UTC) or epoch seconds → epoch seconds; undefined when not a time. */
export function parseTime(text: string): number | undefined {
  const value = text.trim();
  if (/^\d{1,12}$/.test(value)) return Number(value);
  if (!ISO_8601.test(value)) return undefined;
  // Date.parse reads a date-time without a zone as local time; the server's time is UTC.
  const ms = Date.parse(value.length > 10 && !HAS_ZONE.test(value) ? `${value.replace(' ', 'T')}Z` : value.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());
const time = optional(z.string().transform((v, ctx) => parseTime(v) ?? (ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 time or epoch seconds' }), z.NEVER)));
const text = optional(z.string().trim().min(1).max(500));
const seq = optional(z.string().regex(/^\d{1,15}$/, 'expected a record number (seq)').transform(Number));

/** The time range of a listing or an export. */
export const TimeRangeSchema = z.strictObject({ since: time, until: time });

export const AuditQuerySchema = z.strictObject({
  since: time,
  until: time,
  /** The user the record is about: an id, or an e-mail. */
  user: text,
  client: text,
  application: text,
  tool: text,
  decision: optional(z.enum(['allow', 'deny'])),
  /** The denial or failure code (the record's `reason`). */
  code: text,
  /** A kind (`gateway.call`), or a prefix ending in `*` (`admin.*`). */
  kind: text,
  /** Records older than this one (the previous page's `next`). */
  before: seq,
  limit: optional(z.string().regex(/^\d{1,4}$/, 'expected a number').transform(Number).pipe(z.number().int().min(1).max(MAX_PAGE))),
});

export type AuditQuery = z.output<typeof AuditQuerySchema>;

/** The fields of the query that narrow the listing (what a `next` link must carry on). */
export const FILTER_FIELDS = ['since', 'until', 'user', 'client', 'application', 'tool', 'decision', 'code', 'kind'] as const;

export interface ResolvedQuery {
  page: AuditPage & { limit: number };
  /** The user filter named nobody we know: the listing is empty. */
  matchesNothing: boolean;
}

export function parseAuditQuery(input: Record<string, string | undefined>): AuditQuery {
  return parseInput(AuditQuerySchema, input);
}

/** A user given by e-mail becomes their id (an unknown e-mail matches no record). */
async function userId(store: Store, ref: string): Promise<string | undefined> {
  if (!ref.includes('@')) return ref;
  return (await store.users.findByEmail(ref))?.id;
}

/** The store query of an organization's listing: newest first, one more than the page to know whether there is a next. */
export async function resolveAuditQuery(store: Store, orgId: string, query: AuditQuery): Promise<ResolvedQuery> {
  const subject = query.user === undefined ? undefined : await userId(store, query.user);
  const kind = query.kind?.endsWith('*') ? { kindPrefix: query.kind.slice(0, -1) } : { kind: query.kind };
  const filter: AuditFilter = {
    orgId,
    since: query.since,
    until: query.until,
    subject,
    clientId: query.client,
    app: query.application,
    tool: query.tool,
    decision: query.decision,
    reason: query.code,
    ...kind,
  };
  return {
    page: { ...filter, beforeSeq: query.before, order: 'desc', limit: query.limit ?? DEFAULT_PAGE },
    matchesNothing: query.user !== undefined && subject === undefined,
  };
}
