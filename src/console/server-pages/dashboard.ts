/**
 * `/server`: the dashboard — what the gateway did over the last 14 days, from the audit log
 * (store `audit.count`, both dialects): calls per UTC day by outcome (allowed; denied by the
 * gateway; failed — allowed, but the upstream failed), denials by code, the busiest tools and
 * people, and the active connections (a person through a client, with a call in the last 24
 * hours). Each chart is SVG drawn here (charts.ts), its numbers in a table beside it.
 */
import type { Hono } from 'hono';
import type { AuditCount } from '../../store/audit.ts';
import { GATEWAY_CALL } from '../../audit/gateway-decisions.ts';
import { html, type Html } from '../../web/html.ts';
import type { WebEnv } from '../../web/pages.ts';
import { horizontalBars, stackedBars } from './charts.ts';
import { serverAccess, serverPage, type ServerPagesDeps } from './access.ts';

const DAY = 86_400;
const DAYS = 14;
const TOP = 8;
const OUTCOMES = [
  { id: 'allowed', name: 'Allowed', colour: '#2e7d32' },
  { id: 'denied', name: 'Denied', colour: '#c62828' },
  { id: 'failed', name: 'Failed', colour: '#ef6c00' },
];

interface Numbers {
  days: { label: string; values: number[] }[];
  denials: { label: string; value: number }[];
  tools: { label: string; value: number }[];
  people: { label: string; value: number }[];
  active: number;
}

const isoDay = (day: number) => new Date(day * DAY * 1000).toISOString().slice(0, 10);

function perDay(rows: AuditCount[], today: number): Numbers['days'] {
  return Array.from({ length: DAYS }, (_, i) => {
    const day = today - DAYS + 1 + i;
    const values = OUTCOMES.map((o) => rows.find((r) => r.values[0] === day && r.values[1] === o.id)?.count ?? 0);
    return { label: isoDay(day).slice(5), values };
  });
}

async function numbers(deps: ServerPagesDeps): Promise<Numbers> {
  const now = deps.now();
  const today = Math.floor(now / DAY);
  const calls = { kind: GATEWAY_CALL, since: (today - DAYS + 1) * DAY };
  const [days, denials, tools, people, active] = await Promise.all([
    deps.store.audit.count(calls, ['day', 'outcome'], DAYS * OUTCOMES.length),
    deps.store.audit.count({ ...calls, decision: 'deny' }, ['reason'], TOP),
    deps.store.audit.count(calls, ['tool'], TOP + 1),
    deps.store.audit.count(calls, ['subject'], TOP + 1),
    deps.store.audit.count({ kind: GATEWAY_CALL, since: now - DAY, decision: 'allow' }, ['subject', 'client'], 1000),
  ]);
  const emails = new Map((await Promise.all(people.map((p) => deps.store.users.findById(String(p.values[0]))))).filter((u) => u !== undefined).map((u) => [u.id, u.email]));
  const named = (rows: AuditCount[], name: (v: string) => string) => rows.filter((r) => r.values[0] !== null).slice(0, TOP).map((r) => ({ label: name(String(r.values[0])), value: r.count }));
  return {
    days: perDay(days, today),
    denials: named(denials, (code) => code),
    tools: named(tools, (tool) => tool),
    people: named(people, (id) => emails.get(id) ?? id),
    active: active.filter((r) => r.values[0] !== null).length,
  };
}

function countTable(id: string, caption: string, head: string, rows: { label: string; value: number }[]): Html {
  if (!rows.length) return html`<p data-testid="${id}-empty">${caption}: none in this period.</p>`;
  return html`<div class="table-scroll" tabindex="0"><table data-testid="${id}"><caption>${caption}</caption><thead><tr><th scope="col">${head}</th><th scope="col">Calls</th></tr></thead>
<tbody>${rows.map((r) => html`<tr data-label="${r.label}" data-count="${r.value}"><th scope="row">${r.label}</th><td>${r.value}</td></tr>`)}</tbody></table></div>`;
}

function daysSection(n: Numbers): Html {
  return html`<h2>Calls per day</h2>
${stackedBars('chart-days', `Gateway calls per day, last ${DAYS} days`, 'Stacked bars per UTC day: allowed, denied by the gateway, and failed at the upstream. The same numbers are in the table below.', OUTCOMES, n.days)}
<div class="table-scroll" tabindex="0"><table data-testid="calls-per-day"><caption>Gateway calls per UTC day</caption><thead><tr><th scope="col">Day</th>${OUTCOMES.map((o) => html`<th scope="col">${o.name}</th>`)}</tr></thead>
<tbody>${n.days.map((d) => html`<tr data-day="${d.label}" ${OUTCOMES.map((o, i) => html` data-${o.id}="${d.values[i]}"`)}><th scope="row">${d.label}</th>${d.values.map((v) => html`<td>${v}</td>`)}</tr>`)}</tbody></table></div>`;
}

function rankedSection(id: string, heading: string, head: string, colour: string, rows: { label: string; value: number }[]): Html {
  const short = rows.map((r) => ({ ...r, label: r.label.length > 28 ? `${r.label.slice(0, 27)}…` : r.label }));
  return html`<h2>${heading}</h2>${rows.length ? horizontalBars(`chart-${id}`, heading, `${heading}, one bar each, largest first; the numbers are in the table below.`, colour, short) : ''}${countTable(id, heading, head, rows)}`;
}

export function dashboardRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  app.get('/server', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const n = await numbers(deps);
    const body = html`<p>What the gateway did in the last ${DAYS} days (UTC), from the audit log.</p>
<p data-testid="active-connections" data-count="${n.active}"><strong>${n.active}</strong> active connection${n.active === 1 ? '' : 's'}: a person through a client, with an allowed call in the last 24 hours.</p>
${daysSection(n)}
${rankedSection('denials', 'Denials by code', 'Code', '#c62828', n.denials)}
${rankedSection('tools', 'Top tools', 'Tool', '#1565c0', n.tools)}
${rankedSection('people', 'Top people', 'Person', '#6a1b9a', n.people)}`;
    return c.html(await serverPage(deps, c, me, 'dashboard', body));
  });
}
