/**
 * The application routes of the admin API (server administrators' sessions): create, read,
 * replace and remove applications through applications/service.ts — the rules `portcullis apps`
 * shares —, review their tools, ask their MCP server for its tools again, run the self-test, and
 * read their status. After each change the gateway's registry reloads and learns the tools.
 */
import type { Hono } from 'hono';
import { listUpstreamTools } from '../gateway/probe.ts';
import type { Application } from '../core/application.ts';
import { selfTestStored } from '../applications/status.ts';
import { applicationService, type ApplicationService } from '../applications/service.ts';
import { PortcullisError } from '../core/errors.ts';
import { readJson } from '../http/json-body.ts';
import type { AdminApiDeps, AdminEnv } from './deps.ts';
import { actorOf } from './auth.ts';
import { applicationDetail, applicationSummary, statusView, toolView } from '../applications/views.ts';

export function applicationRoutes(api: Hono<AdminEnv>, deps: AdminApiDeps): void {
  const service = applicationService({
    store: deps.store,
    publicUrl: deps.config.publicUrl,
    now: deps.now,
    changed: () => deps.gateway.registry.reload(),
    audit: deps.audit,
  });
  definitionRoutes(api, deps, service);
  toolRoutes(api, deps, service);
}

/** The definitions: list, create, read, replace, remove — and the status they lead to. */
function definitionRoutes(api: Hono<AdminEnv>, deps: AdminApiDeps, service: ApplicationService): void {
  const { registry } = deps.gateway;

  api.get('/applications', async (c) => {
    const apps = await service.list();
    return c.json({ applications: apps.map(({ app, stored, status }) => applicationSummary(app, stored.source, status)) });
  });

  api.post('/applications', async (c) => {
    const created = await service.create(await readJson(c, true), actorOf(c.get('admin')));
    deps.log.info({ event: 'admin.application.created', app: created.app.slug, by: c.get('admin').label }, 'application created');
    // Learn its tools now rather than at the first client's tools/list (in the background: the
    // MCP server may be slow or not up yet; refresh reports errors when asked explicitly).
    const app = registry.get(created.app.slug);
    if (app) void deps.gateway.refreshManifest(app);
    c.header('location', `${deps.config.publicUrl}/admin/api/applications/${created.app.slug}`);
    return c.json(applicationDetail(created.app, created.stored, created.status), 201);
  });

  api.get('/applications/:slug', async (c) => {
    const { app, stored, status } = await service.get(c.req.param('slug'));
    return c.json(applicationDetail(app, stored, status));
  });

  api.put('/applications/:slug', async (c) => {
    const updated = await service.update(c.req.param('slug'), await readJson(c, true), actorOf(c.get('admin')));
    deps.log.info({ event: 'admin.application.updated', app: updated.app.slug, by: c.get('admin').label }, 'application updated');
    const app = registry.get(updated.app.slug);
    if (app) void deps.gateway.refreshManifest(app);
    return c.json(applicationDetail(updated.app, updated.stored, updated.status));
  });

  api.delete('/applications/:slug', async (c) => {
    const slug = c.req.param('slug');
    await service.remove(slug, actorOf(c.get('admin')));
    deps.log.info({ event: 'admin.application.deleted', app: slug, by: c.get('admin').label }, 'application deleted');
    return c.body(null, 204);
  });

  api.get('/applications/:slug/status', async (c) => {
    const { status } = await service.get(c.req.param('slug'));
    return c.json(statusView(status));
  });
}

/** The tools: the manifest and its review, asking the MCP server again, and the self-test. */
function toolRoutes(api: Hono<AdminEnv>, deps: AdminApiDeps, service: ApplicationService): void {
  const { registry } = deps.gateway;

  /** The registry's own instance (its upstream connector is cached by it); 404 while it is not served yet. */
  function served(slug: string): Application {
    const app = registry.get(slug);
    if (!app) throw new PortcullisError('not_found', `${slug} is not served by this process yet`);
    return app;
  }

  api.get('/applications/:slug/tools', async (c) => {
    const { loaded, tools } = await service.tools(c.req.param('slug'));
    return c.json({ slug: loaded.app.slug, tools: tools.map((t) => toolView(loaded.app, t)) });
  });

  for (const [action, status] of [['approve', 'approved'], ['reject', 'needs_review']] as const) {
    api.post(`/applications/:slug/tools/:name/${action}`, async (c) => {
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

  api.post('/applications/:slug/refresh', async (c) => {
    const slug = c.req.param('slug');
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

  api.post('/applications/:slug/test', async (c) => {
    const slug = c.req.param('slug');
    await service.get(slug);
    const result = await selfTestStored(deps.store, slug, { issuer: deps.config.publicUrl, signingKey: deps.signingKey, now: deps.now });
    if (!result) throw new PortcullisError('not_found', `no application ${slug}`);
    deps.log.info({ event: 'admin.application.self_test', app: slug, passed: result.passed, by: c.get('admin').label }, 'self-test ran');
    const { status } = await service.get(slug);
    return c.json({ ...result, ranAt: new Date(result.ranAt * 1000).toISOString(), status: status.status });
  });
}
