/** `/orgs` (the caller's organizations) and `/orgs/:org`: its name and settings, and its limits alone (`/orgs/:org/limits`). */
import type { OrgSettings } from '../../store/orgs.ts';
import type { Hono } from 'hono';
import { parseInput } from '../../core/input.ts';
import { readJson } from '../../http/json-body.ts';
import { setOrganizationLimits, updateOrganization } from '../../identity/org-settings.ts';
import { LimitSettingsSchema, type LimitSettings } from '../../core/limit-settings.ts';
import type { Config } from '../../core/config.ts';
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

  api.get('/orgs/:org/limits', (c) => c.json(limitsView(deps.config.limits, c.get('org').settings.limits)));

  api.put('/orgs/:org/limits', async (c) => {
    const limits = parseInput(LimitSettingsSchema, await readJson(c, true));
    const updated = await setOrganizationLimits(deps, deps.config, c.get('org'), limits);
    await audit(c, 'admin.org.limits_updated', { details: { scopes: Object.keys(limits).join(',') } });
    return c.json(limitsView(deps.config.limits, updated.settings.limits));
  });

  api.patch('/orgs/:org', async (c) => {
    const input = parseInput(OrgUpdateSchema, await readJson(c, true));
    const settings = input.settings as OrgSettings | undefined;
    const updated = await updateOrganization(deps, deps.config, c.get('org').id, { name: input.name, settings });
    await audit(c, 'admin.org.updated', { details: { name: input.name !== undefined, settings: settings !== undefined, requireMfa: settings?.requireMfa === true } });
    return c.json(orgView(updated, c.get('orgRole')));
  });
}

/** The server's limits of gateway calls (the bounds) beside the organization's own. */
function limitsView(server: Config['limits'], own: LimitSettings | undefined) {
  const { tokenEndpoint: _t, registration: _r, keyPrefix: _k, ...bounds } = server;
  return { server: bounds, org: own ?? {} };
}
