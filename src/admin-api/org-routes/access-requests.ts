/**
 * `/orgs/:org/access-requests`: members' requests for access (made on the consent page when their
 * roles allow none of an application's permissions), approved with a workspace or project role or
 * refused — the console's "Access requests" page decides with the same function
 * (identity/access-requests.ts), which writes the audit record.
 */
import type { Hono } from 'hono';
import type { AccessRequest } from '../../store/access-requests.ts';
import { parseInput } from '../../core/input.ts';
import { readJson } from '../../http/json-body.ts';
import { ApproveAccessSchema, decideAccessRequest, type AccessRequestDeps } from '../../identity/access-requests.ts';
import type { OrgEnv } from '../deps.ts';
import { iso, type OrgRouteKit } from './kit.ts';

export const accessRequestView = (r: AccessRequest) => ({
  id: r.id,
  userId: r.userId,
  clientId: r.clientId,
  clientName: r.clientName,
  application: r.application,
  status: r.status,
  resourceId: r.resourceId,
  role: r.role,
  createdAt: iso(r.createdAt),
  decidedAt: iso(r.decidedAt),
  decidedBy: r.decidedBy,
});

export function accessRequestRoutes(api: Hono<OrgEnv>, { deps, ids, actor }: OrgRouteKit): void {
  const service: AccessRequestDeps = { ...ids, audit: deps.audit, mailer: deps.mailer, publicUrl: deps.config.publicUrl, log: deps.log };

  api.get('/orgs/:org/access-requests', async (c) => c.json({ accessRequests: (await deps.store.accessRequests.listForOrg(c.get('org').id)).map(accessRequestView) }));

  api.post('/orgs/:org/access-requests/:id/approve', async (c) => {
    const { resourceId, role } = parseInput(ApproveAccessSchema, await readJson(c, true));
    const decided = await decideAccessRequest(service, actor(c).userId, c.get('org').id, c.req.param('id'), { approve: true, resourceId, role });
    return c.json(accessRequestView(decided));
  });

  api.post('/orgs/:org/access-requests/:id/refuse', async (c) => {
    const decided = await decideAccessRequest(service, actor(c).userId, c.get('org').id, c.req.param('id'), { approve: false });
    return c.json(accessRequestView(decided));
  });
}
