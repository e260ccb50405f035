/**
 * The application routes of the admin API (server administrators' sessions): create, read,
 * replace and remove applications through applications/service.ts — the rules `portcullis apps`
 * shares —, review their tools, ask their MCP server for its tools again, run the self-test, and
 * read their status. After each change the gateway's registry reloads and learns the tools.
 *
 * The same routes serve an organization's owners and admins under `/orgs/:org/applications`
 * (admin-api/org-routes/applications.ts) with a service scoped to that org: one implementation.
 * Server administrators alone create an application for an org (`POST /applications?org=`) and
 * move one (`PUT /applications/:slug/org`).
 */
import type { Context, Hono } from 'hono';
import * as z from 'zod';
import { parseInput } from '../core/input.ts';
import { listUpstreamTools } from '../gateway/probe.ts';
import type { Application } from '../core/application.ts';
import { selfTestStored } from '../applications/status.ts';
import { applicationService, type ApplicationService } from '../applications/service.ts';
import { PortcullisError } from '../core/errors.ts';
import { readJson } from '../http/json-body.ts';
import type { AdminApiDeps, AdminEnv } from './deps.ts';
import { actorOf } from './auth.ts';
import { applicationDetail, applicationSummary, statusView, toolView } from '../applications/views.ts';

/** The application service as the admin API uses it; `orgId` scopes it to one organization's applications. */
export function adminApplicationService(deps: AdminApiDeps, orgId?: string): ApplicationService {
  return applicationService({
    store: deps.store,
    publicUrl: deps.config.publicUrl,
    now: deps.now,
    changed: () => deps.gateway.registry.reload(),
    audit: deps.audit,
    ...(orgId === undefined ? {} : { orgId, allowPrivateUpstreams: deps.config.organizationApplications.allowPrivateUpstreams }),
  });
}

/** `PUT /applications/:slug/org`: the organization (slug or id) that is to manage it, or null for server-wide. */
export const MoveApplicationSchema = z.strictObject({ org: z.string().min(1).max(100).nullable() });

/** Where the routes are mounted, and the service each request uses there. */
export interface ApplicationMount {
  /** `/applications` or `/orgs/:org/applications`. */
  base: string;
  serviceFor(c: Context<AdminEnv>): ApplicationService;
  /** The URL path of the collection for this request (the Location of what is created). */
  collection(c: Context<AdminEnv>): string;
  /** Server administrators: who owns a new application (`?org=`), null for server-wide. */
  ownerFor?(c: Context<AdminEnv>): Promise<string | null>;
}

export function applicationRoutes(api: Hono<AdminEnv>, deps: AdminApiDeps): void {
  const service = adminApplicationService(deps);
  const mount: ApplicationMount = { base: '/applications', serviceFor: () => service, collection: () => '/applications', ownerFor: (c) => orgParam(deps, c.req.query('org')) };
  mountApplicationRoutes(api, deps, mount);
  api.put('/applications/:slug/org', async (c) => {
    const { org } = parseInput(MoveApplicationSchema, await readJson(c, true));
    const moved = await service.move(c.req.param('slug'), await orgParam(deps, org ?? undefined), actorOf(c.get('admin')));
    deps.log.info({ event: 'admin.application.moved', app: moved.app.slug, org: moved.stored.orgId, by: c.get('admin').label }, 'application moved');
    return c.json(applicationDetail(moved.app, moved.stored, moved.status));
  });
}

/** `?org=` / `{org}`: an organization's slug or id → its id (400 when there is none); absent → server-wide. */
async function orgParam(deps: AdminApiDeps, ref: string | undefined): Promise<string | null> {
  if (ref === undefined || ref === '') return null;
  const org = ref.startsWith('org_') ? await deps.store.orgs.get(ref) : await deps.store.orgs.bySlug(ref);
  if (!org) throw new PortcullisError('invalid_request', `no organization ${ref}`, { detail: { errors: [{ path: 'org', message: 'no such organization' }] } });
  return org.id;
}

/** Both sets of routes, at `mount.base`. */
export function mountApplicationRoutes(api: Hono<AdminEnv>, deps: AdminApiDeps, mount: ApplicationMount): void {
  definitionRoutes(api, deps, mount);
  toolRoutes(api, deps, mount);
}

