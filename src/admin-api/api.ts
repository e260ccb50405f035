/**
 * The admin JSON API, mounted at `<base>/admin/api` (server/app.ts):
 *
 *   GET    /openapi.json                             this API as OpenAPI 3.1 (admin/openapi.ts), no authentication
 *   GET    /session                                  who is calling, the orgs they manage, and the X-CSRF-Token to send
 *   GET    /applications                             every application with its status
 *   POST   /applications                             create (definition as in the config file)
 *   GET    /applications/:slug                       one application, its definition (secrets masked)
 *   PUT    /applications/:slug                       replace its definition
 *   DELETE /applications/:slug                       remove it (and its manifest and self-test)
 *   GET    /applications/:slug/tools                 the manifest, with each tool's scope and review
 *   POST   /applications/:slug/tools/:name/approve   approve (body: optional {fingerprint})
 *   POST   /applications/:slug/tools/:name/reject    send back to review
 *   POST   /applications/:slug/refresh               ask the MCP server for its tools again
 *   POST   /applications/:slug/test                  run the self-test (apps/self-test.ts)
 *   GET    /applications/:slug/status                not_verified | needs_review | live, and why
 *
 * plus the organization routes (`/orgs…`) and server-wide user routes (`/users/:id…`) of admin/orgs.ts.
 *
 * Every answer is JSON; every failure is `{error: <code>, message, …}` with the status derived from
 * the code (admin/errors.ts) — never a stack trace. Authentication: admin/auth.ts (a session, or an
 * admin API key for its org's routes); application routes need a server administrator's session.
 */
import type { SigningKey } from '../signing-keys/key-ring.ts';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { BODY_LIMITS } from '../http/body-limits.ts';
import { listUpstreamTools } from '../gateway/probe.ts';
import type { WebDeps, WebEnv } from '../web/pages.ts';
import type { ApplicationRegistry } from '../applications/registry.ts';
import type { Application } from '../core/application.ts';
import { selfTestStored } from '../applications/status.ts';
import type { Upstream } from '../gateway/upstreams/upstream.ts';
import { applicationService } from '../applications/service.ts';
import { adminCsrfToken, authenticateCaller, checkCsrf, requireServerAdmin, type AdminPrincipal } from './auth.ts';
import { isUnavailable, PortcullisError, toPublicError } from '../core/errors.ts';
import { refusalFor } from '../http/refusal.ts';
import { readJson } from '../http/json-body.ts';
import type { AdminApiDeps, AdminEnv } from './deps.ts';
import { orgRoutes } from './orgs.ts';
import type { Mailer } from '../identity/mailer.ts';
import { openApiDocument } from './openapi.ts';
import { applicationDetail, applicationSummary, statusView, toolView } from '../applications/views.ts';


/** Definitions are small; anything bigger is a mistake or an attack. */

export function adminApi(deps: AdminApiDeps): Hono<AdminEnv> {
  const api = new Hono<AdminEnv>();
  const { registry } = deps.gateway;
  const service = applicationService({
    store: deps.store,
    publicUrl: deps.config.publicUrl,
    now: deps.now,
    changed: () => registry.reload(),
  });

  api.onError((err, c) => {
    if (toPublicError(err).code === 'internal_error') deps.log.error({ err, path: c.req.path }, 'admin API error');
    else if (isUnavailable(err)) deps.log.warn({ err, path: c.req.path }, 'admin API: a dependency is unavailable');
    const answer = refusalFor('admin', err);
    for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
    return c.json(answer.body as object, answer.status as 500);
  });
  api.notFound((c) => c.json({ error: 'not_found', message: 'no such admin API route' }, 404));

  // The document describes the API to anyone: it holds no data.
  api.get('/openapi.json', (c) => c.json(openApiDocument(deps.config.publicUrl)));

  api.use('*', async (c, next) => {
    c.set('admin', await authenticateCaller(deps, c as never));
    await next();
  });
  // Server-wide routes: a server administrator's session (authorization first, then CSRF).
  const serverAdmin = async (c: Context<AdminEnv>, next: () => Promise<void>) => {
    requireServerAdmin(c.get('admin'));
    checkCsrf(deps, c as never, c.get('admin'));
    await next();
  };
  api.use('/applications', serverAdmin);
  api.use('/applications/*', serverAdmin);
  // Counted as the body streams in (a chunked body has no Content-Length to check up front).
  // (The rest of a refused body is drained or the connection ended after the answer: http/linger.ts.)
  api.use('*', bodyLimit({ maxSize: BODY_LIMITS.admin, onError: () => { throw new PortcullisError('payload_too_large', `the body is over ${BODY_LIMITS.admin} bytes`); } }));

  /** The registry's own instance (its upstream connector is cached by it); 404 while it is not served yet. */
  function served(slug: string): Application {
    const app = registry.get(slug);
    if (!app) throw new PortcullisError('not_found', `${slug} is not served by this process yet`);
    return app;
  }

  /** Who is calling, the orgs they manage, and (for a browser) the CSRF token to send. 403 to people who manage nothing. */
  api.get('/session', async (c) => {
    const admin = c.get('admin');
    const managed = (await deps.store.orgs.forUser(admin.userId)).filter((o) => (o.role === 'owner' || o.role === 'admin') && (admin.kind !== 'key' || o.id === admin.orgId));
    if (!admin.isAdmin && managed.length === 0) throw new PortcullisError('forbidden', 'only administrators may use the admin API');
    return c.json({
      user: { id: admin.userId, email: admin.email, name: admin.name, serverAdmin: admin.isAdmin },
      orgs: managed.map((o) => ({ id: o.id, slug: o.slug, name: o.name, role: o.role })),
      ...(admin.kind === 'key' ? { key: admin.keyId } : { csrfToken: adminCsrfToken(deps, c as never) }),
    });
  });

  api.route('/', orgRoutes(deps) as never);

  api.get('/applications', async (c) => {
    const apps = await service.list();
    return c.json({ applications: apps.map(({ app, stored, status }) => applicationSummary(app, stored.source, status)) });
  });

  api.post('/applications', async (c) => {
    const created = await service.create(await readJson(c, true));
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
    const updated = await service.update(c.req.param('slug'), await readJson(c, true));
    deps.log.info({ event: 'admin.application.updated', app: updated.app.slug, by: c.get('admin').label }, 'application updated');
    const app = registry.get(updated.app.slug);
    if (app) void deps.gateway.refreshManifest(app);
    return c.json(applicationDetail(updated.app, updated.stored, updated.status));
  });

  api.delete('/applications/:slug', async (c) => {
    const slug = c.req.param('slug');
    await service.remove(slug);
    deps.log.info({ event: 'admin.application.deleted', app: slug, by: c.get('admin').label }, 'application deleted');
    return c.body(null, 204);
  });

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
      const tool = await service.review(slug, name, status, admin.label, fingerprint);
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

  api.get('/applications/:slug/status', async (c) => {
    const { status } = await service.get(c.req.param('slug'));
    return c.json(statusView(status));
  });

  return api;
}
