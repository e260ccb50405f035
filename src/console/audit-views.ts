/**
 * How the console draws audit records — one table for an organization's trail and for a person's
 * own activity: newest first, names resolved when read (audit/views.ts; a deleted account reads
 * "erased"), an "Older" link carrying the filters on, and the filter form (a GET form: filtering
 * changes nothing, so it needs no CSRF token). Rows carry `data-seq`, `data-decision` and
 * `data-code` for tests and scripts.
 */
import type { AuditListing } from '../audit/listing.ts';
import type { AuditView } from '../audit/views.ts';
import { FILTER_FIELDS, type AuditQuery } from '../audit/query.ts';
import { html, type Html } from '../web/html.ts';
import { when } from './account/layout.ts';

const detail = (view: AuditView, key: string): string | number | undefined => {
  const value = view.details?.[key];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
};

/** Who the record is about, and who acted when that was someone else. */
function person(view: AuditView): Html {
  const user = view.subject === null ? '' : html`<span data-testid="audit-user">${view.userEmail ?? view.subject}</span>`;
  const actorIsUser = view.actor === view.subject || (view.actor?.startsWith('key:') ?? false);
  const actor = view.actor === null || actorIsUser ? '' : html`<span class="muted">by ${view.actorName ?? view.actor}</span>`;
  return html`${user}${user && actor ? html`<br>` : ''}${actor}`;
}

function via(view: AuditView): Html {
  const client = view.clientId === null ? '' : html`<span title="${view.clientId}">${view.clientName ?? view.clientId}</span>`;
  const keyId = detail(view, 'keyId');
  const key = view.keyName !== null || keyId !== undefined ? html`<span class="muted">key ${view.keyName ?? keyId}</span>` : '';
  return html`${client}${client && key ? html`<br>` : ''}${key}`;
}

function outcome(view: AuditView): Html {
  const status = detail(view, 'upstreamStatus');
  const duration = detail(view, 'durationMs');
  const parts = [
    detail(view, 'rule') === undefined ? undefined : `rule ${detail(view, 'rule')}`,
    status === undefined ? undefined : `upstream ${status}`,
    duration === undefined ? undefined : `${duration} ms`,
    detail(view, 'clientIp'),
  ].filter((p) => p !== undefined);
  return html`<span class="muted">${parts.join(' · ')}</span>`;
}

/** A refused record links to its explanation (audit-explanation.ts) where the page offers one. */
function code(view: AuditView, explain?: (seq: number) => string): Html | '' {
  if (!view.reason) return '';
  const link = explain && view.decision === 'deny' ? html`<br><a href="${explain(view.seq)}" data-testid="explain-record" aria-label="Why? Record ${String(view.seq)}">Why?</a>` : '';
  return html`<code>${view.reason}</code>${link}`;
}

function row(view: AuditView, explain?: (seq: number) => string): Html {
  return html`<tr data-testid="audit-record" data-seq="${view.seq}" data-decision="${view.decision ?? ''}" data-code="${view.reason ?? ''}">
<td>${when(view.at)}</td><td><code>${view.kind}</code></td><td>${person(view)}</td><td>${via(view)}</td>
<td>${view.app ?? ''}${view.tool ? html`<br><code>${view.tool}</code>` : ''}</td>
<td>${view.decision ?? ''}</td><td>${code(view, explain)}</td><td>${outcome(view)}</td>
</tr>`;
}

/** The records, and the link to the next (older) page: `path` with the filters of `query` and `before`; `explain` links refused records to their explanation. */
export function auditTable(listing: AuditListing, path: string, query: Record<string, string | undefined>, explain?: (seq: number) => string): Html {
  if (!listing.records.length) return html`<p data-testid="no-records">No records${query.before ? ' older than these' : ''}.</p>`;
  const carried = new URLSearchParams();
  for (const field of FILTER_FIELDS) if (query[field]) carried.set(field, query[field]);
  const older = listing.next === null ? '' : html`<a href="${path}?${String(new URLSearchParams([...carried, ['before', String(listing.next)]]))}" data-testid="older">Older records</a>`;
  const newest = query.before ? html`<a href="${path}${carried.size ? `?${carried}` : ''}" data-testid="newest">Newest</a>` : '';
  return html`<div class="table-scroll" tabindex="0"><table data-testid="audit-records">
<thead><tr><th>Time</th><th>What</th><th>User</th><th>Client / key</th><th>Application · tool</th><th>Decision</th><th>Code</th><th>Details</th></tr></thead>
<tbody>${listing.records.map((view) => row(view, explain))}</tbody>
</table></div>
<nav class="nav" data-testid="audit-pages">${newest}${older}</nav>`;
}

const input = (name: string, label: string, value: string | undefined, placeholder = '') =>
  html`<label for="f-${name}">${label}</label><input type="text" id="f-${name}" name="${name}" value="${value ?? ''}" placeholder="${placeholder}">`;

/** The filter form of an organization's trail (GET, back to `path`), and the export links for its time range. */
export function auditFilters(path: string, query: Record<string, string | undefined>, exportPath: string): Html {
  const range = new URLSearchParams();
  for (const field of ['since', 'until'] as const) if (query[field]) range.set(field, query[field]);
  const exportLink = (format: string, label: string) => html`<a href="${exportPath}?${String(new URLSearchParams([['format', format], ...range]))}" data-testid="export-${format}" download>${label}</a>`;
  const decision = query.decision ?? '';
  return html`<form method="get" action="${path}" data-testid="audit-filters">
<fieldset><legend>Filter</legend>
${input('since', 'From (UTC, ISO 8601)', query.since, '2026-12-01T00:00')}${input('until', 'Until (UTC, ISO 8601)', query.until, '2026-12-08')}
${input('user', 'User (e-mail or id)', query.user)}${input('client', 'Client id', query.client)}
${input('application', 'Application', query.application)}${input('tool', 'Tool', query.tool)}
<label for="f-decision">Decision</label><select id="f-decision" name="decision">
${[['', 'Any'], ['allow', 'Allowed'], ['deny', 'Denied']].map(([value, label]) => html`<option value="${value}"${value === decision ? html` selected` : ''}>${label}</option>`)}
</select>
${input('code', 'Code', query.code, 'policy_denied')}
<div class="actions"><button type="submit" class="primary" data-testid="apply-filters">Filter</button><a href="${path}">Clear</a></div>
</fieldset>
</form>
<p data-testid="export">Export ${range.size ? 'this time range' : 'everything'}: ${exportLink('jsonl', 'JSON lines')} · ${exportLink('csv', 'CSV')} <span class="muted">(JSON lines verify offline: <code>portcullis audit verify --file</code>)</span></p>`;
}

/** The query fields a page reads (anything else in the URL is ignored, not refused). */
export function pageQuery(all: Record<string, string>, fields: readonly string[] = [...FILTER_FIELDS, 'before']): Partial<Record<keyof AuditQuery, string>> {
  return Object.fromEntries(fields.filter((f) => all[f] !== undefined).map((f) => [f, all[f]]));
}
