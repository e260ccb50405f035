/**
 * The admin API as an administrator's console page uses it, and as everyone else meets it:
 * - who may call it: no session → 401, a member → 403, an unsafe method without the CSRF token,
 *   with another browser's token, from a foreign Origin or a cross-site fetch → 403 csrf_failed
 *   (and nothing changes);
 * - what it accepts: definitions validated field by field (400 with each error's path), JSON only
 *   (415), bounded bodies (413), unknown applications and tools → 404;
 * - what it may not change: applications from the configuration file and the built-in demo → 409
 *   read_only; a taken slug or path → 409;
 * - create, read, replace, delete — served (and no longer served) by the gateway at once, secrets
 *   in the upstream definition never read back yet kept across an edit.
 * Never a 5xx, never a stack trace.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { refusalFor } from '../../src/http/refusal.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient, apiUrl, httpDefinition, mcpCall, startToyMcp, waitFor, type AdminClient, type ApiAnswer, type ToyMcp } from './support.ts';

function assertError(answer: ApiAnswer, code: string, status: number): void {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error, code);
  assert.ok(!JSON.stringify(answer.body).includes('    at '), 'no stack trace');
}

function errorPaths(answer: ApiAnswer): string[] {
  return ((answer.body.errors as { path: string }[] | undefined) ?? []).map((e) => e.path).sort();
}

describe('admin API', () => {
  let toy: ToyMcp;
  let server: TestServer;
  let admin: AdminClient;

  before(async () => {
    toy = await startToyMcp();
    server = await startTestServer({ applications: [{ slug: 'cfg', name: 'Configured', upstream: { url: toy.url } }] } as never);
    admin = await adminClient(server);
  });
  after(async () => {
    await server?.stop();
    await toy?.stop();
  });

  describe('who may call it', () => {
    it('answers 401 authentication_required without a session, for reads and writes alike', async () => {
      for (const [method, path] of [['GET', '/applications'], ['GET', '/session'], ['POST', '/applications'], ['DELETE', '/applications/cfg'], ['GET', '/applications/cfg/tools']]) {
        const response = await fetch(apiUrl(server, path!), { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
        assert.equal(response.status, 401, `${method} ${path}`);
        assert.equal(((await response.json()) as { error: string }).error, 'authentication_required');
      }
    });

    it('answers 403 forbidden to a signed-in user who is not an administrator', async () => {
      const member = await adminClient(server, 'member@example.com', false);
      assertError(await member.call('GET', '/session'), 'forbidden', 403);
      assertError(await member.call('GET', '/applications'), 'forbidden', 403);
      assertError(await member.call('POST', '/applications', httpDefinition('sneaky', toy.url)), 'forbidden', 403);
      assertError(await admin.call('GET', '/applications/sneaky'), 'not_found', 404);
    });

    it('hands the administrator a CSRF token; reads need none', async () => {
      const session = await admin.call('GET', '/session');
      assert.equal(session.status, 200);
      assert.equal((session.body.user as { email: string }).email, 'root@example.com');
      assert.equal(session.body.csrfToken, admin.csrfToken);
      assert.equal((await admin.call('GET', '/applications', undefined, { csrf: null })).status, 200);
    });

    it('refuses unsafe methods without a valid CSRF token, from a foreign Origin or a cross-site fetch — and changes nothing', async () => {
      const other = await adminClient(server, 'root2@example.com');
      const definition = httpDefinition('forged', toy.url);
      assertError(await admin.call('POST', '/applications', definition, { csrf: null }), 'csrf_failed', 403);
      assertError(await admin.call('POST', '/applications', definition, { csrf: 'not-a-token' }), 'csrf_failed', 403);
      // A token is bound to its browser's CSRF cookie: another administrator's token does not fit.
      assertError(await admin.call('POST', '/applications', definition, { csrf: other.csrfToken }), 'csrf_failed', 403);
      assertError(await admin.call('POST', '/applications', definition, { headers: { origin: 'https://evil.example' } }), 'csrf_failed', 403);
      assertError(await admin.call('POST', '/applications', definition, { headers: { 'sec-fetch-site': 'cross-site' } }), 'csrf_failed', 403);
      assertError(await admin.call('DELETE', '/applications/cfg', undefined, { csrf: null }), 'csrf_failed', 403);
      assertError(await admin.call('POST', '/applications/cfg/tools/lookup/approve', undefined, { csrf: null }), 'csrf_failed', 403);
      assertError(await admin.call('GET', '/applications/forged'), 'not_found', 404);
      // The same request with the token goes through.
      assert.equal((await admin.call('POST', '/applications', definition)).status, 201);
      assert.equal((await admin.call('DELETE', '/applications/forged')).status, 204);
    });
  });

  describe('what it accepts', () => {
    it('answers 400 invalid_request listing each wrong field by its path', async () => {
      const wrong = await admin.call('POST', '/applications', { slug: 'Bad Slug', name: '', upstream: { url: 'ftp://files.example' } });
      assertError(wrong, 'invalid_request', 400);
      assert.deepEqual(errorPaths(wrong), ['name', 'slug', 'upstream.url']);

      const unknown = await admin.call('POST', '/applications', { ...httpDefinition('ok', toy.url), upstream: { url: toy.url, comand: 'x' }, colour: 'red' });
      assertError(unknown, 'invalid_request', 400);
      assert.deepEqual(errorPaths(unknown), ['colour', 'upstream.comand']);

      const crossField = await admin.call('POST', '/applications', httpDefinition('ok', toy.url, { tools: { search: { scope: 'other:read' } }, path: '/admin/ok' }));
      assertError(crossField, 'invalid_request', 400);
      assert.deepEqual(errorPaths(crossField), ['path', 'tools.search.scope']);

      assert.deepEqual(errorPaths(await admin.call('POST', '/applications', { slug: 'ok', name: 'OK', upstream: { builtin: 'demo' } })), ['upstream']);
      assert.deepEqual(errorPaths(await admin.call('POST', '/applications', [1, 2])), ['(root)']);
      assertError(await admin.call('GET', '/applications/ok'), 'not_found', 404);
    });

    it('takes JSON only, within a size limit', async () => {
      assertError(await admin.call('POST', '/applications', 'slug=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 'unsupported_media_type', 415);
      assertError(await admin.call('POST', '/applications', '{"slug": "x",'), 'invalid_request', 400);
      assertError(await admin.call('POST', '/applications', JSON.stringify({ ...httpDefinition('big', toy.url), name: 'x'.repeat(300_000) })), 'payload_too_large', 413);
      // Chunked, so no Content-Length announces the size: counted as it arrives.
      const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 8) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const chunked = await admin.ua.request(apiUrl(server, '/applications'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': admin.csrfToken, origin: new URL(server.url).origin },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      assert.equal(chunked.status, 413);
      assert.equal((JSON.parse(chunked.body) as { error: string }).error, 'payload_too_large');
    });

    it('answers 404 not_found for unknown applications, tools and routes', async () => {
      for (const [method, path] of [
        ['GET', '/applications/nope'],
        ['PUT', '/applications/nope'],
        ['DELETE', '/applications/nope'],
        ['GET', '/applications/nope/tools'],
        ['GET', '/applications/nope/status'],
        ['POST', '/applications/nope/test'],
        ['POST', '/applications/nope/refresh'],
        ['POST', '/applications/nope/tools/lookup/approve'],
        ['POST', '/applications/cfg/tools/no-such-tool/approve'],
        ['POST', '/applications/cfg/tools/no-such-tool/reject'],
        ['GET', '/no-such-route'],
      ] as const) {
        const body = method === 'PUT' ? httpDefinition('nope', toy.url) : undefined;
        assertError(await admin.call(method, path, body), 'not_found', 404);
      }
    });
  });

  describe('what it may not change', () => {
    it('keeps applications from the configuration file and the built-in demo read-only (409 read_only)', async () => {
      const before = await admin.call('GET', '/applications/cfg');
      assert.equal(before.body.source, 'config');
      assert.equal(before.body.readOnly, true);
      const put = await admin.call('PUT', '/applications/cfg', httpDefinition('cfg', toy.url, { name: 'Renamed' }));
      assertError(put, 'read_only', 409);
      assert.equal(put.body.source, 'config');
      assertError(await admin.call('DELETE', '/applications/cfg'), 'read_only', 409);
      const demo = await admin.call('DELETE', '/applications/demo');
      assertError(demo, 'read_only', 409);
      assert.equal(demo.body.source, 'builtin');
      assertError(await admin.call('PUT', '/applications/demo', { slug: 'demo', name: 'Mine now', upstream: { url: toy.url } }), 'read_only', 409);
      const after = await admin.call('GET', '/applications/cfg');
      assert.equal(after.body.name, 'Configured');
      assert.deepEqual(after.body.definition, before.body.definition);
    });

    it('refuses a taken slug (already_exists) or a path another application answers at (path_in_use)', async () => {
      const taken = await admin.call('POST', '/applications', httpDefinition('cfg', toy.url));
      assertError(taken, 'already_exists', 409);
      assert.deepEqual(errorPaths(taken), ['slug']);
      const clash = await admin.call('POST', '/applications', httpDefinition('clash', toy.url, { path: '/mcp' }));
      assertError(clash, 'path_in_use', 409);
      assert.deepEqual(errorPaths(clash), ['path']);
      assertError(await admin.call('GET', '/applications/clash'), 'not_found', 404);
    });

    it('still lets an administrator review the tools of a configured application', async () => {
      await waitFor(async () => ((await admin.call('GET', '/applications/cfg/tools')).body.tools as unknown[]).length === 2, "the configured application's manifest");
      const approved = await admin.call('POST', '/applications/cfg/tools/lookup/approve');
      assert.equal(approved.status, 200);
      assert.equal(approved.body.status, 'approved');
      assert.equal(approved.body.reviewedBy, 'root@example.com');
    });
  });

  describe('create, read, replace, delete', () => {
    it('creates an application that the gateway serves at once, lists it, and shows it with its secrets masked', async () => {
      const definition = httpDefinition('notes', toy.url, { upstream: { url: toy.url, headers: { 'x-api-key': 'sk-secret-1' } } });
      const gatewayUrl = `${server.url}/mcp/notes`;
      assert.equal((await mcpCall(gatewayUrl, undefined, 'tools/list')).status, 404);

      const created = await admin.call('POST', '/applications', definition);
      assert.equal(created.status, 201);
      assert.equal(created.headers.get('location'), apiUrl(server, '/applications/notes'));
      assert.equal(created.body.url, gatewayUrl);
      assert.equal(created.body.source, 'api');
      assert.equal(created.body.readOnly, false);
      assert.equal(created.body.status, 'not_verified');
      assert.ok(!JSON.stringify(created.body).includes('sk-secret-1'), 'the header value is not read back');
      assert.deepEqual((created.body.definition as { upstream: { headers: unknown } }).upstream.headers, { 'x-api-key': '********' });

      // Served without a restart: the gateway now challenges instead of "not found".
      const challenge = await mcpCall(gatewayUrl, undefined, 'tools/list');
      assert.equal(challenge.status, 401);
      assert.match(challenge.headers.get('www-authenticate') ?? '', /resource_metadata="[^"]*\/\.well-known\/oauth-protected-resource\/mcp\/notes"/);

      const list = await admin.call('GET', '/applications');
      const entry = (list.body.applications as { slug: string; status: string; source: string }[]).find((a) => a.slug === 'notes');
      assert.deepEqual({ status: entry?.status, source: entry?.source }, { status: 'not_verified', source: 'api' });
      assert.deepEqual((list.body.applications as { slug: string }[]).map((a) => a.slug).sort(), ['cfg', 'demo', 'notes']);
      assert.ok(!JSON.stringify(list.body).includes('sk-secret-1'));
    });

    it('replaces a definition — a masked secret keeps its stored value — and refuses to change the slug', async () => {
      const current = await admin.call('GET', '/applications/notes');
      const edited = { ...(current.body.definition as Record<string, unknown>), name: 'Team notes' };
      const replaced = await admin.call('PUT', '/applications/notes', edited);
      assert.equal(replaced.status, 200);
      assert.equal(replaced.body.name, 'Team notes');

      // What the MCP server receives: the header set before the edit, not the mask.
      toy.requests.length = 0;
      const refreshed = await admin.call('POST', '/applications/notes/refresh');
      assert.equal(refreshed.status, 200);
      assert.ok(toy.requests.length > 0);
      assert.ok(toy.requests.every((r) => r.headers['x-api-key'] === 'sk-secret-1'), 'the stored secret is still sent');

      const renamed = await admin.call('PUT', '/applications/notes', { ...edited, slug: 'other' });
      assertError(renamed, 'invalid_request', 400);
      assert.deepEqual(errorPaths(renamed), ['slug']);
      const invalid = await admin.call('PUT', '/applications/notes', { ...edited, upstream: { url: 'not a url' } });
      assertError(invalid, 'invalid_request', 400);
      assert.deepEqual(errorPaths(invalid), ['upstream.url']);
      assert.equal((await admin.call('GET', '/applications/notes')).body.name, 'Team notes');
    });

    it('deletes an application: gone from the API and from the gateway', async () => {
      assert.equal((await admin.call('DELETE', '/applications/notes')).status, 204);
      assertError(await admin.call('GET', '/applications/notes'), 'not_found', 404);
      assertError(await admin.call('GET', '/applications/notes/tools'), 'not_found', 404);
      assert.equal((await mcpCall(`${server.url}/mcp/notes`, undefined, 'tools/list')).status, 404);
      assertError(await admin.call('DELETE', '/applications/notes'), 'not_found', 404);
    });

    it('reports an MCP server that cannot be reached as 502 upstream_unavailable, not as a fault', async () => {
      const created = await admin.call('POST', '/applications', httpDefinition('down', 'http://127.0.0.1:9/mcp'));
      assert.equal(created.status, 201);
      assertError(await admin.call('POST', '/applications/down/refresh'), 'upstream_unavailable', 502);
    });
  });

  it('turns an unexpected failure into a bare internal_error, without its message', () => {
    const answer = refusalFor('admin', new Error('SELECT secret FROM users at /srv/app.ts:12'));
    assert.deepEqual(answer, { status: 500, headers: {}, body: { error: 'internal_error' } });
  });
});