/** The definitions: list, create, read, replace, remove — and the status they lead to. */
function definitionRoutes(api: Hono<AdminEnv>, deps: AdminApiDeps, mount: ApplicationMount): void {
  const { registry } = deps.gateway;
  const { base, serviceFor } = mount;

  api.get(base, async (c) => {
    const apps = await serviceFor(c).list();
    return c.json({ applications: apps.map(({ app, stored, status }) => ({ ...applicationSummary(app, stored.source, status), orgId: stored.orgId })) });
  });

  api.post(base, async (c) => {
    const owner = mount.ownerFor ? await mount.ownerFor(c) : null;
    const created = await serviceFor(c).create(await readJson(c, true), actorOf(c.get('admin')), owner);
    deps.log.info({ event: 'admin.application.created', app: created.app.slug, by: c.get('admin').label }, 'application created');
    // Learn its tools now rather than at the first client's tools/list (in the background: the
    // MCP server may be slow or not up yet; refresh reports errors when asked explicitly).
    const app = registry.get(created.app.slug);
    if (app) void deps.gateway.refreshManifest(app);
    c.header('location', `${deps.config.publicUrl}/admin/api${mount.collection(c)}/${created.app.slug}`);
    return c.json(applicationDetail(created.app, created.stored, created.status), 201);
  });

  api.get(`${base}/:slug`, async (c) => {
    const { app, stored, status } = await serviceFor(c).get(c.req.param('slug'));
    return c.json(applicationDetail(app, stored, status));
  });

  api.put(`${base}/:slug`, async (c) => {
    const updated = await serviceFor(c).update(c.req.param('slug'), await readJson(c, true), actorOf(c.get('admin')));
    deps.log.info({ event: 'admin.application.updated', app: updated.app.slug, by: c.get('admin').label }, 'application updated');
    const app = registry.get(updated.app.slug);
    if (app) void deps.gateway.refreshManifest(app);
    return c.json(applicationDetail(updated.app, updated.stored, updated.status));
  });

  api.delete(`${base}/:slug`, async (c) => {
    const slug = c.req.param('slug');
    await serviceFor(c).remove(slug, actorOf(c.get('admin')));
    deps.log.info({ event: 'admin.application.deleted', app: slug, by: c.get('admin').label }, 'application deleted');
    return c.body(null, 204);
  });

  api.get(`${base}/:slug/status`, async (c) => {
    const { status } = await serviceFor(c).get(c.req.param('slug'));
    return c.json(statusView(status));
  });
}

/** The tools: the manifest and its review, asking the MCP server again, and the self-test. */
function toolRoutes(api: Hono<AdminEnv>, deps: AdminApiDeps, mount: ApplicationMount): void {
  const { registry } = deps.gateway;
  const { base, serviceFor } = mount;

  /** The registry's own instance (its upstream connector is cached by it); 404 while it is not served yet. */
  function served(slug: string): Application {
    const app = registry.get(slug);
    if (!app) throw new PortcullisError('not_found', `${slug} is not served by this process yet`);
    return app;
  }

  api.get(`${base}/:slug/tools`, async (c) => {
    const { loaded, tools } = await serviceFor(c).tools(c.req.param('slug'));
    return c.json({ slug: loaded.app.slug, tools: tools.map((t) => toolView(loaded.app, t)) });
  });

  for (const [action, status] of [['approve', 'approved'], ['reject', 'needs_review']] as const) {
    api.post(`${base}/:slug/tools/:name/${action}`, async (c) => {
      const service = serviceFor(c);
      const slug = c.req.param('slug');
      const name = c.req.param('name');
      const body = await readJson(c, false);
      const fingerprint = typeof body === 'object' && body !== null ? (body as { fingerprint?: unknown }).fingerprint : undefined;
      if (fingerprint !== undefined && typeof fingerprint !== 'string') throw new PortcullisError('invalid_request', 'fingerprint must be a string', { detail: { errors: [{ path: 'fingerprint', message: 'expected a string' }] } });
      const admin = c.get('admin');
      const tool = await service.review(slug, name, status, admin.label, fingerprint, actorOf(admin));
      deps.log.info({ event: `admin.tool.${action}d`, app: slug, tool: name, by: admin.label }, `tool ${status === 'approved' ? 'approved' : 'sent back to review'}`);
      const { app } = await service.get(slug);
      return c.json(toolView(app, tool));
    });
  }

  api.post(`${base}/:slug/refresh`, async (c) => {
    const slug = c.req.param('slug');
    const service = serviceFor(c);
    await service.get(slug);
    const app = served(slug);
    // The runtime's refresh records what it sees but keeps failures to its log; ask once here
    // first, so an unreachable MCP server is reported to the administrator who asked.
    try {
      await listUpstreamTools(app, deps.gateway.upstreamFor(app));
    } catch (err) {
      deps.log.warn({ err, app: slug }, 'could not list the upstream tools');
      throw new PortcullisError('upstream_unavailable', `the MCP server behind ${slug} could not be asked for its tools`);
    }
    await deps.gateway.refreshManifest(app);
    const { loaded, tools } = await service.tools(slug);
    return c.json({ slug, tools: tools.map((t) => toolView(loaded.app, t)) });
  });

  api.post(`${base}/:slug/test`, async (c) => {
    const slug = c.req.param('slug');
    const service = serviceFor(c);
    await service.get(slug);
    const result = await selfTestStored(deps.store, slug, { issuer: deps.config.publicUrl, signingKey: deps.signingKey, now: deps.now });
    if (!result) throw new PortcullisError('not_found', `no application ${slug}`);
    deps.log.info({ event: 'admin.application.self_test', app: slug, passed: result.passed, by: c.get('admin').label }, 'self-test ran');
    const { status } = await service.get(slug);
    return c.json({ ...result, ranAt: new Date(result.ranAt * 1000).toISOString(), status: status.status });
  });
}
