/**
 * Applications owned by an organization (issue 14 item 1), through the admin API as the people
 * around them meet it:
 * - ada owns `acme`, carl is one of its admins: they manage acme's applications under
 *   /orgs/acme/applications — create, read, replace, tools (refresh, approve, reject), self-test, delete;
 * - bob, a plain member of acme: 403 on every route; olga, who owns `globex`: 404 on acme's routes;
 * - an org's admin never reaches another org's or a server-wide application: 404 on every route,
 *   exactly as for an application that does not exist, and a taken path does not name its owner;
 * - an org's admin may not run a command on the server (stdio upstream): 400 at `upstream.command`;
 * - root, a server administrator, creates an application for an org (`?org=`), moves one in and
 *   out (`PUT /applications/:slug/org`), and sees every application; org admins may do neither.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient, httpDefinition, startToyMcp, type AdminClient, type ApiAnswer, type ToyMcp } from './support.ts';

function assertError(answer: ApiAnswer, code: string, status: number): void {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error, code);
}

const errorPaths = (answer: ApiAnswer) => ((answer.body.errors as { path: string }[] | undefined) ?? []).map((e) => e.path);
const slugs = (answer: ApiAnswer) => (answer.body.applications as { slug: string }[]).map((a) => a.slug).sort();

/** Every route of one application under `base`, with a body where the route takes one. */
function routesOf(base: string, slug: string, definition: Record<string, unknown>): [string, string, unknown?][] {
  return [
    ['GET', `${base}/${slug}`],
    ['PUT', `${base}/${slug}`, definition],
    ['DELETE', `${base}/${slug}`],
    ['GET', `${base}/${slug}/status`],
    ['GET', `${base}/${slug}/tools`],
    ['POST', `${base}/${slug}/tools/lookup/approve`, {}],
    ['POST', `${base}/${slug}/tools/lookup/reject`, {}],
    ['POST', `${base}/${slug}/refresh`],
    ['POST', `${base}/${slug}/test`],
  ];
}

