/**
 * The home page of a server administrator: where their work starts. A checklist — add an
 * application, review its tools, invite people, connect a client — each step ticked from what the
 * store holds now (not from a flag someone sets), every application's MCP URL (the address people
 * give their MCP clients, RFC 9728 §3's protected resource), the tools waiting for a review and
 * the access requests waiting for an answer.
 */
import { parseDefinition } from '../applications/registry.ts';
import { resolveApplication } from '../core/application.ts';
import type { StoredApplication } from '../store/applications.ts';
import { html, type Html } from '../web/html.ts';
import type { WebDeps } from '../web/pages.ts';

interface HomeState {
  apps: { slug: string; name: string; url: string }[];
  pendingTools: { app: string; tool: string }[];
  reviewedTools: number;
  invited: boolean;
  connected: boolean;
  requests: { org: string; slug: string; count: number }[];
}

function resolved(deps: WebDeps, stored: StoredApplication): { slug: string; name: string; url: string } | undefined {
  try {
    const app = resolveApplication(parseDefinition(JSON.parse(stored.definition)), deps.config.publicUrl);
    return { slug: app.slug, name: app.name, url: app.resource };
  } catch {
    return undefined; // a definition this version cannot read: the applications page says why
  }
}

async function state(deps: WebDeps): Promise<HomeState> {
  const stored = (await deps.store.applications.list()).filter((a) => a.source !== 'builtin');
  const apps = stored.map((a) => resolved(deps, a)).filter((a) => a !== undefined);
  const tools = (await Promise.all(apps.map(async (a) => (await deps.store.tools.list(a.slug)).map((t) => ({ app: a.slug, tool: t.name, status: t.status }))))).flat();
  const orgs = await deps.store.orgs.list();
  const invitations = (await Promise.all(orgs.map((o) => deps.store.invitations.list(o.id)))).flat();
  const requests = await Promise.all(orgs.map(async (o) => ({ org: o.name, slug: o.slug, count: (await deps.store.accessRequests.listForOrg(o.id)).filter((r) => r.status === 'pending').length })));
  return {
    apps,
    pendingTools: tools.filter((t) => t.status === 'needs_review'),
    reviewedTools: tools.filter((t) => t.status === 'approved').length,
    invited: invitations.length > 0 || (await deps.store.users.count()) > 1,
    connected: (await deps.store.clients.list()).some((c) => c.lastUsedAt !== null),
    requests: requests.filter((r) => r.count > 0),
  };
}

function step(id: string, done: boolean, text: Html): Html {
  return html`<li data-testid="step-${id}" data-done="${done ? 'true' : 'false'}">${done ? html`<span aria-hidden="true">✓ </span><span class="muted">Done:</span> ` : html`<span aria-hidden="true">○ </span><span class="muted">To do:</span> `}${text}</li>`;
}

function checklist(deps: WebDeps, s: HomeState): Html {
  const base = deps.base;
  return html`<h2>Getting started</h2><ol data-testid="checklist">
${step('application', s.apps.length > 0, html`<a href="${base}/server/applications/new">Add an application</a> — the MCP server Portcullis protects.`)}
${step('tools', s.apps.length > 0 && s.reviewedTools > 0 && s.pendingTools.length === 0, html`<a href="${base}/server/applications">Review its tools</a> — approve what people may call.`)}
${step('people', s.invited, html`Invite people — from an organization's <em>Invitations</em> page.`)}
${step('client', s.connected, html`Connect a client — give an MCP client an application's URL below; <a href="${base}/server/clients">OAuth clients</a> lists them.`)}
</ol>`;
}

function waiting(deps: WebDeps, s: HomeState): Html {
  const tools = s.pendingTools.length
    ? html`<ul data-testid="pending-tools">${s.pendingTools.map((t) => html`<li data-app="${t.app}" data-tool="${t.tool}"><a href="${deps.base}/server/applications/${t.app}/tools">${t.app}: ${t.tool}</a></li>`)}</ul>`
    : html`<p data-testid="no-pending-tools">No tool is waiting for a review.</p>`;
  const requests = s.requests.length
    ? html`<ul data-testid="pending-requests">${s.requests.map((r) => html`<li data-org="${r.slug}"><a href="${deps.base}/orgs/${r.slug}/requests">${r.org}: ${r.count} access request${r.count === 1 ? '' : 's'}</a></li>`)}</ul>`
    : html`<p data-testid="no-pending-requests">No access request is waiting for an answer.</p>`;
  return html`<h2>Tools waiting for a review</h2>${tools}<h2>Access requests</h2>${requests}`;
}

/** The administrator's part of the home page (console/pages.ts shows it to server administrators). */
export async function adminHome(deps: WebDeps): Promise<Html> {
  const s = await state(deps);
  const urls = s.apps.length
    ? html`<div class="table-scroll" tabindex="0"><table data-testid="application-urls"><caption>Applications and their MCP URLs</caption><thead><tr><th scope="col">Application</th><th scope="col">URL for MCP clients</th></tr></thead>
<tbody>${s.apps.map((a) => html`<tr data-slug="${a.slug}"><th scope="row"><a href="${deps.base}/server/applications/${a.slug}">${a.name}</a></th><td><code>${a.url}</code></td></tr>`)}</tbody></table></div>`
    : '';
  return html`${checklist(deps, s)}${urls}${waiting(deps, s)}<p><a href="${deps.base}/server" data-testid="server-link">Server dashboard</a></p>`;
}
