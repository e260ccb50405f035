/**
 * The admin JSON API, mounted at `<base>/admin/api` (server/app.ts):
 *
 *   GET    /openapi.json                             this API as OpenAPI 3.1 (admin-api/openapi.ts), no authentication
 *   GET    /session                                  who is calling, the orgs they manage, and the X-CSRF-Token to send
 *   GET    /applications                             every application with its status
 *   POST   /applications                             create (definition as in the config file); ?org=<slug|id>: for that organization
 *   GET    /applications/:slug                       one application, its definition (secrets masked)
 *   PUT    /applications/:slug                       replace its definition
 *   DELETE /applications/:slug                       remove it (and its manifest and self-test)
 *   PUT    /applications/:slug/org                   {org: <slug|id> | null}: give it to an organization, or back to the server
 *   GET    /applications/:slug/tools                 the manifest, with each tool's scope and review
 *   POST   /applications/:slug/tools/:name/approve   approve (body: optional {fingerprint})
 *   POST   /applications/:slug/tools/:name/reject    send back to review
 *   POST   /applications/:slug/refresh               ask the MCP server for its tools again
 *   POST   /applications/:slug/test                  run the self-test (applications/self-test.ts)
 *   GET    /applications/:slug/status                not_verified | needs_review | live, and why
 *   GET    /clients                                  every OAuth client: kind, last use, people connected
 *   POST   /clients                                  register a client (its secret answered once)
 *   GET    /clients/:id                              one client's metadata (never its secret)
 *   POST   /clients/:id/rotate-secret                a new secret (answered once); the old one stops working
 *   DELETE /clients/:id                              remove a client (admin-api/client-routes.ts)
 *   GET    /signing-keys                             the token-signing key ring (public facts only)
 *   DELETE /signing-keys/:kid                        retire a retired key early: stop publishing it (admin-api/key-routes.ts)
 *
 *   DELETE /orgs/:org                                 delete an organization: server administrators (admin-api/org-deletion-route.ts)
 *
 * plus the organization routes (`/orgs…`) and server-wide user routes (`/users/:id…`) of admin-api/orgs.ts.
 * The application routes are admin-api/application-routes.ts's.
 *
 * Every answer is JSON; every failure is `{error: <code>, message, …}` with the status derived from
 * the code (core/errors.ts), rendered by http/refusal.ts — never a stack trace. Authentication:
 * admin-api/auth.ts (a session, or an admin API key for its org's routes); application routes need
 * a server administrator's session (admin-api/route-guards.ts).
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { BODY_LIMITS } from '../http/body-limits.ts';
import { adminCsrfToken, authenticateCaller } from './auth.ts';
import { isUnavailable, PortcullisError, toPublicError } from '../core/errors.ts';
import { refusalFor } from '../http/refusal.ts';
import type { AdminApiDeps, AdminEnv } from './deps.ts';
import { applicationRoutes } from './application-routes.ts';
import { clientRoutes } from './client-routes.ts';
import { keyRoutes } from './key-routes.ts';
import { orgDeletionRoute } from './org-deletion-route.ts';
import { orgRoutes } from './orgs.ts';
import { openApiDocument } from './openapi.ts';
import { serverAdminOnly } from './route-guards.ts';

export function adminApi(deps: AdminApiDeps): Hono<AdminEnv> {
  const api = new Hono<AdminEnv>();
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
  api.use('/applications', serverAdminOnly(deps));
  api.use('/applications/*', serverAdminOnly(deps));
  api.use('/clients', serverAdminOnly(deps));
  api.use('/clients/*', serverAdminOnly(deps));
  api.use('/signing-keys', serverAdminOnly(deps));
  api.use('/signing-keys/*', serverAdminOnly(deps));
  // Definitions are small; anything bigger is a mistake or an attack. Counted as the body streams
  // in (a chunked body has no Content-Length to check up front).
  // (The rest of a refused body is drained or the connection ended after the answer: http/linger.ts.)
  api.use('*', bodyLimit({ maxSize: BODY_LIMITS.admin, onError: () => { throw new PortcullisError('payload_too_large', `the body is over ${BODY_LIMITS.admin} bytes`); } }));

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

  // Before the `/orgs/:org` group: its guard admits only the org's own managers.
  orgDeletionRoute(api, deps);
  api.route('/', orgRoutes(deps) as never);

  applicationRoutes(api, deps);
  clientRoutes(api, deps);
  keyRoutes(api, deps);

  return api;
}
