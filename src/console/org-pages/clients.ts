/**
 * `/orgs/<slug>/clients`: which OAuth clients the organization's members may use (issue 14). With
 * "admin approval" on, only the approved clients act for the organization; a member who consents
 * to another one sends a request here instead of getting a token. An administrator approves it
 * (the member's next authorization goes through) or refuses it; an approval can be withdrawn. The
 * rules are identity/client-approvals.ts's — the admin API's `/orgs/:org/client-approvals` uses them.
 */
import type { Hono } from 'hono';
import type { AccessRequest } from '../../store/access-requests.ts';
import type { Mailer } from '../../identity/mailer.ts';
import { identityDeps } from '../../identity/context.ts';
import { decideClient } from '../../identity/client-approvals.ts';
import { approvedClients } from '../../identity/org-clients.ts';
import { updateOrganization } from '../../identity/org-settings.ts';
import { csrfField, notice } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { orgAccess, orgAction, orgPage, orgPath, type OrgAccess } from './access.ts';
import { accessRequestDeps } from './requests.ts';

function decideForms(deps: WebDeps, c: WebContext, access: OrgAccess, clientId: string, name: string, approve: boolean): Html {
  const to = orgPath(deps, access.org, 'clients');
  const refuse = html`<form method="post" action="${to}/refuse" class="inline">${csrfField(deps, c, 'org:client-refuse')}<input type="hidden" name="client" value="${clientId}"><button class="danger" type="submit" aria-label="${approve ? 'Refuse' : 'Withdraw approval of'} ${name}">${approve ? 'Refuse' : 'Withdraw approval'}</button></form>`;
  if (!approve) return refuse;
  return html`<form method="post" action="${to}/approve" class="inline">${csrfField(deps, c, 'org:client-approve')}<input type="hidden" name="client" value="${clientId}"><button class="primary" type="submit" aria-label="Approve ${name}">Approve</button></form> ${refuse}`;
}

async function clientName(deps: WebDeps, clientId: string, asked: AccessRequest[]): Promise<string> {
  const stored = await deps.store.clients.find(clientId);
  const named = stored?.metadata.client_name;
  return typeof named === 'string' && named ? named : (asked.find((r) => r.clientId === clientId)?.clientName ?? clientId);
}

async function clientsBody(deps: WebDeps, c: WebContext, access: OrgAccess): Promise<Html> {
  const { org } = access;
  const asked = (await deps.store.accessRequests.listForOrg(org.id)).filter((r) => r.kind === 'client');
  const pending = [...new Set(asked.filter((r) => r.status === 'pending').map((r) => r.clientId))];
  const approved = approvedClients(org) ?? [];
  const users = new Map((await Promise.all([...new Set(asked.map((r) => r.userId))].map((id) => deps.store.users.findById(id)))).filter((u) => u !== undefined).map((u) => [u.id, u.email]));
  const pendingRows = await Promise.all(pending.map(async (id) => {
    const name = await clientName(deps, id, asked);
    const who = asked.filter((r) => r.clientId === id && r.status === 'pending').map((r) => users.get(r.userId) ?? r.userId);
    return html`<tr data-testid="client-waiting" data-client="${id}"><td><strong>${name}</strong><br><code>${id}</code></td><td>${who.join(', ')}</td><td>${decideForms(deps, c, access, id, name, true)}</td></tr>`;
  }));
  const approvedRows = await Promise.all(approved.map(async (id) => {
    const name = await clientName(deps, id, asked);
    return html`<li data-testid="client-approved" data-client="${id}"><strong>${name}</strong> <code>${id}</code> ${decideForms(deps, c, access, id, name, false)}</li>`;
  }));
  return html`${notice(c, { mode: 'Saved.', approved: 'Approved: members can connect it now.', refused: 'Refused: members who asked see it on their account page.' })}
<h2>Admin approval</h2>
<form method="post" action="${orgPath(deps, org, 'clients', '/mode')}" data-testid="client-approval-mode">${csrfField(deps, c, 'org:client-mode')}
<label class="choice"><input type="checkbox" name="approval"${org.settings.clientApproval ? html` checked` : ''}> Members may use only the applications approved here; connecting another one asks you first</label>
<div class="actions"><button class="primary" type="submit">Save</button></div></form>
<h2>Waiting for approval</h2>
${pendingRows.length
  ? html`<div class="table-scroll" tabindex="0"><table data-testid="clients-waiting"><thead><tr><th>Application</th><th>Asked by</th><th>Decision</th></tr></thead><tbody>${pendingRows}</tbody></table></div>`
  : html`<p class="muted" data-testid="no-clients-waiting">Nothing is waiting.</p>`}
<h2>Approved</h2>
${approvedRows.length ? html`<ul data-testid="clients-approved">${approvedRows}</ul>` : html`<p class="muted">${org.settings.clientApproval ? 'None yet: no application may act for the organization.' : 'No list: every application may connect.'}</p>`}`;
}

export function clientApprovalRoutes(app: Hono<WebEnv>, deps: WebDeps & { mailer?: Mailer }): void {
  const service = accessRequestDeps(deps);
  app.get('/orgs/:org/clients', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    return c.html(await orgPage(deps, c, access, 'clients', await clientsBody(deps, c, access)));
  });
  orgAction(app, deps, { path: '/orgs/:org/clients/mode', purpose: 'org:client-mode', section: 'clients', done: 'mode' }, async (form, { org }) => {
    const clientApproval = form.approval === 'on';
    await updateOrganization(identityDeps(deps), deps.config, org.id, { settings: { ...org.settings, clientApproval } });
    return { kind: 'admin.org.updated', details: { settings: true, clientApproval } };
  });
  // The service writes the audit record of each decision (client_approval.approved / .refused).
  orgAction(app, deps, { path: '/orgs/:org/clients/approve', purpose: 'org:client-approve', section: 'clients', done: 'approved' }, async (form, { org, me }) => {
    await decideClient(service, me.user.id, org, field(form, 'client'), true);
    return { kind: 'admin.client_approval.decided', clientId: field(form, 'client'), details: { via: 'console' } };
  });
  orgAction(
    app,
    deps,
    {
      path: '/orgs/:org/clients/refuse',
      purpose: 'org:client-refuse',
      section: 'clients',
      done: 'refused',
      confirm: async (_form, { org }) => ({
        title: 'Refuse this application?',
        text: `Members of ${org.name} cannot connect it; connections made under an earlier approval stop at their next token refresh.`,
        button: 'Refuse',
        cancel: orgPath(deps, org, 'clients'),
      }),
    },
    async (form, { org, me }) => {
      await decideClient(service, me.user.id, org, field(form, 'client'), false);
      return { kind: 'admin.client_approval.decided', clientId: field(form, 'client'), details: { via: 'console' } };
    },
  );
}
