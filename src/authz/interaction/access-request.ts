/**
 * "Request access" on the consent page (consent-no-access.ts): the request goes to the chosen
 * organization's administrators through the service the console and admin API decide it with
 * (identity/access-requests.ts). No grant is made: the client gets nothing until the person,
 * given a role, connects again.
 */
import type { WebDeps } from '../../web/pages.ts';
import type { Mailer } from '../../identity/mailer.ts';
import { identityDeps } from '../../identity/context.ts';
import { requestAccess, type AccessRequestDeps } from '../../identity/access-requests.ts';
import { requestClientApproval } from '../../identity/client-approvals.ts';
import { consentRequests, type ConsentOrg } from './consent.ts';
import type { Interaction } from './details.ts';

function serviceDeps(deps: WebDeps & { mailer?: Mailer }): AccessRequestDeps {
  return { ...identityDeps(deps), audit: deps.audit, mailer: deps.mailer, publicUrl: deps.config.publicUrl, log: deps.log };
}

function requestOf(deps: WebDeps, details: Interaction, userId: string, clientName: string, org: ConsentOrg) {
  const { requests } = consentRequests(deps, details);
  const application = requests.map((r) => r.resource?.url ?? r.indicator).join(' ') || 'this application';
  return { orgId: org.selected.id, userId, clientId: String(details.params.client_id), clientName, application };
}

export async function askForAccess(deps: WebDeps & { mailer?: Mailer }, details: Interaction, userId: string, clientName: string, org: ConsentOrg): Promise<void> {
  await requestAccess(serviceDeps(deps), requestOf(deps, details, userId, clientName, org));
}

/** The member consented to a client the org has not approved ("admin approval" mode): ask its administrators. */
export async function askClientApproval(deps: WebDeps & { mailer?: Mailer }, details: Interaction, userId: string, clientName: string, org: ConsentOrg): Promise<void> {
  await requestClientApproval(serviceDeps(deps), requestOf(deps, details, userId, clientName, org));
}
