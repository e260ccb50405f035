/**
 * `/orgs/:org/audit`: the organization's audit trail for its owners and admins — filtered, newest
 * first, a page at a time with a `next` cursor; the streamed export (JSON lines or CSV) of one
 * unbroken stretch of its chain; and the chain's verification. Never another organization's
 * records: every store query carries this org's id.
 */
import type { Hono } from 'hono';
import { parseInput } from '../../core/input.ts';
import { streamedBody } from '../../http/streamed-body.ts';
import { listAudit } from '../../audit/listing.ts';
import { EXPORT_FORMATS, openExport } from '../../audit/export.ts';
import { FILTER_FIELDS, parseAuditQuery, resolveAuditQuery, TimeRangeSchema } from '../../audit/query.ts';
import { verifyStore } from '../../audit/verify.ts';
import { AuditNames, type AuditView } from '../../audit/views.ts';
import * as z from 'zod';
import type { OrgEnv } from '../deps.ts';
import { iso, type OrgContext, type OrgRouteKit } from './kit.ts';

const ExportQuerySchema = TimeRangeSchema.extend({ format: z.enum(EXPORT_FORMATS).default('jsonl') });

/** A record as the API shows it: the stored record with its time in ISO 8601 beside epoch seconds, and the names. */
function recordView(view: AuditView) {
  return { ...view, time: iso(view.at) };
}

/** The URL of the next page: the same filters, `before` the last record shown. */
function nextLink(c: OrgContext, before: number): string {
  const url = new URL(c.req.url);
  const query = new URLSearchParams();
  for (const field of [...FILTER_FIELDS, 'limit'] as const) {
    const value = url.searchParams.get(field);
    if (value) query.set(field, value);
  }
  query.set('before', String(before));
  return `${url.pathname}?${query}`;
}

export function auditRoutes(api: Hono<OrgEnv>, { deps, audit }: OrgRouteKit): void {
  api.get('/orgs/:org/audit', async (c) => {
    const query = parseAuditQuery(c.req.query());
    const listing = await listAudit(deps.store, new AuditNames(deps.store), await resolveAuditQuery(deps.store, c.get('org').id, query));
    return c.json({
      records: listing.records.map(recordView),
      next: listing.next === null ? null : { before: listing.next, href: nextLink(c, listing.next) },
    });
  });

  api.get('/orgs/:org/audit/export', async (c) => {
    const { format, since, until } = parseInput(ExportQuerySchema, c.req.query());
    const org = c.get('org');
    const started = await openExport(deps.store, { orgId: org.id, format, since, until });
    // Exporting the trail is itself on the record (before the first byte is sent).
    await audit(c, 'audit.exported', { details: { format, since: since ?? null, until: until ?? null, via: 'admin-api' } });
    return new Response(streamedBody(started.chunks, deps.log, 'audit export'), {
      headers: {
        'content-type': started.contentType,
        'content-disposition': `attachment; filename="${started.fileName(org.slug, deps.now())}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
    });
  });

  api.get('/orgs/:org/audit/verify', async (c) => {
    return c.json(await verifyStore(deps.store, { orgId: c.get('org').id }));
  });
}
