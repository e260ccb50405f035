/** `/orgs/:org/keys`: every API key of the org (never a secret), issuing one to the caller (the secret in that answer only), revoking. */
import type { Hono } from 'hono';
import { issueApiKey, listApiKeys, revokeApiKey } from '../../api-keys/service.ts';
import { PortcullisError } from '../../core/errors.ts';
import { readJson } from '../../http/json-body.ts';
import type { OrgEnv } from '../deps.ts';
import type { OrgRouteKit } from './kit.ts';

export function keyRoutes(api: Hono<OrgEnv>, { deps, ids, audit }: OrgRouteKit): void {
  api.get('/orgs/:org/keys', async (c) => c.json({ keys: await listApiKeys(ids, { orgId: c.get('org').id }) }));

  api.post('/orgs/:org/keys', async (c) => {
    const principal = c.get('admin');
    // A key never issues keys: keys it minted would belong to its creator and outlive its own
    // revocation, so a leaked admin key could leave keys behind that revoking it does not end.
    if (principal.kind === 'key') throw new PortcullisError('forbidden', 'an API key cannot issue API keys; sign in to do this');
    const body = await readJson(c, true);
    const issued = await issueApiKey(ids, { orgId: c.get('org').id, userId: principal.userId }, body);
    await audit(c, 'admin.key.created', { subject: principal.userId, details: { key: issued.key.id, admin: issued.key.admin } });
    deps.log.info({ event: 'admin.key.created', org: issued.key.orgId, key: issued.key.id, by: principal.label }, 'API key issued');
    return c.json(issued, 201);
  });

  api.delete('/orgs/:org/keys/:id', async (c) => {
    const key = await revokeApiKey(ids, { orgId: c.get('org').id }, c.req.param('id'), c.get('admin').label);
    await audit(c, 'admin.key.revoked', { subject: key.userId, details: { key: key.id } });
    deps.log.info({ event: 'admin.key.revoked', org: key.orgId, key: key.id, by: c.get('admin').label }, 'API key revoked');
    return c.json(key);
  });
}
