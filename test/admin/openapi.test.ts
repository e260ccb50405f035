/**
 * The OpenAPI document (admin/openapi.ts) is what integrators generate clients from: it must name
 * every route the admin API actually serves — read from the mounted Hono app itself, so a route
 * added without documentation fails here — with its request body schema (from the zod schemas the
 * handlers validate with), the error shape and both ways to authenticate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminApi } from '../../src/admin-api/api.ts';
import { OPERATIONS, openApiPath } from '../../src/admin-api/openapi.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { apiUrl } from './support.ts';

type Doc = {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, { security: unknown[]; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> }; responses: Record<string, unknown> }>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string }>; schemas: { Error: { properties: { error: { enum: string[] } } } } };
};

/** Every route the admin API mounts (method + path), as Hono lists them; middleware (ALL) left out. */
function mountedRoutes(): string[] {
  // Building the routes touches nothing but these; no request is made.
  const api = adminApi({ config: { publicUrl: 'http://localhost', tokens: { accessTokenTtl: 1800 } }, gateway: { registry: {} } } as never);
  const routes = api.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`);
  return [...new Set(routes)].sort();
}

describe('admin API OpenAPI document', () => {
  let server: TestServer;
  let doc: Doc;

  before(async () => {
    server = await startTestServer();
    const response = await fetch(apiUrl(server, '/openapi.json'));
    assert.equal(response.status, 200, 'served without signing in: it holds no data');
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    doc = (await response.json()) as Doc;
  });
  after(() => server?.stop());

  it('is OpenAPI 3.1, served for this server', () => {
    assert.match(doc.openapi, /^3\.1\./);
    assert.equal(doc.servers[0]!.url, `${server.url}/admin/api`);
  });

  it('describes every mounted route, and nothing that is not mounted', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`)).sort();
    const mounted = mountedRoutes();
    assert.ok(mounted.length >= 30, `found ${mounted.length} routes`);
    assert.deepEqual(documented, mounted);
    assert.equal(OPERATIONS.length, mounted.length);
  });

  it('gives request bodies from the validation schemas, with unknown fields refused', () => {
    const keyBody = doc.paths['/orgs/{org}/keys']!.post!.requestBody!.content['application/json']!.schema as { properties: Record<string, unknown>; additionalProperties?: boolean };
    assert.deepEqual(Object.keys(keyBody.properties).sort(), ['admin', 'applications', 'expiry', 'name', 'permissions', 'resources']);
    assert.equal(keyBody.additionalProperties, false);
    const appBody = doc.paths['/applications']!.post!.requestBody!.content['application/json']!.schema;
    assert.ok(appBody.properties?.slug && appBody.properties.upstream);
    for (const [path, method] of [['/orgs/{org}/resources', 'post'], ['/orgs/{org}/invitations', 'post'], ['/orgs/{org}/members/{userId}', 'patch'], ['/orgs/{org}', 'patch']] as const) {
      assert.ok(doc.paths[path]![method]!.requestBody, `${method} ${path} has a body`);
    }
  });

  it('names both ways to authenticate, which routes take which, and the one error shape', () => {
    assert.equal(doc.components.securitySchemes.apiKey!.scheme, 'bearer');
    assert.equal(doc.components.securitySchemes.session!.in, 'cookie');
    assert.deepEqual(doc.paths['/orgs/{org}/members']!.get!.security, [{ session: [] }, { apiKey: [] }]);
    assert.deepEqual(doc.paths['/applications']!.get!.security, [{ session: [] }], 'applications need a server administrator\'s session');
    for (const code of ['invalid_request', 'forbidden', 'not_found', 'csrf_failed', 'last_owner', 'invalid_token']) {
      assert.ok(doc.components.schemas.Error.properties.error.enum.includes(code), code);
    }
    for (const ops of Object.values(doc.paths)) for (const op of Object.values(ops)) assert.ok(op.responses.default, 'every operation names the error answer');
  });
});
