/**
 * An organization's approval of OAuth clients (issue 14, "admin approval" mode: settings
 * `clientApproval`). Only the clients on the organization's allow-list act for it
 * (org-clients.ts); a member who consents to another one records a request instead of a grant,
 * which reaches the administrators (console "Clients", admin API `/orgs/:org/client-approvals`).
 * Approving puts the client on the allow-list — the member's next authorization goes through —
 * and withdrawing or refusing takes it off: the token endpoint refuses the org's grants for it
 * from the next issuance (authz/grant-org.ts resolveGrantOrg). Every step is audited.
 */
import { randomUUID } from 'node:crypto';
import type { Org } from '../store/orgs.ts';
import type { AccessRequest } from '../store/access-requests.ts';
import { PortcullisError } from '../core/errors.ts';
import { mailAdmins, send, type AccessRequestDeps } from './access-requests.ts';

export type { AccessRequestDeps } from './access-requests.ts';
import { approvedClients } from './org-clients.ts';

/** The member asks the org to approve a client: one pending request per person and client. */
export async function requestClientApproval(
  deps: AccessRequestDeps,
  input: { orgId: string; userId: string; clientId: string; clientName: string; application: string },
): Promise<{ request: AccessRequest; created: boolean }> {
  const result = await deps.store.accessRequests.create({ id: randomUUID(), kind: 'client', ...input, createdAt: deps.now() });
  if (!result.created) return result;
  const { request } = result;
  await deps.audit.write({ kind: 'client_approval.requested', orgId: request.orgId, actor: request.userId, subject: request.userId, clientId: request.clientId, details: { request: request.id } });
  await mailAdmins(
    deps,
    request,
    'clients',
    (who) => `${who} asks you to approve ${request.clientName}`,
    (who, orgName) => `${who} wants to connect ${request.clientName} (${request.clientId}) to ${orgName}, which needs an administrator's approval.`,
  );
  return result;
}

/**
 * Approve the client for the org (on the allow-list), or refuse it (off the list: withdraws an
 * earlier approval too). The members who asked are told. 404 `not_found` for a client this
 * server does not know.
 */
export async function decideClient(deps: AccessRequestDeps, actorId: string, org: Org, clientId: string, approve: boolean): Promise<AccessRequest[]> {
  if (!(await knownClient(deps, org, clientId))) throw new PortcullisError('not_found', 'no such client');
  const current = approvedClients(org) ?? [];
  const clientAllowList = approve ? [...new Set([...current, clientId])] : current.filter((id) => id !== clientId);
  // Approval mode only narrows: a list made here keeps the org in that mode.
  await deps.store.orgs.update(org.id, { settings: { ...org.settings, clientApproval: true, clientAllowList } });
  const status = approve ? 'approved' : 'refused';
  const told = await deps.store.accessRequests.decideClient(org.id, clientId, { status, by: actorId, at: deps.now() });
  await deps.audit.write({ kind: `client_approval.${status}`, orgId: org.id, actor: actorId, clientId, details: { requests: told.map((r) => r.id) } });
  for (const request of told) {
    const user = await deps.store.users.findById(request.userId);
    const outcome = approve ? `was approved: connect ${request.clientName} again` : 'was refused';
    if (user) await send(deps, user.email, `${request.clientName} in ${org.name}: ${status}`, `Your request to use ${request.clientName} in ${org.name} ${outcome}.\n`);
  }
  return told;
}

/** A client registered here, or one a member of the org asked for (a metadata-document client is known by its URL). */
async function knownClient(deps: AccessRequestDeps, org: Org, clientId: string): Promise<boolean> {
  if ((approvedClients(org) ?? []).includes(clientId) || (await deps.store.clients.find(clientId))) return true;
  return (await deps.store.accessRequests.listForOrg(org.id)).some((r) => r.kind === 'client' && r.clientId === clientId);
}
