/**
 * The organization admin API, mounted under `<base>/admin/api` (admin/api.ts). `:org` is a slug or
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
 *   GET    /orgs/:org/invitations
 *   POST   /orgs/:org/invitations                       {email, role?, expiresInDays?} → link, or sent by e-mail
 *   DELETE /orgs/:org/invitations/:id
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
 *
 * Server administrators only (sessions):
 *   GET    /users                                       every account (not the deleted), to find ids
 *   POST   /users/:id/disable | /users/:id/enable, DELETE /users/:id
 */
import type { Store } from '../store/store.ts';
import type { Org, OrgSettings } from '../store/orgs.ts';
import { Hono, type Context } from 'hono';
import * as z from 'zod';
import { AuditLog, type AuditRecord } from '../audit/audit-log.ts';
import type { WebEnv } from '../web/pages.ts';
import { CLIENT_KINDS } from '../core/config.ts';
import { disconnectApp, listConnectedApps } from '../identity/account.ts';
import { issueApiKey, listApiKeys, revokeApiKey, isManager } from '../api-keys/service.ts';
import { parseInput } from '../core/input.ts';
import { identityDeps, type IdentityDeps } from '../identity/context.ts';
import { invite, listInvitations, revokeInvitation } from '../identity/invitations.ts';
import type { Mailer } from '../identity/mailer.ts';
import { deleteUser, disableUser, enableUser, removeMember, setRole } from '../identity/people.ts';
import {
  CreateResourceSchema,
  RenameResourceSchema,
  ResourceMemberSchema,
  createResource,
  deleteResource,
  removeResourceMember,
  renameResource,
  resourceOf,
  setResourceMember,
} from '../identity/workspace-tree.ts';
import { checkCsrf, requireServerAdmin, type AdminPrincipal } from './auth.ts';
import { PortcullisError } from '../core/errors.ts';
import { readJson } from '../http/json-body.ts';
import type { AdminApiDeps } from './deps.ts';
import { OrgUpdateSchema, RoleSchema } from './org-schemas.ts';
import type { OrgRole } from '../core/roles.ts';

export type OrgEnv = { Bindings: WebEnv['Bindings']; Variables: WebEnv['Variables'] & { admin: AdminPrincipal; org: Org; orgRole: OrgRole } };
type OrgContext = Context<OrgEnv>;

const iso = (at: number | null) => (at === null ? null : new Date(at * 1000).toISOString());

export function orgView(org: Org, role?: OrgRole) {
  return { id: org.id, slug: org.slug, name: org.name, settings: org.settings, createdAt: iso(org.createdAt), ...(role ? { role } : {}) };
}

/** `:org` names an org by id (`org_…`) or slug. */
async function findOrg(store: Store, ref: string): Promise<Org | undefined> {
  return ref.startsWith('org_') ? store.orgs.get(ref) : store.orgs.bySlug(ref);
}

