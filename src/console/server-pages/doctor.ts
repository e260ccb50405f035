/**
 * `/server/doctor`: the connection doctor. What MCP clients did while connecting — recorded by the
 * protocol and the gateway (audit/doctor/) — with each failed or missing step diagnosed in plain
 * words and its fix (audit/doctor/diagnoses.ts, the only implementation). Clients with problems
 * first; one client's timeline; one person's attempts; a watch that shows events as they arrive
 * (a served script polls a JSON route: the CSP allows no inline script).
 */
import type { Hono } from 'hono';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnose, type Diagnosis } from '../../audit/doctor/diagnoses.ts';
import { DOCTOR_RETENTION_SECONDS } from '../../audit/doctor/retention.ts';
import type { ConnectionEvent } from '../../store/connection-events.ts';
import { html } from '../../web/html.ts';
import type { WebContext, WebEnv } from '../../web/pages.ts';
import { serverAccess, serverPage, serverPath, type ServerPagesDeps } from './access.ts';
import { clientTable, detailText, diagnosisList, stepLabel, timeline, type ClientRow } from './doctor-views.ts';

/** Events read for the overview at most (the newest; the per-client cap keeps the week small). */
const OVERVIEW_EVENTS = 5000;
const WATCH_BACKLOG = 20;
const ANONYMOUS_SHOWN = 20;
const JS_HEADERS = { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' };

let watchScript: string | undefined;

function clientRows(events: ConnectionEvent[], diagnoses: Diagnosis[]): ClientRow[] {
  const rows = new Map<string, ClientRow>();
  for (const e of events) {
    if (!e.clientId) continue;
    const row = rows.get(e.clientId) ?? { clientId: e.clientId, name: null, events: 0, lastAt: 0, problems: 0 };
    row.events += 1;
    row.lastAt = Math.max(row.lastAt, e.at);
    if (e.kind === 'registered' && typeof e.detail?.clientName === 'string') row.name = e.detail.clientName;
    rows.set(e.clientId, row);
  }
  for (const d of diagnoses) {
    const row = rows.get(d.clientId);
    if (row) row.problems += 1;
  }
  return [...rows.values()].sort((a, b) => Number(b.problems > 0) - Number(a.problems > 0) || b.lastAt - a.lastAt);
}

export function doctorRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  const clientLink = (clientId: string) => serverPath(deps, 'doctor', `/clients/${encodeURIComponent(clientId)}`);
  const windowStart = () => deps.now() - DOCTOR_RETENTION_SECONDS;

  app.get('/server/doctor', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const events = await deps.store.connectionEvents.since(windowStart(), OVERVIEW_EVENTS);
    const rows = clientRows(events, diagnose(events, deps.now()));
    const body = html`<p>What MCP clients did while connecting in the last seven days, from the server's own record: each failed or missing step with what to do about it. <a href="${serverPath(deps, 'doctor', '/watch')}" data-testid="watch-link">Watch events arrive live</a>.</p>
<form method="get" action="${serverPath(deps, 'doctor', '/people')}" data-testid="person-form"><label for="doctor-email">A person's attempts (e-mail address)</label> <input id="doctor-email" name="email" type="email" required autocomplete="off"> <button type="submit">Show</button></form>
${clientTable(rows, clientLink)}
<h2>Before a client id</h2>
<p>Metadata fetches, refused registrations and calls without a token name no client yet: the newest ${ANONYMOUS_SHOWN}.</p>
${timeline(events.filter((e) => e.clientId === null).slice(-ANONYMOUS_SHOWN), 'Steps that named no client, oldest first')}`;
    return c.html(await serverPage(deps, c, me, 'doctor', body));
  });

  app.get('/server/doctor/clients/:client', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const clientId = c.req.param('client');
    const events = await deps.store.connectionEvents.forClient(clientId, windowStart());
    // Registration loops span several client ids: diagnose the whole window, keep this client's.
    const all = await deps.store.connectionEvents.since(windowStart(), OVERVIEW_EVENTS);
    const diagnoses = diagnose(all, deps.now()).filter((d) => d.clientId === clientId);
    const body = html`<h2>Client <code>${clientId}</code></h2>
<h3>Diagnoses</h3>${diagnosisList(diagnoses)}
<h3>Timeline</h3>${timeline(events, 'What this client did, oldest first')}
<p><a href="${serverPath(deps, 'doctor')}">All clients</a></p>`;
    return c.html(await serverPage(deps, c, me, 'doctor', body, 'Connection doctor · client'));
  });

  app.get('/server/doctor/people', (c) => personPage(deps, c, clientLink, windowStart()));
  watchRoutes(app, deps, windowStart);
}

