/**
 * A member's access requests on their account page (issue 14): what they asked for, in which
 * organization, and what the administrators decided — so "ask an administrator" has an answer
 * they can see without e-mail.
 */
import type { AccessRequest } from '../../store/access-requests.ts';
import type { Org } from '../../store/orgs.ts';
import { html, type Html } from '../../web/html.ts';
import type { WebDeps } from '../../web/pages.ts';
import { when } from './layout.ts';

function state(request: AccessRequest, orgName: string): Html {
  if (request.status === 'pending') return html`waiting for an administrator of ${orgName}`;
  if (request.status === 'refused') return html`refused ${when(request.decidedAt)}`;
  if (request.kind === 'client') return html`approved ${when(request.decidedAt)} — connect ${request.clientName} again`;
  return html`approved ${when(request.decidedAt)}: you are ${request.role ?? 'a member'} there now — connect ${request.clientName} again`;
}

export async function accessRequestsSection(deps: WebDeps, userId: string, orgs: Pick<Org, 'id' | 'name'>[]): Promise<Html | ''> {
  const requests = await deps.store.accessRequests.listForUser(userId);
  if (!requests.length) return '';
  const names = new Map(orgs.map((o) => [o.id, o.name]));
  return html`<h2>Your access requests</h2>
<ul data-testid="my-access-requests">${requests.map((r) => {
    const orgName = names.get(r.orgId) ?? 'the organization';
    return html`<li data-testid="my-access-request" data-status="${r.status}">${r.kind === 'client' ? 'Approval of ' : ''}<strong>${r.clientName}</strong> in ${orgName} <span class="muted">(asked ${when(r.createdAt)})</span>: ${state(r, orgName)}</li>`;
  })}</ul>`;
}
