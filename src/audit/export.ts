/**
 * An organization's records as a stream of text — JSON lines or CSV — read from the store a page
 * at a time, oldest first, so a million records export in flat memory: the consumer pulls the
 * next page only when it has written the last (HTTP backpressure, a file's drain).
 *
 * An export is one unbroken stretch of the organization's chain: from its first record at or after
 * `since` to its last before `until`, both found before the first byte is sent (records written
 * meanwhile are left for the next export). Record times are not strictly in chain order (a batch
 * carries the arrival time of each call), so cutting by time alone could leave a hole at the edges;
 * cutting by seq never does, and the file verifies on its own (`portcullis audit verify --file`).
 * Each JSON line is the full record as stored (seq, chain, prevHash, hash) plus the display fields
 * of views.ts, which the hash does not cover.
 */
import type { Store } from '../store/store.ts';
import type { AuditEvent } from '../store/audit.ts';
import { PortcullisError } from '../core/errors.ts';
import { CSV_HEADER, csvLine } from './csv.ts';
import { AuditNames, type AuditView } from './views.ts';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportRequest {
  orgId: string;
  format: ExportFormat;
  /** Epoch seconds; `until` exclusive. */
  since?: number;
  until?: number;
  /** Records read per store query. */
  pageSize?: number;
}

export interface AuditExport {
  format: ExportFormat;
  contentType: string;
  /** A file name for the download, e.g. `audit-acme-20261207T101500Z.jsonl`. */
  fileName(orgSlug: string, at: number): string;
  /** The text, a page of records per chunk (the CSV header first). */
  chunks: AsyncGenerator<string, void, undefined>;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/jsonl; charset=utf-8',
  // RFC 4180 §3: the optional `header` parameter says the first line names the columns.
  csv: 'text/csv; charset=utf-8; header=present',
};

export function jsonLine(view: AuditView): string {
  return `${JSON.stringify(view)}\n`;
}

/** The first and last seq of the organization's records in the time range, or undefined when there are none. */
async function range(store: Store, request: ExportRequest): Promise<{ first: number; last: number } | undefined> {
  const filter = { orgId: request.orgId, since: request.since, until: request.until, limit: 1 };
  const [first] = await store.audit.list({ ...filter, order: 'asc' });
  const [last] = await store.audit.list({ ...filter, order: 'desc' });
  return first && last ? { first: first.seq, last: last.seq } : undefined;
}

async function* pages(store: Store, orgId: string, bounds: { first: number; last: number }, pageSize: number): AsyncGenerator<AuditEvent[]> {
  let after = bounds.first - 1;
  while (after < bounds.last) {
    const page = await store.audit.list({ orgId, afterSeq: after, beforeSeq: bounds.last + 1, order: 'asc', limit: pageSize });
    if (page.length === 0) return;
    yield page;
    after = page.at(-1)!.seq;
  }
}

async function* render(store: Store, request: ExportRequest, bounds: { first: number; last: number } | undefined): AsyncGenerator<string, void, undefined> {
  if (request.format === 'csv') yield CSV_HEADER;
  if (!bounds) return;
  const names = new AuditNames(store);
  const line = request.format === 'csv' ? csvLine : jsonLine;
  for await (const page of pages(store, request.orgId, bounds, request.pageSize ?? 1000)) {
    yield (await names.describe(page)).map(line).join('');
  }
}

/**
 * Start an export: the range is settled now (a store outage fails here, before any answer is
 * sent); the text is produced as `chunks` is read.
 */
export async function openExport(store: Store, request: ExportRequest): Promise<AuditExport> {
  // The store reads an empty orgId as "every organization": an export is always of exactly one.
  if (!request.orgId) throw new PortcullisError('invalid_request', 'an export is of one organization');
  if (request.since !== undefined && request.until !== undefined && request.until <= request.since) {
    throw new PortcullisError('invalid_request', '`until` must be after `since`', { detail: { errors: [{ path: 'until', message: 'must be after since' }] } });
  }
  const bounds = await range(store, request);
  const stamp = (at: number) => new Date(at * 1000).toISOString().replace(/[-:]|\.\d+/g, '');
  return {
    format: request.format,
    contentType: CONTENT_TYPES[request.format],
    fileName: (slug, at) => `audit-${slug.replace(/[^\w-]/g, '_')}-${stamp(at)}.${request.format}`,
    chunks: render(store, request, bounds),
  };
}
