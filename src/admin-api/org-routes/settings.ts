/** `/orgs` (the caller's organizations) and `/orgs/:org`: its name and settings. */
import type { OrgSettings } from '../../store/orgs.ts';
import type { Hono } from 'hono';
import { parseInput } from '../../core/input.ts';
import { readJson } from '../../http/json-body.ts';
import { updateOrganization } from '../../identity/org-settings.ts';
import type { OrgEnv } from '../deps.ts';
import { OrgUpdateSchema } from '../org-schemas.ts';
import { orgView, type OrgRouteKit } from './kit.ts';

export function settingsRoutes(api: Hono<OrgEnv>, { deps, audit }: OrgRouteKit): void {
  api.get('/orgs', async (c) => {
    const principal = c.get('admin');
    const orgs = await deps.store.orgs.forUser(principal.userId);
    const visible = principal.kind === 'key' ? orgs.filter((o) => o.id === principal.orgId) : orgs;
    return c.json({ orgs: visible.map((o) => orgView(o, o.role)) });
  });

  api.get('/orgs/:org', (c) => c.json(orgView(c.get('org'), c.get('orgRole'))));

  api.patch('/orgs/:org', async (c) => {
    const input = parseInput(OrgUpdateSchema, await readJson(c, true));
    const settings = input.settings as OrgSettings | undefined;
    const updated = await updateOrganization(deps, deps.config, c.get('org').id, { name: input.name, settings });
    await audit(c, 'admin.org.updated', { details: { name: input.name !== undefined, settings: settings !== undefined } });
    return c.json(orgView(updated, c.get('orgRole')));
  });
}
