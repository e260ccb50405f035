/**
 * `/orgs/<slug>/requests`: members' requests for access (made on the consent page when their roles
 * allowed none of an application's permissions). An administrator approves one by giving the member
 * a role on a workspace or project, or refuses it; the member sees the outcome on their account page
 * (and by e-mail when SMTP is configured). The rules are identity/access-requests.ts's — the admin
 * API's `POST /orgs/:org/access-requests/:id` decides with the same function.
 */
import type { Hono } from 'hono';
import type { AccessRequest } from '../../store/access-requests.ts';
import type { OrgResource } from '../../store/orgs.ts';
import { identityDeps } from '../../identity/context.ts';
import { decideAccessRequest, type AccessRequestDeps } from '../../identity/access-requests.ts';
import type { Mailer } from '../../identity/mailer.ts';
import { RESOURCE_ROLES } from '../../identity/workspace-tree.ts';
import { csrfField, notice, when } from '../account/layout.ts';
import { KIND_LABEL, treeOrder } from '../account/resource-tree.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { orgAccess, orgAction, orgPage, orgPath, type OrgAccess } from './access.ts';

export function accessRequestDeps(deps: WebDeps & { mailer?: Mailer }): AccessRequestDeps {
  return { ...identityDeps(deps), audit: deps.audit, mailer: deps.mailer, publicUrl: deps.config.publicUrl, log: deps.log };
}

function approveForm(deps: WebDeps, c: WebContext, access: OrgAccess, request: AccessRequest, who: string, targets: { resource: OrgResource; depth: number }[]): Html {
  const to = orgPath(deps, access.org, 'requests');
  if (!targets.length) {
    return html`<p class="muted">Add a workspace first (<a href="${orgPath(deps, access.org, 'resources')}">Workspaces and projects</a>): approving gives a role on one.</p>`;
  }
  return html`<form method="post" action="${to}/approve" class="inline" data-testid="approve-request">${csrfField(deps, c, 'org:request-approve')}<input type="hidden" name="request" value="${request.id}">
<select name="resource" aria-label="Workspace or project for ${who}">${targets.map(({ resource: r, depth }) => html`<option value="${r.id}">${'— '.repeat(depth)}${KIND_LABEL[r.kind]} ${r.name}</option>`)}</select>
<select name="role" aria-label="Role for ${who}">${RESOURCE_ROLES.map((role) => html`<option value="${role}">${role}</option>`)}</select>
<button class="primary" type="submit">Approve</button></form>
<form method="post" action="${to}/refuse" class="inline" data-testid="refuse-request">${csrfField(deps, c, 'org:request-refuse')}<input type="hidden" name="request" value="${request.id}"><button class="danger" type="submit">Refuse</button></form>`;
}

function outcome(request: AccessRequest, names: Map<string, string>): Html {
  if (request.status === 'refused') return html`refused ${when(request.decidedAt)}`;
  return html`approved ${when(request.decidedAt)}: ${request.role ?? ''} on ${names.get(request.resourceId ?? '') ?? 'a deleted resource'}`;
}

async function requestsBody(deps: WebDeps, c: WebContext, access: OrgAccess): Promise<Html> {
  const { org } = access;
  const requests = await deps.store.accessRequests.listForOrg(org.id);
  const targets = treeOrder(await deps.store.orgs.resources(org.id)).filter(({ resource }) => resource.kind !== 'folder');
  const names = new Map(targets.map(({ resource }) => [resource.id, resource.name]));
  const users = await Promise.all([...new Set(requests.map((r) => r.userId))].map((id) => deps.store.users.findById(id)));
  const emails = new Map(users.filter((u) => u !== undefined).map((u) => [u.id, u.email]));
  const row = (r: AccessRequest) => {
    const who = emails.get(r.userId) ?? r.userId;
    return html`<tr data-testid="access-request" data-request="${r.id}" data-status="${r.status}"><td>${who}</td><td>${r.clientName}<br><span class="muted">${r.application}</span></td><td>${when(r.createdAt)}</td>
<td>${r.status === 'pending' ? approveForm(deps, c, access, r, who, targets) : outcome(r, names)}</td></tr>`;
  };
  return html`${notice(c, { approved: 'Approved: the member has the role now and can connect again.', refused: 'Refused: the member sees it on their account page.' })}
<p>Members who connected an application their roles do not unlock asked for access. Approving gives them a role on a workspace or project: a viewer role unlocks the application's permissions that read, editor those that write, manager those that delete.</p>
${requests.length
  ? html`<div class="table-scroll" tabindex="0"><table data-testid="access-requests"><thead><tr><th>Member</th><th>Application</th><th>Asked</th><th>Decision</th></tr></thead><tbody>${requests.map(row)}</tbody></table></div>`
  : html`<p class="muted" data-testid="no-requests">No access requests.</p>`}`;
}

export function accessRequestRoutes(app: Hono<WebEnv>, deps: WebDeps & { mailer?: Mailer }): void {
  const service = accessRequestDeps(deps);
  app.get('/orgs/:org/requests', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    return c.html(await orgPage(deps, c, access, 'requests', await requestsBody(deps, c, access)));
  });
  // The service writes the audit record of each decision (access_request.approved / .refused); this one notes the page it came from.
  orgAction(app, deps, { path: '/orgs/:org/requests/approve', purpose: 'org:request-approve', section: 'requests', done: 'approved' }, async (form, { org, me }) => {
    await decideAccessRequest(service, me.user.id, org.id, field(form, 'request'), { approve: true, resourceId: field(form, 'resource'), role: field(form, 'role') });
    return { kind: 'admin.access_request.decided', details: { request: field(form, 'request'), via: 'console' } };
  });
  orgAction(app, deps, { path: '/orgs/:org/requests/refuse', purpose: 'org:request-refuse', section: 'requests', done: 'refused' }, async (form, { org, me }) => {
    await decideAccessRequest(service, me.user.id, org.id, field(form, 'request'), { approve: false });
    return { kind: 'admin.access_request.decided', details: { request: field(form, 'request'), via: 'console' } };
  });
}
