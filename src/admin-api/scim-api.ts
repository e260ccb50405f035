/**
 * The SCIM 2.0 service provider (RFC 7644), mounted at `<base>/scim/v2` (server/web-app.ts) — the
 * HTTP side only; what each request does is scim/'s:
 *
 *   GET /ServiceProviderConfig, /ResourceTypes[/:id], /Schemas[/:id]   discovery (RFC 7644 §4)
 *   GET /Users?filter=…&startIndex=…&count=…   POST /Users   GET|PUT|PATCH|DELETE /Users/:id
 *   GET /Groups?filter=…&excludedAttributes=members   POST /Groups   GET|PUT|PATCH|DELETE /Groups/:id
 *
 * Authentication: `Authorization: Bearer <the organization's SCIM token>` (RFC 7644 §2); the token
 * names the organization, and nothing of another organization is ever found (404). Bodies and
 * answers are `application/scim+json` (plain `application/json` is read too); errors are the SCIM
 * error schema (http/refusal.ts, surface `scim`).
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { BODY_LIMITS } from '../http/body-limits.ts';
import { refusalFor } from '../http/refusal.ts';
import { isUnavailable, PortcullisError, toPublicError } from '../core/errors.ts';
import { identityDeps } from '../identity/context.ts';
import type { ScimDeps } from '../scim/context.ts';
import { badRequest } from '../scim/errors.ts';
import { createGroup, deleteGroup, getGroup, listGroups, patchGroup, replaceGroup } from '../scim/groups.ts';
import { listResponse, resourceTypes, schemas, serviceProviderConfig } from '../scim/schema.ts';
import { orgOfScimToken } from '../scim/tokens.ts';
import { createUser, deleteUser, getUser, listUsers, patchUser, replaceUser } from '../scim/users.ts';
import type { WebDeps, WebEnv } from '../web/pages.ts';

type ScimEnv = { Bindings: WebEnv['Bindings']; Variables: WebEnv['Variables'] & { scimOrg: string } };
type ScimContext = Context<ScimEnv>;

const SCIM_JSON = 'application/scim+json; charset=utf-8';

/** The SCIM base URL of this server (what an IdP is given). */
export function scimBaseUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/$/, '')}/scim/v2`;
}

function answer(c: ScimContext, body: unknown, status: 200 | 201 = 200): Response {
  return c.body(JSON.stringify(body), status, { 'content-type': SCIM_JSON, 'cache-control': 'no-store' });
}

/** RFC 7644 §3.1: bodies are application/scim+json; IdPs also send application/json. */
async function readBody(c: ScimContext): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(scim\+)?json\b/i.test(type)) throw new PortcullisError('unsupported_media_type', 'send application/scim+json');
  try {
    return JSON.parse(await c.req.text()) as unknown;
  } catch {
    throw badRequest('invalidSyntax', 'the body is not JSON');
  }
}

function bearer(c: ScimContext): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec((c.req.header('authorization') ?? '').trim())?.[1];
}

async function authenticate(deps: WebDeps, c: ScimContext, next: () => Promise<void>): Promise<void> {
  const token = bearer(c);
  const orgId = token === undefined ? undefined : await orgOfScimToken(deps, token);
  if (orgId === undefined) {
    // RFC 6750 §3: a missing or refused bearer token gets a challenge.
    c.header('www-authenticate', token === undefined ? 'Bearer realm="scim"' : 'Bearer realm="scim", error="invalid_token"');
    throw new PortcullisError(token === undefined ? 'authentication_required' : 'invalid_token', 'send the organization\'s SCIM token: Authorization: Bearer …');
  }
  c.set('scimOrg', orgId);
  await next();
}

function discoveryRoutes(api: Hono<ScimEnv>, base: string): void {
  api.get('/ServiceProviderConfig', (c) => answer(c, serviceProviderConfig(base)));
  api.get('/ResourceTypes', (c) => { const all = resourceTypes(base); return answer(c, listResponse(all, all.length, 1)); });
  api.get('/ResourceTypes/:id', (c) => {
    const found = resourceTypes(base).find((r) => r.id === c.req.param('id'));
    if (!found) throw new PortcullisError('not_found', 'no such resource type');
    return answer(c, found);
  });
  api.get('/Schemas', (c) => { const all = schemas(base); return answer(c, listResponse(all, all.length, 1)); });
  api.get('/Schemas/:id', (c) => {
    const found = schemas(base).find((s) => s.id === c.req.param('id'));
    if (!found) throw new PortcullisError('not_found', 'no such schema');
    return answer(c, found);
  });
}

function userRoutes(api: Hono<ScimEnv>, deps: ScimDeps): void {
  api.get('/Users', async (c) => answer(c, await listUsers(deps, c.get('scimOrg'), c.req.query())));
  api.post('/Users', async (c) => {
    const created = await createUser(deps, c.get('scimOrg'), await readBody(c));
    c.header('location', String((created.meta as { location: string }).location));
    return answer(c, created, 201);
  });
  api.get('/Users/:id', async (c) => answer(c, await getUser(deps, c.get('scimOrg'), c.req.param('id'))));
  api.put('/Users/:id', async (c) => answer(c, await replaceUser(deps, c.get('scimOrg'), c.req.param('id'), await readBody(c))));
  api.patch('/Users/:id', async (c) => answer(c, await patchUser(deps, c.get('scimOrg'), c.req.param('id'), await readBody(c))));
  api.delete('/Users/:id', async (c) => {
    await deleteUser(deps, c.get('scimOrg'), c.req.param('id'));
    return c.body(null, 204);
  });
}

function groupRoutes(api: Hono<ScimEnv>, deps: ScimDeps): void {
  api.get('/Groups', async (c) => answer(c, await listGroups(deps, c.get('scimOrg'), c.req.query())));
  api.post('/Groups', async (c) => {
    const created = await createGroup(deps, c.get('scimOrg'), await readBody(c));
    c.header('location', String((created.meta as { location: string }).location));
    return answer(c, created, 201);
  });
  api.get('/Groups/:id', async (c) => answer(c, await getGroup(deps, c.get('scimOrg'), c.req.param('id'), c.req.query('excludedAttributes'))));
  api.put('/Groups/:id', async (c) => answer(c, await replaceGroup(deps, c.get('scimOrg'), c.req.param('id'), await readBody(c))));
  // RFC 7644 §3.5.2: 200 with the resource (Entra and Okta accept it as well as 204).
  api.patch('/Groups/:id', async (c) => answer(c, await patchGroup(deps, c.get('scimOrg'), c.req.param('id'), await readBody(c))));
  api.delete('/Groups/:id', async (c) => {
    await deleteGroup(deps, c.get('scimOrg'), c.req.param('id'));
    return c.body(null, 204);
  });
}

/** RFC 7644 §3.12: the SCIM error schema, status as a string (http/refusal.ts). */
function refuse(c: ScimContext, err: unknown): Response {
  const refusal = refusalFor('scim', err);
  for (const [name, value] of Object.entries(refusal.headers)) c.header(name, value);
  return c.body(JSON.stringify(refusal.body), refusal.status as 500, { 'content-type': SCIM_JSON });
}

export function scimApi(deps: WebDeps): Hono<ScimEnv> {
  const base = scimBaseUrl(deps.config.publicUrl);
  const scim: ScimDeps = { ...identityDeps(deps), audit: deps.audit, baseUrl: base };
  const api = new Hono<ScimEnv>();
  api.onError((err, c) => {
    if (toPublicError(err).code === 'internal_error') deps.log.error({ err, path: c.req.path }, 'SCIM error');
    else if (isUnavailable(err)) deps.log.warn({ err, path: c.req.path }, 'SCIM: a dependency is unavailable');
    return refuse(c, err);
  });
  api.notFound((c) => refuse(c as ScimContext, new PortcullisError('not_found', 'no such SCIM endpoint')));
  api.use('*', (c, next) => authenticate(deps, c, next));
  api.use('*', bodyLimit({ maxSize: BODY_LIMITS.scim, onError: () => { throw new PortcullisError('payload_too_large', `the body is over ${BODY_LIMITS.scim} bytes`); } }));
  discoveryRoutes(api, base);
  userRoutes(api, scim);
  groupRoutes(api, scim);
  // Mounted under the pages' app, whose not-found handler would answer otherwise.
  api.all('*', () => { throw new PortcullisError('not_found', 'no such SCIM endpoint'); });
  return api;
}
