/**
 * `/orgs/:org/scim…`: the organization's SCIM token (the secret in the issuing answer only; a new
 * one replaces the old at once; DELETE revokes it) and its group → role map (scim/tokens.ts).
 */
import type { Hono } from 'hono';
import * as z from 'zod';
import { PortcullisError } from '../../core/errors.ts';
import { parseInput } from '../../core/input.ts';
import { readJson } from '../../http/json-body.ts';
import { issueScimToken, revokeScimToken, setGroupRoles } from '../../scim/tokens.ts';
import type { OrgEnv } from '../deps.ts';
import { scimBaseUrl } from '../scim-api.ts';
import { iso, type OrgRouteKit } from './kit.ts';

export const ScimGroupRolesSchema = z.strictObject({ groupRoles: z.record(z.string().min(1).max(256), z.enum(['admin', 'member'])) });

export function scimRoutes(api: Hono<OrgEnv>, { deps, ids, audit }: OrgRouteKit): void {
  const baseUrl = scimBaseUrl(deps.config.publicUrl);

  api.get('/orgs/:org/scim', async (c) => {
    const config = await deps.store.scim.config(c.get('org').id);
    const token = config?.tokenHash ? { createdAt: iso(config.tokenCreatedAt), createdBy: config.tokenCreatedBy } : null;
    return c.json({ baseUrl, token, groupRoles: config?.groupRoles ?? {} });
  });

  api.post('/orgs/:org/scim-token', async (c) => {
    const principal = c.get('admin');
    // Like API keys: a key never mints a credential that would outlive its own revocation.
    if (principal.kind === 'key') throw new PortcullisError('forbidden', 'an API key cannot issue the SCIM token; sign in to do this');
    const token = await issueScimToken(ids, c.get('org').id, principal.userId);
    await audit(c, 'admin.scim_token.issued');
    return c.json({ token, baseUrl }, 201);
  });

  api.delete('/orgs/:org/scim-token', async (c) => {
    await revokeScimToken(ids, c.get('org').id);
    await audit(c, 'admin.scim_token.revoked');
    return c.body(null, 204);
  });

  api.put('/orgs/:org/scim/group-roles', async (c) => {
    const { groupRoles } = parseInput(ScimGroupRolesSchema, await readJson(c, true));
    const saved = await setGroupRoles({ ...ids, audit: deps.audit, baseUrl }, c.get('org').id, groupRoles);
    await audit(c, 'admin.scim_group_roles.changed', { details: { groups: Object.keys(saved).length } });
    return c.json({ groupRoles: saved });
  });
}
