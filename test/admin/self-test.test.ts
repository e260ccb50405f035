/**
 * The self-test and the status it leads to, through the admin API against a running server:
 * - a correctly protected application passes every check (no token, resource metadata, garbage
 *   token, another audience, no scopes, with scopes) — over HTTP, and over stdio with an MCP server
 *   from npm (server-memory) — and the self-test never runs a tool;
 * - a misconfigured one fails — and the failing checks are named: an MCP server that is down, a
 *   URL that serves the MCP server without the gateway in front, a URL where nothing answers;
 * - status goes not_verified → needs_review → live, and back to not_verified when the definition
 *   changes or a test fails, and to needs_review when the MCP server adds a tool.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveApplication } from '../../src/core/application.ts';
import { parseDefinition } from '../../src/applications/registry.ts';
import { probeTool, runSelfTest, SELF_TEST_CHECKS, type SelfTestCheck } from '../../src/applications/self-test.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient, DESTRUCTIVE, httpDefinition, mcpCall, mint, startToyMcp, type AdminClient, type ToyMcp } from './support.ts';

const MEMORY_SERVER = join(import.meta.dirname, '..', '..', 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js');

const outcomes = (checks: SelfTestCheck[]) => Object.fromEntries(checks.map((c) => [c.name, c.outcome]));
const failed = (checks: SelfTestCheck[]) => checks.filter((c) => c.outcome === 'fail').map((c) => c.name);

describe('self-test and status', () => {
  let toy: ToyMcp;
  let server: TestServer;
  let admin: AdminClient;

  const status = async (slug: string) => (await admin.call('GET', `/applications/${slug}/status`)).body;
  const selfTest = async (slug: string) => {
    const answer = await admin.call('POST', `/applications/${slug}/test`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as { passed: boolean; checks: SelfTestCheck[]; status: string; url: string };
  };

  before(async () => {
    toy = await startToyMcp();
    server = await startTestServer();
    admin = await adminClient(server);
  });
  after(async () => {
    await server?.stop();
    await toy?.stop();
  });

  it('passes every check for the built-in demo, which is then live', async () => {
    const result = await selfTest('demo');
    assert.deepEqual(result.checks.map((c) => c.name), SELF_TEST_CHECKS);
    assert.equal(result.passed, true, JSON.stringify(result.checks));
    assert.ok(result.checks.every((c) => c.outcome === 'pass'));
    assert.equal(result.url, server.mcpUrl);
    assert.equal(result.status, 'live');
  });

  it('walks an application from not_verified to needs_review to live, without ever running one of its tools', async () => {
    assert.equal((await admin.call('POST', '/applications', httpDefinition('toy', toy.url))).status, 201);
    assert.equal((await admin.call('POST', '/applications/toy/refresh')).status, 200);
    const fresh = await status('toy');
    assert.equal(fresh.status, 'not_verified');
    assert.equal(fresh.selfTest, null);

    const first = await selfTest('toy');
    assert.equal(first.passed, true, JSON.stringify(first.checks));
    // Nothing is approved yet, so there is no tool to be refused; the rest passes.
    assert.deepEqual(outcomes(first.checks), { no_token: 'pass', resource_metadata: 'pass', garbage_token: 'pass', other_audience: 'pass', no_scope_list: 'pass', no_scope_call: 'skip', scoped_call: 'pass' });
    assert.equal(first.status, 'needs_review');

    for (const name of ['lookup', 'erase']) assert.equal((await admin.call('POST', `/applications/toy/tools/${name}/approve`)).status, 200);
    assert.equal((await status('toy')).status, 'live');

    const second = await selfTest('toy');
    assert.equal(second.passed, true, JSON.stringify(second.checks));
    assert.ok(second.checks.every((c) => c.outcome === 'pass'));
    // The refused call goes to the read-only tool, and is refused by the gateway: no tool ran.
    assert.equal(probeTool(resolveApplication(parseDefinition(httpDefinition('toy', toy.url)), server.url), await server.store.tools.list('toy')), 'lookup');
    assert.equal(toy.received('tools/call').length, 0);
    assert.ok(toy.received('initialize').length > 0, 'the scoped session reached the MCP server');

    const live = await status('toy');
    assert.equal(live.status, 'live');
    assert.equal((live.selfTest as { passed: boolean; current: boolean }).passed, true);
    assert.equal((live.selfTest as { current: boolean }).current, true);
  });

  it('goes back to needs_review when the MCP server adds a tool', async () => {
    toy.tools = [...toy.tools, { name: 'shred', description: 'Shred it', annotations: DESTRUCTIVE }];
    const token = await mint(server, `${server.url}/mcp/toy`, ['toy:read', 'toy:delete']);
    assert.deepEqual((await mcpCall(`${server.url}/mcp/toy`, token, 'tools/list')).status, 200);
    const now = await status('toy');
    assert.equal(now.status, 'needs_review');
    assert.deepEqual((now.tools as { needsReview: string[] }).needsReview, ['shred']);
    assert.equal((await admin.call('POST', '/applications/toy/tools/shred/approve')).status, 200);
    assert.equal((await status('toy')).status, 'live');
  });

  it('goes back to not_verified when the definition changes, until a new self-test passes', async () => {
    const current = (await admin.call('GET', '/applications/toy')).body.definition as Record<string, unknown>;
    assert.equal((await admin.call('PUT', '/applications/toy', { ...current, name: 'Toy, renamed' })).status, 200);
    const changed = await status('toy');
    assert.equal(changed.status, 'not_verified');
    assert.equal((changed.selfTest as { current: boolean }).current, false);
    assert.equal((await selfTest('toy')).status, 'live');
  });

  it('passes every check for an MCP server from npm over stdio (server-memory), once its tools are approved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-memory-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const memory = { slug: 'memory', name: 'Memory', upstream: { command: process.execPath, args: [MEMORY_SERVER], env: { MEMORY_FILE_PATH: join(dir, 'memory.json') } } };
    assert.equal((await admin.call('POST', '/applications', memory)).status, 201);
    const refreshed = await admin.call('POST', '/applications/memory/refresh');
    assert.equal(refreshed.status, 200);
    const names = (refreshed.body.tools as { name: string }[]).map((t) => t.name);
    assert.ok(names.includes('read_graph') && names.includes('delete_entities'), names.join());
    for (const name of names) assert.equal((await admin.call('POST', `/applications/memory/tools/${name}/approve`)).status, 200);
    const result = await selfTest('memory');
    assert.equal(result.passed, true, JSON.stringify(result.checks));
    assert.ok(result.checks.every((c) => c.outcome === 'pass'), JSON.stringify(result.checks));
    assert.equal(result.status, 'live');
  });

  it('names the failing checks when the MCP server behind the application is down, and the application is not verified', async () => {
    assert.equal((await admin.call('POST', '/applications', httpDefinition('down', toy.url))).status, 201);
    assert.equal((await admin.call('POST', '/applications/down/refresh')).status, 200);
    for (const name of ['lookup', 'erase', 'shred']) await admin.call('POST', `/applications/down/tools/${name}/approve`);
    assert.equal((await selfTest('down')).status, 'live');

    // The MCP server moves away: the gateway still protects the URL, but nothing is behind it.
    const current = (await admin.call('GET', '/applications/down')).body.definition as Record<string, unknown>;
    assert.equal((await admin.call('PUT', '/applications/down', { ...current, upstream: { url: 'http://127.0.0.1:9/mcp', timeoutMs: 2000 } })).status, 200);
    const result = await selfTest('down');
    assert.equal(result.passed, false);
    assert.deepEqual(failed(result.checks), ['no_scope_list', 'scoped_call']);
    assert.deepEqual(outcomes(result.checks), { no_token: 'pass', resource_metadata: 'pass', garbage_token: 'pass', other_audience: 'pass', no_scope_list: 'fail', no_scope_call: 'skip', scoped_call: 'fail' });
    const after = await status('down');
    assert.equal(after.status, 'not_verified');
    assert.equal((after.selfTest as { passed: boolean }).passed, false);
  });

  it('fails every protection check, by name, when the URL serves the MCP server without the gateway in front', async () => {
    // What an operator gets when the public URL is routed straight to the MCP server.
    const definition = parseDefinition({ slug: 'bare', name: 'Bare', path: '/mcp', upstream: { url: toy.url } });
    const exposed = resolveApplication(definition, new URL(toy.url).origin);
    assert.equal(exposed.resource, toy.url);
    const tools = await server.store.tools.list('toy');
    const result = await runSelfTest({ app: exposed, issuer: server.url, signingKey: () => server.engine.signingKey(), tools: tools.map((t) => ({ ...t, appSlug: 'bare' })) });
    assert.equal(result.passed, false);
    assert.deepEqual(failed(result.checks), ['no_token', 'resource_metadata', 'garbage_token', 'other_audience', 'no_scope_list', 'no_scope_call']);
    assert.equal(outcomes(result.checks).scoped_call, 'pass');
  });

  it('fails the first check and skips the rest when nothing answers at the URL', async () => {
    const definition = parseDefinition({ slug: 'void', name: 'Void', upstream: { url: toy.url } });
    const result = await runSelfTest({ app: resolveApplication(definition, 'http://127.0.0.1:9'), issuer: server.url, signingKey: () => server.engine.signingKey(), tools: [], timeoutMs: 2000 });
    assert.equal(result.passed, false);
    assert.deepEqual(outcomes(result.checks), { no_token: 'fail', resource_metadata: 'skip', garbage_token: 'skip', other_audience: 'skip', no_scope_list: 'skip', no_scope_call: 'skip', scoped_call: 'skip' });
  });
});
