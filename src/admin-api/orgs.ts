/**
 * The organization admin API, mounted under `<base>/admin/api` (admin-api/api.ts); one module per
 * route group in org-routes/, checked by admin-api/route-guards.ts. `:org` is a slug or
 * an id. Every `/orgs/:org/…` route needs an owner or admin of THAT org (a session, or an admin API
 * key of that org): a plain member → 403 `forbidden`; anyone else, or an unknown org → 404
 * `not_found` (no hint that it exists). Ids of another org's members, resources, invitations,
 * grants or keys → 404 likewise. Wrong input → 400 with `errors: [{path, message}]`.
 *
 *   GET    /orgs                                        the caller's organizations (a key: its own)
 *   GET    /orgs/:org                                   name, slug, settings
 *   PATCH  /orgs/:org                                   {name?, settings?} (lifetimes within the server's bounds)
 *   GET    /orgs/:org/members                           members with e-mail, name, role
 *   PATCH  /orgs/:org/members/:userId                   {role}  (409 last_owner; only owners touch owners)
 *   DELETE /orgs/:org/members/:userId                   removed at once: grants and keys revoked
 *   POST   /orgs/:org/members/:userId/reset-mfa         second factors removed, sessions ended (identity/mfa-reset.ts rules)
 *   GET    /orgs/:org/invitations
 *   POST   /orgs/:org/invitations                       {email, role?, expiresInDays?} → link, or sent by e-mail
 *   DELETE /orgs/:org/invitations/:id
 *   GET    /orgs/:org/access-requests                   members' requests for access, newest first
 *   POST   /orgs/:org/access-requests/:id/approve       {resourceId, role}: the member gets that role (409 conflict: decided already)
 *   POST   /orgs/:org/access-requests/:id/refuse        (409 conflict: decided already)
 *   GET    /orgs/:org/client-approvals                  "admin approval" of clients: on or off, the approved, members' requests
 *   POST   /orgs/:org/client-approvals/:clientId/approve | …/refuse   on / off the org's allow-list; members who asked are told
 *   GET    /orgs/:org/resources                         the tree, flat (parentId links)
 *   POST   /orgs/:org/resources                         {kind, parentId, name}
 *   PATCH  /orgs/:org/resources/:id                     {name}
 *   DELETE /orgs/:org/resources/:id                     and everything below it
 *   GET    /orgs/:org/resources/:id/members
 *   PUT    /orgs/:org/resources/:id/members/:userId     {role: viewer|editor|manager}
 *   DELETE /orgs/:org/resources/:id/members/:userId
 *   GET    /orgs/:org/grants                            what clients hold for the org's people
 *   DELETE /orgs/:org/grants/:grantId                   revoked at once
 *   GET    /orgs/:org/keys                              every key of the org (never a secret)
 *   POST   /orgs/:org/keys                              issued to the caller; the secret is in this answer only
 *   DELETE /orgs/:org/keys/:id                          permanent
 *   GET    /orgs/:org/applications                      the org's own applications (as GET /applications; admin-api/org-routes/applications.ts)
 *   POST   /orgs/:org/applications                      create one for the org (a url upstream only: no command)
 *   GET|PUT|DELETE /orgs/:org/applications/:slug        …/status, …/tools, …/tools/:name/approve|reject, …/refresh, …/test
 *                                                       as the server-wide routes; another org's or a server-wide app → 404
 *   GET    /orgs/:org/audit                             the audit trail: filters, newest first, `next` cursor (≤ 200 a page)
 *   GET    /orgs/:org/audit/export?format=jsonl|csv     streamed; one unbroken stretch of the org's chain
 *   GET    /orgs/:org/audit/verify                      the org's chain, checked from its checkpoint to its head
 *   GET    /orgs/:org/scim                              the SCIM base URL, whether a token exists, the group → role map
 *   POST   /orgs/:org/scim-token                        issue (or rotate) the org's SCIM token; the secret in this answer only
 *   DELETE /orgs/:org/scim-token                        revoke it at once
 *   PUT    /orgs/:org/scim/group-roles                  {groupRoles: {"<group displayName>": "admin"|"member"}}, applied at once
 *
 * Owners only (and server administrators managing the org) — single sign-on (README "Per-organization connections"):
 *   GET    /orgs/:org/identity-providers                the org's connections: its own, and the configuration's (read_only)
 *   POST   /orgs/:org/identity-providers                {id, type: oidc|github, name, …} as in the configuration; domains verified
 *   GET    /orgs/:org/identity-providers/:id            one (never a secret)
 *   PATCH  /orgs/:org/identity-providers/:id            some fields; secrets left out are kept (409 read_only: the configuration's)
 *   DELETE /orgs/:org/identity-providers/:id
 *   GET    /orgs/:org/domains                           claimed domains, verified or not, with the TXT record to create
 *   POST   /orgs/:org/domains                           {domain} (409 domain_claimed; 400 for a public mail provider's)
 *   POST   /orgs/:org/domains/:domain/verify            {method?: dns|admin} (400 verification_failed; admin: server administrators)
 *   DELETE /orgs/:org/domains/:domain                   (409 conflict while a connection uses it)
 *
 * Server administrators only (sessions):
 *   GET    /users                                       every account (not the deleted), to find ids
 *   POST   /users/:id/disable | /users/:id/enable, DELETE /users/:id
 *   POST   /users/:id/reset-mfa                         second factors removed, sessions ended
 */
import { Hono } from 'hono';
import type { AdminApiDeps, OrgEnv } from './deps.ts';
import { accessRequestRoutes } from './org-routes/access-requests.ts';
import { orgApplicationRoutes } from './org-routes/applications.ts';
import { clientApprovalRoutes } from './org-routes/client-approvals.ts';
import { auditRoutes } from './org-routes/audit.ts';
import { grantRoutes } from './org-routes/grants.ts';
import { invitationRoutes } from './org-routes/invitations.ts';
import { keyRoutes } from './org-routes/keys.ts';
import { orgRouteKit } from './org-routes/kit.ts';
import { memberRoutes } from './org-routes/members.ts';
import { resourceRoutes } from './org-routes/resources.ts';
import { scimRoutes } from './org-routes/scim.ts';
import { identityProviderRoutes } from './org-routes/identity-providers.ts';
import { settingsRoutes } from './org-routes/settings.ts';
import { userRoutes } from './org-routes/users.ts';
import { orgManagersOnly } from './route-guards.ts';

export function orgRoutes(deps: AdminApiDeps): Hono<OrgEnv> {
  const api = new Hono<OrgEnv>();
  const kit = orgRouteKit(deps);
  api.use('/orgs/:org', orgManagersOnly(deps));
  api.use('/orgs/:org/*', orgManagersOnly(deps));
  settingsRoutes(api, kit);
  memberRoutes(api, kit);
  invitationRoutes(api, kit);
  accessRequestRoutes(api, kit);
  clientApprovalRoutes(api, kit);
  resourceRoutes(api, kit);
  grantRoutes(api, kit);
  keyRoutes(api, kit);
  orgApplicationRoutes(api, kit);
  userRoutes(api, kit);
  auditRoutes(api, kit);
  scimRoutes(api, kit);
  identityProviderRoutes(api, kit);
  return api;
}
