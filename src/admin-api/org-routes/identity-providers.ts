/**
 * `/orgs/:org/identity-providers…` and `/orgs/:org/domains…`: the organization's own single
 * sign-on connections (identity/org-connections.ts; secrets write-only, never in an answer) and
 * the e-mail domains it claims (identity/org-domains.ts; verified by DNS TXT record, or by a
 * server administrator). Owners only (and server administrators managing the org): who signs
 * people in to an organization is the owners' call, as the owner role is theirs to give.
 * Connections from the configuration file are listed read-only.
 */
import type { Hono } from 'hono';
import * as z from 'zod';
import { PortcullisError } from '../../core/errors.ts';
import { parseInput } from '../../core/input.ts';
import { readJson } from '../../http/json-body.ts';
import { connectionUsingDomain, connectionView, createOrgConnection, deleteOrgConnection, orgConnectionDeps, orgConnectionViews, updateOrgConnection, type OrgConnectionDeps } from '../../identity/org-connections.ts';
import { claimDomain, domainView, removeDomain, txtLookup, verifyDomain, type TxtLookup } from '../../identity/org-domains.ts';
import type { OrgEnv } from '../deps.ts';
import type { OrgContext, OrgRouteKit } from './kit.ts';

export const DomainVerifySchema = z.strictObject({
  /** `dns` (default): look for the TXT record; `admin`: a server administrator vouches for the domain. */
  method: z.enum(['dns', 'admin']).default('dns'),
});

/** Owners of the org, or a server administrator's session (the route guard has admitted managers). */
function ownersOnly(c: OrgContext): void {
  const principal = c.get('admin');
  if (c.get('orgRole') === 'owner' || (principal.kind === 'session' && principal.isAdmin)) return;
  throw new PortcullisError('forbidden', 'only the organization\'s owners manage its single sign-on');
}

export function identityProviderRoutes(api: Hono<OrgEnv>, kit: OrgRouteKit): void {
  const { deps } = kit;
  const connectionDeps: OrgConnectionDeps = orgConnectionDeps(deps);
  api.use('/orgs/:org/identity-providers', async (c, next) => (ownersOnly(c), next()));
  api.use('/orgs/:org/identity-providers/*', async (c, next) => (ownersOnly(c), next()));
  const org = (c: OrgContext) => ({ id: c.get('org').id, slug: c.get('org').slug });

  api.get('/orgs/:org/identity-providers', async (c) => c.json({ identityProviders: await orgConnectionViews(connectionDeps, org(c)) }));

  api.get('/orgs/:org/identity-providers/:id', async (c) => {
    const found = (await orgConnectionViews(connectionDeps, org(c))).find((v) => v.id === c.req.param('id'));
    if (!found) throw new PortcullisError('not_found', 'no such connection');
    return c.json(found);
  });

  api.post('/orgs/:org/identity-providers', async (c) => {
    const connection = await createOrgConnection(connectionDeps, org(c), await readJson(c, true));
    await kit.audit(c, 'admin.sso_connection.created', { details: { connection: connection.id, type: connection.type, domains: connection.domains.join(',') } });
    return c.json(connectionView(connection, 'organization'), 201);
  });

  api.patch('/orgs/:org/identity-providers/:id', async (c) => {
    const body = await readJson(c, true);
    const connection = await updateOrgConnection(connectionDeps, org(c), c.req.param('id'), body);
    const secrets = ['clientSecret', 'privateKeyJwt'].filter((k) => typeof body === 'object' && body !== null && k in body);
    await kit.audit(c, 'admin.sso_connection.updated', { details: { connection: connection.id, fields: Object.keys(body as object).join(','), secretsChanged: secrets.length > 0 } });
    return c.json(connectionView(connection, 'organization'));
  });

  api.delete('/orgs/:org/identity-providers/:id', async (c) => {
    await deleteOrgConnection(connectionDeps, org(c), c.req.param('id'));
    await kit.audit(c, 'admin.sso_connection.deleted', { details: { connection: c.req.param('id') } });
    return c.body(null, 204);
  });

  domainRoutes(api, kit, connectionDeps, (name: string) => txtLookup(deps.config.organizationConnections.dnsServers)(name));
}

function domainRoutes(api: Hono<OrgEnv>, kit: OrgRouteKit, connectionDeps: OrgConnectionDeps, lookup: TxtLookup): void {
  const domainDeps = { ...connectionDeps, lookup };
  api.use('/orgs/:org/domains', async (c, next) => (ownersOnly(c), next()));
  api.use('/orgs/:org/domains/*', async (c, next) => (ownersOnly(c), next()));

  api.get('/orgs/:org/domains', async (c) => c.json({ domains: (await connectionDeps.store.orgConnections.listDomains(c.get('org').id)).map(domainView) }));

  api.post('/orgs/:org/domains', async (c) => {
    const claim = await claimDomain(domainDeps, c.get('org').id, await readJson(c, true));
    await kit.audit(c, 'admin.domain.claimed', { details: { domain: claim.domain } });
    return c.json(domainView(claim), 201);
  });

  api.post('/orgs/:org/domains/:domain/verify', async (c) => {
    const { method } = parseInput(DomainVerifySchema, await readJson(c, false));
    const principal = c.get('admin');
    if (method === 'admin' && !(principal.kind === 'session' && principal.isAdmin)) throw new PortcullisError('forbidden', 'only a server administrator vouches for a domain');
    const domain = c.req.param('domain').toLowerCase();
    try {
      const claim = await verifyDomain(domainDeps, c.get('org').id, domain, principal.userId, method);
      await kit.audit(c, 'admin.domain.verified', { details: { domain: claim.domain, method } });
      return c.json(domainView(claim));
    } catch (err) {
      if (err instanceof PortcullisError) await kit.audit(c, 'admin.domain.verification_failed', { reason: err.code, details: { domain, method } });
      throw err;
    }
  });

  api.delete('/orgs/:org/domains/:domain', async (c) => {
    const orgId = c.get('org').id;
    await removeDomain(domainDeps, orgId, c.req.param('domain').toLowerCase(), (domain) => connectionUsingDomain(connectionDeps, orgId, domain));
    await kit.audit(c, 'admin.domain.removed', { details: { domain: c.req.param('domain').toLowerCase() } });
    return c.body(null, 204);
  });
}