async function personPage(deps: ServerPagesDeps, c: WebContext, clientLink: (clientId: string) => string, since: number): Promise<Response> {
  const me = await serverAccess(deps, c);
  if (me instanceof Response) return me;
  const email = (c.req.query('email') ?? '').trim();
  const person = email ? await deps.store.users.findByEmail(email) : undefined;
  const events = person ? await deps.store.connectionEvents.forUser(person.id, since) : [];
  const clients = new Set(events.map((e) => e.clientId).filter((id): id is string => id !== null));
  const all = clients.size ? await deps.store.connectionEvents.since(since, OVERVIEW_EVENTS) : [];
  const diagnoses = diagnose(all, deps.now()).filter((d) => clients.has(d.clientId));
  const body = person
    ? html`<h2>Attempts by ${person.email}</h2><h3>Diagnoses of the clients they used</h3>${diagnosisList(diagnoses)}<h3>Timeline</h3>${timeline(events, `What ${person.email} did, oldest first`, clientLink)}`
    : html`<p role="status" data-testid="no-person">No account has the address ${email || '(none given)'}.</p>`;
  return c.html(await serverPage(deps, c, me, 'doctor', html`${body}<p><a href="${serverPath(deps, 'doctor')}">All clients</a></p>`, 'Connection doctor · person'));
}

const watchRow = (e: ConnectionEvent) => ({ id: e.id, when: new Date(e.at * 1000).toISOString().slice(11, 19), step: stepLabel(e.kind), ok: e.ok, clientId: e.clientId, kind: e.kind, details: detailText(e) });

function watchRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps, windowStart: () => number): void {
  app.get('/server/doctor/watch', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const backlog = (await deps.store.connectionEvents.since(windowStart(), WATCH_BACKLOG)).map(watchRow);
    const after = backlog.at(-1)?.id ?? 0;
    const body = html`<p>Ask the person to try connecting again: each step appears below as it happens. <a href="${serverPath(deps, 'doctor', '/watch')}">Refresh</a> · <a href="${serverPath(deps, 'doctor')}">All clients</a></p>
<p role="status" aria-live="polite" data-testid="watch-status">Watching.</p>
<div class="table-scroll" tabindex="0"><table data-testid="watch-events" data-watch-url="${serverPath(deps, 'doctor', '/watch/events')}" data-after="${after}"><caption>Events, oldest first</caption>
<thead><tr><th scope="col">When (UTC)</th><th scope="col">Step</th><th scope="col">Result</th><th scope="col">Client</th><th scope="col">Details</th></tr></thead>
<tbody>${backlog.map((e) => html`<tr data-testid="event" data-kind="${e.kind}" data-ok="${e.ok ? 'yes' : 'no'}"><td>${e.when}</td><td>${e.step}</td><td>${e.ok ? 'ok' : 'failed'}</td><td>${e.clientId ?? '—'}</td><td>${e.details}</td></tr>`)}</tbody></table></div>
<script src="${serverPath(deps, 'doctor', '/watch.js')}"></script>`;
    return c.html(await serverPage(deps, c, me, 'doctor', body, 'Connection doctor · watch'));
  });

  app.get('/server/doctor/watch/events', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const after = Number(c.req.query('after') ?? '0');
    const events = await deps.store.connectionEvents.newerThan(Number.isSafeInteger(after) ? after : 0, 200);
    return c.json({ events: events.map(watchRow) }, 200, { 'cache-control': 'no-store' });
  });

  app.get('/server/doctor/watch.js', (c) => c.body((watchScript ??= readFileSync(join(import.meta.dirname, '..', 'assets', 'doctor-watch.js'), 'utf8')), 200, JS_HEADERS));
}
