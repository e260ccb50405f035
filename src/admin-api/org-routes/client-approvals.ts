/**
 * `/orgs/:org/client-approvals`: the organization's "admin approval" of OAuth clients — whether it
 * is on (the org's `settings.clientApproval`, set with `PATCH /orgs/:org`), the approved clients,
 * members' requests; approve or refuse a client (identity/client-approvals.ts, as the console's
 * "Clients" page; the service writes the audit record). A client id that is a URL is percent-encoded.
 */
import type { Hono } from 'hono';
import { decideClient, type AccessRequestDeps } from '../../identity/client-approvals.ts';
import { approvedClients } from '../../identity/org-clients.ts';
import type { OrgEnv } from '../deps.ts';
import type { OrgRouteKit } from './kit.ts';
import { accessRequestView } from './access-requests.ts';

export function clientApprovalRoutes(api: Hono<OrgEnv>, { deps, ids, actor }: OrgRouteKit): void {
  const service: AccessRequestDeps = { ...ids, audit: deps.audit, mailer: deps.mailer, publicUrl: deps.config.publicUrl, log: deps.log };

  api.get('/orgs/:org/client-approvals', async (c) => {
    const org = c.get('org');
    const requests = (await deps.store.accessRequests.listForOrg(org.id)).filter((r) => r.kind === 'client');
    return c.json({ clientApproval: org.settings.clientApproval === true, approved: approvedClients(org), requests: requests.map(accessRequestView) });
  });

  for (const [verb, approve] of [['approve', true], ['refuse', false]] as const) {
    api.post(`/orgs/:org/client-approvals/:clientId/${verb}`, async (c) => {
      const org = c.get('org');
      const told = await decideClient(service, actor(c).userId, org, c.req.param('clientId'), approve);
      const updated = await deps.store.orgs.get(org.id);
      return c.json({ approved: updated ? approvedClients(updated) : [], decided: told.map(accessRequestView) });
    });
  }
}