export function orgRoutes(deps: AdminApiDeps & { mailer?: Mailer }): Hono<OrgEnv> {
  const api = new Hono<OrgEnv>();
  const ids: IdentityDeps = identityDeps(deps);
  const { store } = deps;

  const actor = (c: OrgContext) => ({ userId: c.get('admin').userId, role: c.get('orgRole') });

  // Admin changes are recorded before the API answers; records name people by id only (never an
  // e-mail), so erasing a user never touches the chain.
  const auditLog = new AuditLog(store, deps.log, deps.now);
  const audit = async (c: OrgContext, kind: string, record: Omit<AuditRecord, 'kind'> = {}) => {
    const principal = c.get('admin');
    const org = c.get('org') as Org | undefined;
    await auditLog.write({ orgId: org?.id ?? null, actor: principal.kind === 'key' ? `key:${principal.keyId}` : principal.userId, ...record, kind });
  };

  // Who may act here: an owner or admin of this org. Others never learn whether it exists.
  const access = async (c: OrgContext, next: () => Promise<void>) => {
    const principal = c.get('admin');
    const org = await findOrg(store, c.req.param('org') ?? '');
    const member = org && (principal.kind !== 'key' || principal.orgId === org.id) ? await store.orgs.member(org.id, principal.userId) : undefined;
    if (!org || !member) throw new PortcullisError('not_found', 'no such organization');
    if (!isManager(member.role)) throw new PortcullisError('forbidden', 'only owners and admins manage the organization');
    checkCsrf(deps, c as never, principal);
    c.set('org', org);
    c.set('orgRole', member.role);
    await next();
  };
  api.use('/orgs/:org', access);
  api.use('/orgs/:org/*', access);

  api.get('/orgs', async (c) => {
    const principal = c.get('admin');
    const orgs = await store.orgs.forUser(principal.userId);
    const visible = principal.kind === 'key' ? orgs.filter((o) => o.id === principal.orgId) : orgs;
    return c.json({ orgs: visible.map((o) => orgView(o, o.role)) });
  });

  api.get('/orgs/:org', (c) => c.json(orgView(c.get('org'), c.get('orgRole'))));

  api.patch('/orgs/:org', async (c) => {
    const org = c.get('org');
    const input = parseInput(OrgUpdateSchema, await readJson(c, true));
    const settings = input.settings as OrgSettings | undefined;
    const errors: { path: string; message: string }[] = [];
    const { tokens } = deps.config;
    if (settings?.accessTokenTtl !== undefined && settings.accessTokenTtl > tokens.accessTokenTtl) {
      errors.push({ path: 'settings.accessTokenTtl', message: `at most ${tokens.accessTokenTtl} seconds (the server's access-token lifetime)` });
    }
    if (settings?.sessionMaxTtl !== undefined && settings.sessionMaxTtl > tokens.sessionTtl) {
      errors.push({ path: 'settings.sessionMaxTtl', message: `at most ${tokens.sessionTtl} seconds (the server's session lifetime)` });
    }
    settings?.clientKinds?.forEach((kind, i) => {
      if (!deps.config.clientKinds.includes(kind)) errors.push({ path: `settings.clientKinds.${i}`, message: `${kind} clients are not allowed on this server` });
    });
    if (errors.length) throw new PortcullisError('invalid_request', 'invalid settings', { detail: { errors } });
    await store.orgs.update(org.id, { name: input.name, settings });
    await audit(c, 'admin.org.updated', { details: { name: input.name !== undefined, settings: settings !== undefined } });
    return c.json(orgView((await store.orgs.get(org.id))!, c.get('orgRole')));
  });

  // ---- members ----
  api.get('/orgs/:org/members', async (c) => {
    const members = await store.orgs.members(c.get('org').id);
    const rows = await Promise.all(
      members.map(async (m) => {
        const user = await store.users.findById(m.userId);
        return { userId: m.userId, email: user?.email ?? null, name: user?.name ?? null, role: m.role, disabled: user?.disabledAt != null, joinedAt: iso(m.createdAt) };
      }),
    );
    return c.json({ members: rows });
  });

  api.patch('/orgs/:org/members/:userId', async (c) => {
    const { role } = parseInput(RoleSchema, await readJson(c, true));
    const org = c.get('org');
    const userId = c.req.param('userId');
    await setRole(ids, actor(c), org.id, userId, role);
    await audit(c, 'admin.member.role', { subject: userId, details: { role } });
    deps.log.info({ event: 'admin.member.role', org: org.id, user: userId, role, by: c.get('admin').label }, 'role changed');
    return c.json({ userId, role });
  });

  api.delete('/orgs/:org/members/:userId', async (c) => {
    const org = c.get('org');
    const userId = c.req.param('userId');
    const revoked = await removeMember(ids, actor(c), org.id, userId);
    await audit(c, 'admin.member.removed', { subject: userId, details: revoked });
    deps.log.info({ event: 'admin.member.removed', org: org.id, user: userId, by: c.get('admin').label, ...revoked }, 'member removed');
    return c.json({ removed: userId, revoked });
  });

  // ---- invitations ----
  api.get('/orgs/:org/invitations', async (c) => c.json({ invitations: await listInvitations(ids, c.get('org').id) }));

  api.post('/orgs/:org/invitations', async (c) => {
    const org = c.get('org');
    const result = await invite({ ...ids, publicUrl: deps.config.publicUrl }, actor(c), org, await readJson(c, true), deps.mailer);
    await audit(c, 'admin.invitation.created', { details: { invitation: result.invitation.id, role: result.invitation.role, sent: result.sent } });
    deps.log.info({ event: 'admin.invitation.created', org: org.id, by: c.get('admin').label, sent: result.sent }, 'invitation created');
    return c.json(result, 201);
  });

  api.delete('/orgs/:org/invitations/:id', async (c) => {
    await revokeInvitation(ids, c.get('org').id, c.req.param('id'));
    await audit(c, 'admin.invitation.revoked', { details: { invitation: c.req.param('id') } });
    return c.body(null, 204);
  });

  // ---- resources ----
  const resourceView = (r: { id: string; kind: string; parentId: string | null; name: string; createdAt: number }) => ({
    id: r.id,
    kind: r.kind,
    parentId: r.parentId,
    name: r.name,
    createdAt: iso(r.createdAt),
  });

  api.get('/orgs/:org/resources', async (c) => c.json({ resources: (await store.orgs.resources(c.get('org').id)).map(resourceView) }));

  api.post('/orgs/:org/resources', async (c) => {
    const created = await createResource(ids, c.get('org').id, parseInput(CreateResourceSchema, await readJson(c, true)));
    await audit(c, 'admin.resource.created', { details: { resource: created.id, kind: created.kind, parent: created.parentId } });
    return c.json(resourceView(created), 201);
  });

  api.patch('/orgs/:org/resources/:id', async (c) => {
    const { name } = parseInput(RenameResourceSchema, await readJson(c, true));
    return c.json(resourceView(await renameResource(ids, c.get('org').id, c.req.param('id'), name)));
  });

  api.delete('/orgs/:org/resources/:id', async (c) => {
    await deleteResource(ids, c.get('org').id, c.req.param('id'));
    await audit(c, 'admin.resource.deleted', { details: { resource: c.req.param('id') } });
    return c.body(null, 204);
  });

  api.get('/orgs/:org/resources/:id/members', async (c) => {
    const org = c.get('org');
    const resource = await resourceOf(ids, org.id, c.req.param('id'));
    const members = (await store.orgs.resourceMembers(org.id)).filter((m) => m.resourceId === resource.id);
    return c.json({ members: members.map((m) => ({ userId: m.userId, role: m.role, since: iso(m.createdAt) })) });
  });

  api.put('/orgs/:org/resources/:id/members/:userId', async (c) => {
    const { role } = parseInput(ResourceMemberSchema, await readJson(c, true));
    await setResourceMember(ids, c.get('org').id, c.req.param('id'), c.req.param('userId'), role);
    await audit(c, 'admin.resource.member.set', { subject: c.req.param('userId'), details: { resource: c.req.param('id'), role } });
    return c.json({ resourceId: c.req.param('id'), userId: c.req.param('userId'), role });
  });

  api.delete('/orgs/:org/resources/:id/members/:userId', async (c) => {
    await removeResourceMember(ids, c.get('org').id, c.req.param('id'), c.req.param('userId'));
    await audit(c, 'admin.resource.member.removed', { subject: c.req.param('userId'), details: { resource: c.req.param('id') } });
    return c.body(null, 204);
  });

  // ---- grants (connected apps of the org's people) ----
  api.get('/orgs/:org/grants', async (c) => {
    const apps = await listConnectedApps(deps, { orgId: c.get('org').id });
    const grants = await Promise.all(
      apps.map(async (app) => ({
        grantId: app.grantId,
        clientId: app.clientId,
        clientName: app.clientName,
        userId: app.userId,
        userEmail: (await store.users.findById(app.userId))?.email ?? null,
        scopes: [...new Set([...app.accountScopes, ...app.applications.flatMap((a) => a.permissions.map((p) => p.scope))])].sort(),
        applications: app.applications,
        createdAt: iso(app.createdAt),
        lastUsedAt: iso(app.lastUsedAt),
      })),
    );
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

  // ---- API keys ----
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

  // ---- users, server-wide ----
  const serverAdmin = async (c: OrgContext, next: () => Promise<void>) => {
    requireServerAdmin(c.get('admin'));
    checkCsrf(deps, c as never, c.get('admin'));
    await next();
  };
  api.use('/users', serverAdmin);
  api.use('/users/*', serverAdmin);

  api.get('/users', async (c) => {
    const users = await store.users.list();
    return c.json({
      users: users
        .filter((u) => u.deletedAt === null)
        .map((u) => ({ id: u.id, email: u.email, name: u.name, serverAdmin: u.isAdmin, disabled: u.disabledAt !== null, createdAt: iso(u.createdAt) })),
    });
  });

  api.post('/users/:id/disable', async (c) => {
    const id = c.req.param('id');
    if (id === c.get('admin').userId) throw new PortcullisError('invalid_request', 'you cannot disable yourself', { detail: { errors: [{ path: 'id', message: 'that is you' }] } });
    await disableUser(ids, id, c.get('admin').label);
    await audit(c, 'admin.user.disabled', { subject: id });
    deps.log.info({ event: 'admin.user.disabled', user: id, by: c.get('admin').label }, 'user disabled');
    return c.json({ id, disabled: true });
  });

  api.post('/users/:id/enable', async (c) => {
    const id = c.req.param('id');
    await enableUser(ids, id);
    await audit(c, 'admin.user.enabled', { subject: id });
    deps.log.info({ event: 'admin.user.enabled', user: id, by: c.get('admin').label }, 'user enabled');
    return c.json({ id, disabled: false });
  });

  api.delete('/users/:id', async (c) => {
    const id = c.req.param('id');
    await deleteUser(ids, id, c.get('admin').label);
    await audit(c, 'admin.user.deleted', { subject: id });
    deps.log.info({ event: 'admin.user.deleted', user: id, by: c.get('admin').label }, 'user deleted');
    return c.body(null, 204);
  });

  return api;
}