describe('applications owned by an organization (admin API)', () => {
  let toy: ToyMcp;
  let server: TestServer;
  let ada: AdminClient;
  let carl: AdminClient;
  let bob: AdminClient;
  let olga: AdminClient;
  let root: AdminClient;

  before(async () => {
    toy = await startToyMcp();
    // The toy MCP server is on loopback: allowed for organizations' applications only by this setting.
    server = await startTestServer({ organizationApplications: { allowPrivateUpstreams: true } });
    const globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    await server.addUser('carl@example.com', undefined, { role: 'admin' });
    await server.addUser('bob@example.com', undefined, { role: 'member' });
    await server.addUser('olga@example.com', undefined, { role: 'owner', org: globex });
    ada = await adminClient(server, 'ada@example.com', false);
    carl = await adminClient(server, 'carl@example.com', false);
    bob = await adminClient(server, 'bob@example.com', false);
    olga = await adminClient(server, 'olga@example.com', false);
    root = await adminClient(server, 'root@example.com', true);
    assert.equal((await root.call('POST', '/applications', httpDefinition('wide', toy.url))).status, 201);
    assert.equal((await root.call('POST', '/applications?org=globex', httpDefinition('crm', toy.url))).status, 201);
  });
  after(async () => {
    await server?.stop();
    await toy?.stop();
  });

  it('an owner creates an application for the organization and sees only the organization\'s', async () => {
    const created = await ada.call('POST', '/orgs/acme/applications', httpDefinition('notes', toy.url));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.orgId, server.org.id);
    assert.equal(created.headers.get('location'), `${server.url}/admin/api/orgs/acme/applications/notes`);
    assert.deepEqual(slugs(await ada.call('GET', '/orgs/acme/applications')), ['notes']);
    assert.deepEqual(slugs(await olga.call('GET', '/orgs/globex/applications')), ['crm']);
    const all = slugs(await root.call('GET', '/applications'));
    assert.ok(['crm', 'notes', 'wide'].every((s) => all.includes(s)), all.join());
  });

  it('an admin of the organization reviews its tools, runs the self-test, edits it', async () => {
    const refreshed = await carl.call('POST', '/orgs/acme/applications/notes/refresh');
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    const approved = await carl.call('POST', '/orgs/acme/applications/notes/tools/lookup/approve', {});
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'approved');
    const test = await carl.call('POST', '/orgs/acme/applications/notes/test');
    assert.equal(test.status, 200, JSON.stringify(test.body));
    assert.equal(typeof test.body.passed, 'boolean');
    const edited = await carl.call('PUT', '/orgs/acme/applications/notes', httpDefinition('notes', toy.url, { name: 'Team notes' }));
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    assert.equal(edited.body.name, 'Team notes');
    assert.equal(edited.body.orgId, server.org.id, 'an edit keeps the owner');
  });

  it('a plain member: 403 on every route; an owner of another organization: 404', async () => {
    assertError(await bob.call('GET', '/orgs/acme/applications'), 'forbidden', 403);
    assertError(await bob.call('POST', '/orgs/acme/applications', httpDefinition('mine', toy.url)), 'forbidden', 403);
    assertError(await olga.call('GET', '/orgs/acme/applications'), 'not_found', 404);
    for (const [method, path, body] of routesOf('/orgs/acme/applications', 'notes', httpDefinition('notes', toy.url))) {
      assertError(await bob.call(method, path, body), 'forbidden', 403);
      assertError(await olga.call(method, path, body), 'not_found', 404);
    }
  });

  it('an organization\'s admin never reaches another organization\'s or a server-wide application: 404 on every route', async () => {
    for (const slug of ['crm', 'wide', 'no-such-app']) {
      for (const [method, path, body] of routesOf('/orgs/acme/applications', slug, httpDefinition(slug, toy.url))) {
        assertError(await ada.call(method, path, body), 'not_found', 404);
      }
    }
    // Nothing was changed by those attempts.
    assert.equal((await server.store.applications.get('crm'))?.orgId, (await server.store.orgs.bySlug('globex'))?.id);
    assert.ok(await server.store.applications.get('wide'));
  });

  it('an organization\'s admin may not run a command on the server, nor use the server-wide routes', async () => {
    const stdio = { slug: 'shell', name: 'Shell', upstream: { command: 'node', args: ['-e', '1'] } };
    const refused = await ada.call('POST', '/orgs/acme/applications', stdio);
    assertError(refused, 'invalid_request', 400);
    assert.deepEqual(errorPaths(refused), ['upstream.command']);
    assert.equal(await server.store.applications.get('shell'), undefined);
    assertError(await ada.call('PUT', '/orgs/acme/applications/notes', { ...stdio, slug: 'notes' }), 'invalid_request', 400);
    assertError(await ada.call('GET', '/applications'), 'forbidden', 403);
    assertError(await ada.call('POST', '/applications', httpDefinition('sneak', toy.url)), 'forbidden', 403);
    assertError(await ada.call('PUT', '/applications/crm/org', { org: 'acme' }), 'forbidden', 403);
  });

  it('a taken path or slug is refused without naming another organization\'s application', async () => {
    const taken = await ada.call('POST', '/orgs/acme/applications', httpDefinition('mine', toy.url, { path: '/mcp/crm' }));
    assertError(taken, 'path_in_use', 409);
    // The path typed is echoed; the slug of the application holding it (globex's) is not.
    assert.ok(!JSON.stringify(taken.body).replaceAll('/mcp/crm', '').includes('crm'), JSON.stringify(taken.body));
    assertError(await ada.call('POST', '/orgs/acme/applications', httpDefinition('crm', toy.url)), 'already_exists', 409);
  });

  it('a server administrator moves an application into an organization and back; a command-run one stays server-wide', async () => {
    const moved = await root.call('PUT', '/applications/wide/org', { org: 'acme' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.orgId, server.org.id);
    assert.equal((await ada.call('GET', '/orgs/acme/applications/wide')).status, 200);
    assert.equal((await root.call('PUT', '/applications/wide/org', { org: null })).status, 200);
    assertError(await ada.call('GET', '/orgs/acme/applications/wide'), 'not_found', 404);
    assertError(await root.call('PUT', '/applications/wide/org', { org: 'no-such-org' }), 'invalid_request', 400);
    assertError(await root.call('POST', '/applications?org=no-such-org', httpDefinition('lost', toy.url)), 'invalid_request', 400);
    const stdio = { slug: 'runner', name: 'Runner', upstream: { command: 'node', args: ['-e', '1'] } };
    assert.equal((await root.call('POST', '/applications', stdio)).status, 201);
    assertError(await root.call('PUT', '/applications/runner/org', { org: 'acme' }), 'invalid_request', 400);
  });

  it('an owner deletes the organization\'s application; the change is on the organization\'s audit trail', async () => {
    assert.equal((await ada.call('DELETE', '/orgs/acme/applications/notes')).status, 204);
    assert.equal(await server.store.applications.get('notes'), undefined);
    const trail = await ada.call('GET', '/orgs/acme/audit?limit=200');
    assert.equal(trail.status, 200, JSON.stringify(trail.body));
    const kinds = JSON.stringify(trail.body);
    for (const kind of ['application.created', 'tool.reviewed', 'application.updated', 'application.deleted']) assert.ok(kinds.includes(kind), kind);
  });
});

describe('an organization’s application at an internal address (SSRF)', () => {
  let server: TestServer;
  let ada: AdminClient;
  let root: AdminClient;
  before(async () => {
    // No `organizationApplications.allowPrivateUpstreams`: the default.
    server = await startTestServer();
    ada = await adminClient(server, 'ada@example.com', false);
    root = await adminClient(server, 'root@example.com', true);
  });
  after(() => server?.stop());

  it('refuses an org admin’s MCP server on loopback, private, link-local or localhost addresses; a public one is taken', async () => {
    const internal = ['http://127.0.0.1:8080/mcp', 'http://10.1.2.3/mcp', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:9000/mcp', 'http://localhost:3000/mcp', 'https://192.168.0.10/mcp'];
    for (const [i, url] of internal.entries()) {
      const refused = await ada.call('POST', '/orgs/acme/applications', httpDefinition(`internal-${i}`, url));
      assertError(refused, 'invalid_request', 400);
      assert.deepEqual(errorPaths(refused), ['upstream.url'], url);
      assert.equal(await server.store.applications.get(`internal-${i}`), undefined, url);
    }
    assert.equal((await ada.call('POST', '/orgs/acme/applications', httpDefinition('public', 'https://mcp.example.com/mcp'))).status, 201);
    // Nor by changing a public one afterwards.
    assertError(await ada.call('PUT', '/orgs/acme/applications/public', httpDefinition('public', 'http://10.0.0.1/mcp')), 'invalid_request', 400);
    // A server administrator may put a server-wide one anywhere.
    assert.equal((await root.call('POST', '/applications', httpDefinition('internal-wide', 'http://127.0.0.1:8080/mcp'))).status, 201);
  });
});
