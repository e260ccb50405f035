/**
 * `/orgs/<slug>/audit`: the organization's audit trail for its owners and admins — filters (time
 * range, user, client, application, tool, decision, code), newest first, a page at a time — and
 * `/orgs/<slug>/audit/export?format=jsonl|csv`, the same streamed export as the admin API's, with
 * the browser session. A filter the page cannot read is shown as a problem above an empty table.
 * A refused record links to `/orgs/<slug>/audit/<seq>`, its explanation (console/audit-explanation.ts).
 */
import type { Hono } from 'hono';
import { listAudit, type AuditListing } from '../../audit/listing.ts';
import { EXPORT_FORMATS, openExport, type ExportFormat } from '../../audit/export.ts';
import { parseAuditQuery, parseTime, resolveAuditQuery } from '../../audit/query.ts';
import { AuditNames } from '../../audit/views.ts';
import { isPortcullisError } from '../../core/errors.ts';
import { streamedBody } from '../../http/streamed-body.ts';
import { html } from '../../web/html.ts';
import type { WebDeps, WebEnv } from '../../web/pages.ts';
import { errorPage, notFound, problem } from '../account/layout.ts';
import { auditFilters, auditTable, pageQuery } from '../audit-views.ts';
import { orgAccess, orgPage, orgPath } from './access.ts';
import { auditExplanation, auditRecordAt } from '../audit-explanation.ts';

/** A filter that does not parse: the page says which, and lists nothing. */
async function listing(deps: WebDeps, orgId: string, query: Record<string, string | undefined>): Promise<{ listing: AuditListing; problem?: string }> {
  try {
    const parsed = parseAuditQuery(query);
    return { listing: await listAudit(deps.store, new AuditNames(deps.store), await resolveAuditQuery(deps.store, orgId, parsed)) };
  } catch (err) {
    if (!isPortcullisError(err) || err.code !== 'invalid_request') throw err;
    const fields = ((err.detail.errors as { path: string }[] | undefined) ?? []).map((e) => e.path).join(', ');
    return { listing: { records: [], next: null }, problem: `Check the filter${fields.includes(',') ? 's' : ''}: ${fields || 'the query'}.` };
  }
}

export function auditRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  app.get('/orgs/:org/audit', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    const query = pageQuery(c.req.query());
    const path = orgPath(deps, access.org, 'audit');
    const shown = await listing(deps, access.org.id, query);
    return c.html(
      await orgPage(
        deps,
        c,
        access,
        'audit',
        html`${auditFilters(path, query, `${path}/export`)}
${problem(shown.problem && 'invalid_request', shown.problem)}
${auditTable(shown.listing, path, query, (seq) => `${path}/${seq}`)}`,
      ),
    );
  });

  // One record explained (audit-explanation.ts): only the organization's own — another's seq is not found.
  app.get('/orgs/:org/audit/:seq{[0-9]+}', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    const view = await auditRecordAt(deps.store, Number(c.req.param('seq')), access.org.id);
    if (!view) return notFound(deps, c);
    const path = orgPath(deps, access.org, 'audit');
    const simulator = access.me.user.isAdmin ? `${deps.base}/server/simulator` : undefined;
    return c.html(await orgPage(deps, c, access, 'audit', auditExplanation(deps.base, view, path, simulator)));
  });

  app.get('/orgs/:org/audit/export', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    const { format = 'jsonl', since, until } = c.req.query();
    const times = { since: since ? parseTime(since) : undefined, until: until ? parseTime(until) : undefined };
    const unreadable = (since && times.since === undefined) || (until && times.until === undefined);
    const backwards = times.since !== undefined && times.until !== undefined && times.until <= times.since;
    if (!(EXPORT_FORMATS as readonly string[]).includes(format) || unreadable || backwards) {
      return errorPage(deps, c, 400, 'invalid_request', 'Cannot export that', 'The format is jsonl or csv; times are ISO 8601 or epoch seconds, and the end comes after the start.');
    }
    const started = await openExport(deps.store, { orgId: access.org.id, format: format as ExportFormat, ...times });
    await deps.audit.write({ kind: 'audit.exported', orgId: access.org.id, actor: access.me.user.id, details: { format, since: times.since ?? null, until: times.until ?? null, via: 'console' } });
    return new Response(streamedBody(started.chunks, deps.log, 'audit export'), {
      headers: {
        'content-type': started.contentType,
        'content-disposition': `attachment; filename="${started.fileName(access.org.slug, deps.now())}"`,
        'cache-control': 'no-store',
      },
    });
  });
}
