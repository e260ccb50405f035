/**
 * Audit records as CSV (RFC 4180): a header row, CRLF line ends, a field quoted when it holds a
 * comma, a quote or a line break (quotes doubled, §2.6–2.7). A text cell that a spreadsheet would
 * run as a formula — starting with `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP "CSV
 * Injection") — gets a leading `'`; numbers we write ourselves are left alone.
 */
import type { AuditView } from './views.ts';

type Cell = string | number | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(cells: Cell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

const detail = (view: AuditView, key: string): Cell => {
  const value = view.details?.[key];
  return typeof value === 'string' || typeof value === 'number' ? value : null;
};

/** The columns: the record's fields, the names resolved when exported, and the gateway call's main details. */
const COLUMNS: [header: string, cell: (view: AuditView) => Cell][] = [
  ['seq', (v) => v.seq],
  ['time', (v) => new Date(v.at * 1000).toISOString()],
  ['org_id', (v) => v.orgId],
  ['kind', (v) => v.kind],
  ['actor', (v) => v.actor],
  ['actor_name', (v) => v.actorName],
  ['user_id', (v) => v.subject],
  ['user_email', (v) => v.userEmail],
  ['client_id', (v) => v.clientId],
  ['client_name', (v) => v.clientName],
  ['api_key_id', (v) => detail(v, 'keyId')],
  ['api_key_name', (v) => v.keyName],
  ['application', (v) => v.app],
  ['tool', (v) => v.tool],
  ['decision', (v) => v.decision],
  ['code', (v) => v.reason],
  ['rule', (v) => detail(v, 'rule')],
  ['upstream_status', (v) => detail(v, 'upstreamStatus')],
  ['upstream_error', (v) => detail(v, 'upstreamError')],
  ['duration_ms', (v) => detail(v, 'durationMs')],
  ['request_id', (v) => detail(v, 'requestId')],
  ['session_id', (v) => detail(v, 'sessionId')],
  ['client_ip', (v) => detail(v, 'clientIp')],
  ['user_agent', (v) => detail(v, 'userAgent')],
  ['details', (v) => (v.details === null ? null : JSON.stringify(v.details))],
  ['chain', (v) => v.chain],
  ['prev_hash', (v) => v.prevHash],
  ['hash', (v) => v.hash],
];

export const CSV_HEADER = csvRow(COLUMNS.map(([header]) => header));

export function csvLine(view: AuditView): string {
  return csvRow(COLUMNS.map(([, cell]) => cell(view)));
}
