/** The connection doctor's parts (doctor.ts): diagnoses with their fixes, a timeline, the clients list. */
import { when } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import type { Diagnosis } from '../../audit/doctor/diagnoses.ts';
import type { ConnectionEvent } from '../../store/connection-events.ts';

/** Each step, in the words of the person who runs the server. */
const STEPS: Record<string, string> = {
  'resource-metadata': 'Fetched the protected-resource metadata',
  'server-metadata': 'Fetched the authorization server metadata',
  registered: 'Registered (dynamic client registration)',
  'metadata-document': 'Client metadata document fetched',
  authorize: 'Opened /authorize',
  'signed-in': 'Signed in',
  consented: 'Consent decision',
  authorized: 'Code issued',
  token: 'Token request',
  gateway: 'Called the MCP server',
};

export const stepLabel = (kind: string): string => STEPS[kind] ?? kind;

const shown = (value: unknown): string => (Array.isArray(value) ? value.join(', ') : value === null || value === undefined ? '—' : String(value));

/** The details a person needs to see, in a short line (never a token: none is recorded). */
export function detailText(e: ConnectionEvent): string {
  const d = e.detail ?? {};
  switch (e.kind) {
    case 'registered':
      return e.ok ? `name ${shown(d.clientName)}; redirect URIs ${shown(d.redirectUris)}; auth method ${shown(d.authMethod)}` : `refused: ${shown(d.error)} ${d.description ? `(${shown(d.description)})` : ''}`;
    case 'authorize':
      return `resource ${shown(d.resource)}; PKCE ${d.pkce ? 'yes' : 'no'}; scopes ${shown(d.scope)}; redirect URI ${shown(d.redirectUri)} (${d.redirectMatched === false ? 'not registered' : d.redirectMatched ? 'registered' : 'unknown client'})${d.error ? `; error ${shown(d.error)}${d.description ? ` (${shown(d.description)})` : ''}` : ''}`;
    case 'metadata-document':
      return e.ok ? `${shown(d.url)}: used` : `${shown(d.url)}: ${shown(d.description ?? d.error)}`;
    case 'token':
      return `${shown(d.grantType)}${d.resource ? `; resource ${shown(d.resource)}` : ''}; HTTP ${shown(d.status)}${d.error ? `; error ${shown(d.error)}` : ''}`;
    case 'gateway':
      return `${shown(d.app)}: HTTP ${shown(d.status)}${d.code ? ` ${shown(d.code)}` : ''}${d.rule ? ` (${shown(d.rule)})` : ''}${d.audience ? `; token audience ${shown(d.audience)}` : ''}${d.first ? '; first call' : ''}`;
    case 'signed-in':
      return `with ${shown(d.method)}${d.reused ? ' (an existing session)' : ''}`;
    case 'consented':
      return `${shown(d.outcome)}${Array.isArray(d.granted) ? `; granted ${shown(d.granted)}` : ''}${Array.isArray(d.refused) && d.refused.length ? `; refused ${shown(d.refused)}` : ''}`;
    case 'authorized':
      return `scopes ${shown(d.scope)}`;
    default:
      return d.status !== undefined ? `HTTP ${shown(d.status)}` : '';
  }
}

export function diagnosisList(diagnoses: Diagnosis[]): Html {
  if (diagnoses.length === 0) return html`<p data-testid="no-diagnoses">No problems found in what was recorded.</p>`;
  return html`<ul class="diagnoses" data-testid="diagnoses">${diagnoses.map(
    (d) => html`<li data-testid="diagnosis" data-code="${d.code}"><p><strong>${d.problem}</strong> ${when(d.at)}</p><p>Fix: ${d.fix}</p></li>`,
  )}</ul>`;
}

export function timeline(events: ConnectionEvent[], caption: string, clientLink?: (clientId: string) => string): Html {
  if (events.length === 0) return html`<p data-testid="no-events">Nothing recorded.</p>`;
  return html`<div class="table-scroll" tabindex="0"><table data-testid="timeline"><caption>${caption}</caption>
<thead><tr><th scope="col">When</th><th scope="col">Step</th><th scope="col">Result</th>${clientLink ? html`<th scope="col">Client</th>` : ''}<th scope="col">Details</th></tr></thead>
<tbody>${events.map(
    (e) => html`<tr data-testid="event" data-kind="${e.kind}" data-ok="${e.ok ? 'yes' : 'no'}"><td>${when(e.at)}</td><td>${stepLabel(e.kind)}</td><td>${e.ok ? 'ok' : 'failed'}</td>${clientLink ? html`<td>${e.clientId ? html`<a href="${clientLink(e.clientId)}"><code>${e.clientId}</code></a>` : '—'}</td>` : ''}<td>${detailText(e)}</td></tr>`,
  )}</tbody></table></div>`;
}

export interface ClientRow {
  clientId: string;
  name: string | null;
  events: number;
  lastAt: number;
  problems: number;
}

export function clientTable(rows: ClientRow[], link: (clientId: string) => string): Html {
  if (rows.length === 0) return html`<p data-testid="no-clients">No client has connected in the last seven days.</p>`;
  return html`<div class="table-scroll" tabindex="0"><table data-testid="doctor-clients"><caption>Clients seen in the last seven days, those with problems first</caption>
<thead><tr><th scope="col">Client</th><th scope="col">Problems</th><th scope="col">Events</th><th scope="col">Last seen</th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr data-testid="doctor-client" data-client="${r.clientId}" data-problems="${r.problems}"><td><a href="${link(r.clientId)}">${r.name ?? r.clientId}</a>${r.name ? html` <code>${r.clientId}</code>` : ''}</td><td>${r.problems}</td><td>${r.events}</td><td>${when(r.lastAt)}</td></tr>`,
  )}</tbody></table></div>`;
}
