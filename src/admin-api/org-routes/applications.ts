/**
 * `/orgs/:org/applications…`: an organization's owners and admins manage the applications their
 * organization owns — list, create, read, replace, remove, review tools, ask for tools again, run
 * the self-test — through the very routes and service server administrators use
 * (admin-api/application-routes.ts), scoped to the org: another org's application, or a
 * server-wide one, is 404 here, never 403 (no hint that it exists). A stdio (command) upstream
 * is refused: it would run as the server itself.
 */
import type { Context, Hono } from 'hono';
import type { Org } from '../../store/orgs.ts';
import type { OrgEnv, AdminEnv } from '../deps.ts';
import { adminApplicationService, mountApplicationRoutes } from '../application-routes.ts';
import type { OrgRouteKit } from './kit.ts';

export function orgApplicationRoutes(api: Hono<OrgEnv>, { deps }: OrgRouteKit): void {
  // orgManagersOnly (route-guards.ts) has set the org on every request that reaches these routes.
  const orgOf = (c: Context<AdminEnv>): Org => (c as unknown as Context<OrgEnv>).get('org');
  mountApplicationRoutes(api as unknown as Hono<AdminEnv>, deps, {
    base: '/orgs/:org/applications',
    serviceFor: (c) => adminApplicationService(deps, orgOf(c).id),
    collection: (c) => `/orgs/${orgOf(c).slug}/applications`,
  });
}
