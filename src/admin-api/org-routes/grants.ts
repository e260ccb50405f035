/** `/orgs/:org/grants`: what clients hold for the org's people, each revocable at once (identity/account.ts). */
import type { Hono } from 'hono';
import { PortcullisError } from '../../core/errors.ts';
import { disconnectApp, listConnectedApps, type ConnectedApp } from '../../identity/account.ts';
import type { OrgEnv } from '../deps.ts';
import { iso, type OrgRouteKit } from './kit.ts';

function grantView(app: ConnectedApp, userEmail: string | null) {
  return {
    grantId: app.grantId,
    clientId: app.clientId,
    clientName: app.clientName,
    userId: app.userId,
    userEmail,
    scopes: [...new Set([...app.accountScopes, ...app.applications.flatMap((a) => a.permissions.map((p) => p.scope))])].sort(),
    applications: app.applications,
    createdAt: iso(app.createdAt),
    lastUsedAt: iso(app.lastUsedAt),
  };
}

export function grantRoutes(api: Hono<OrgEnv>, { deps, audit }: OrgRouteKit): void {
  api.get('/orgs/:org/grants', async (c) => {
    const apps = await listConnectedApps(deps, { orgId: c.get('org').id });
    const grants = await Promise.all(apps.map(async (app) => grantView(app, (await deps.store.users.findById(app.userId))?.email ?? null)));
    return c.json({ grants });
  });

  api.delete('/orgs/:org/grants/:grantId', async (c) => {
    const grantId = c.req.param('grantId');
    const org = c.get('org');
    if (!(await disconnectApp(deps, { orgId: org.id }, grantId))) throw new PortcullisError('not_found', 'no such grant');
    await audit(c, 'admin.grant.revoked', { details: { grant: grantId } });
    deps.log.info({ event: 'admin.grant.revoked', org: org.id, grant: grantId, by: c.get('admin').label }, 'grant revoked');
    return c.body(null, 204);
  });
}
