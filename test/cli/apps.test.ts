/**
 * `portcullis apps …` against a running server on the same store — SQLite in a shared data
 * directory always, PostgreSQL in a fresh schema whenever PORTCULLIS_TEST_DATABASE_URL is set:
 * listing and showing applications, the tool manifest, approving and rejecting tools (applied by
 * the running server without a restart), and the self-test against the server's public URL
 * (recorded, so the server's status follows; exit 1 when a check fails).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SelfTestCheck } from '../../src/applications/self-test.ts';
import { type TestServer } from '../helpers/server.ts';
import { adminClient, httpDefinition, mcpCall, mint, startToyMcp, toolNames, waitFor, type AdminClient, type ToyMcp } from '../admin/support.ts';
import { json, oneLineError, runCli, cliTargets } from './run-cli.ts';


interface ToolJson {
  name: string;
  status: string;
  scope: string;
  reviewedBy: string | null;
}

for (const target of cliTargets()) {
  describe(`portcullis apps (${target.dialect})`, { skip: target.skip }, () => {
    let toy: ToyMcp;
    let server: TestServer;
    let admin: AdminClient;
    let env: Record<string, string>;
    let url: string;
    // Self-test tokens live 60 s; CLI child processes on a loaded machine can outlast one, so each
    // use mints its own.
    const token = () => mint(server, url, ['toy:read', 'toy:write', 'toy:delete']);
    const cli = (...args: string[]) => runCli(['apps', ...args], { env });

    before(async () => {
      toy = await startToyMcp();
      const started = await target.start();
      server = started.server;
      // The CLI knows the server's public URL from its configuration, as an operator's would.
      env = { ...started.cliEnv, PORTCULLIS_PUBLIC_URL: server.url };
      admin = await adminClient(server);
      assert.equal((await admin.call('POST', '/applications', httpDefinition('toy', toy.url))).status, 201);
      assert.equal((await admin.call('POST', '/applications/toy/refresh')).status, 200);
      url = `${server.url}/mcp/toy`;
    });
    after(async () => {
      await server?.stop();
      await toy?.stop();
    });

    it('lists the applications with their source and status', async () => {
      const listed = await cli('list', '--json');
      assert.equal(listed.code, 0, listed.stderr);
      const apps = json<{ slug: string; source: string; status: string; url: string; tools: { total: number; needsReview: number } }[]>(listed);
      assert.deepEqual(apps.map((a) => [a.slug, a.source, a.status]), [['demo', 'builtin', 'not_verified'], ['toy', 'api', 'not_verified']]);
      assert.deepEqual(apps.find((a) => a.slug === 'toy')?.tools, { total: 2, needsReview: 2 });
      assert.equal(apps.find((a) => a.slug === 'toy')?.url, url);
      const human = await cli('list');
      assert.equal(human.code, 0);
      assert.match(human.stdout, /^SLUG\s+NAME\s+PATH\s+SOURCE\s+ORG\s+STATUS\s+TOOLS$/m);
      assert.match(human.stdout, /^toy\s+Toy toy\s+\/mcp\/toy\s+api\s+-\s+not_verified\s+2 \(2 to review\)$/m);
    });

    it('gives an application to an organization and back; lists one organization\'s applications', async () => {
      const usage = await cli('move', 'toy');
      assert.equal(usage.code, 2, 'neither --org nor --server');
      const unknown = await cli('move', 'toy', '--org', 'no-such-org');
      assert.equal(unknown.code, 1);
      oneLineError(unknown);
      const moved = await cli('move', 'toy', '--org', 'acme');
      assert.equal(moved.code, 0, moved.stderr);
      const acme = json<{ slug: string; org: string | null }[]>(await cli('list', '--org', 'acme', '--json'));
      assert.deepEqual(acme.map((a) => [a.slug, a.org]), [['toy', 'acme']]);
      assert.match((await cli('show', 'toy')).stdout, /^\s+managed by\s+organization acme$/m);
      // The organization's owner (ada) now manages it through the admin API.
      const ada = await adminClient(server, 'ada@example.com', false);
      assert.equal((await ada.call('GET', '/orgs/acme/applications/toy')).status, 200);
      const back = await cli('move', 'toy', '--server');
      assert.equal(back.code, 0, back.stderr);
      assert.equal((await ada.call('GET', '/orgs/acme/applications/toy')).status, 404);
      assert.deepEqual(json<unknown[]>(await cli('list', '--org', 'acme', '--json')), []);
    });

    it('shows one application, and fails with one line for an unknown one', async () => {
      const [shown, human, unknown] = await Promise.all([cli('show', 'toy', '--json'), cli('show', 'toy'), cli('show', 'nope')]);
      assert.equal(shown.code, 0, shown.stderr);
      const detail = json<{ slug: string; url: string; scopes: { name: string }[]; statusDetail: { status: string; selfTest: unknown } }>(shown);
      assert.equal(detail.url, url);
      assert.deepEqual(detail.scopes.map((s) => s.name), ['toy:read', 'toy:write', 'toy:delete']);
      assert.deepEqual([detail.statusDetail.status, detail.statusDetail.selfTest], ['not_verified', null]);
      assert.equal(human.code, 0);
      assert.match(human.stdout, /^\s+status\s+not_verified — /m);
      assert.equal(unknown.code, 1);
      oneLineError(unknown);
    });

    it('lists the tool manifest with each tool\'s status and scope', async () => {
      const listed = await cli('tools', 'toy', '--json');
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(json<ToolJson[]>(listed).map((t) => [t.name, t.status, t.scope]), [['erase', 'needs_review', 'toy:delete'], ['lookup', 'needs_review', 'toy:read']]);
      const human = await cli('tools', 'toy');
      assert.match(human.stdout, /^lookup\s+needs_review\s+toy:read\s/m);
    });

    it('approves tools — all or nothing — and the running server serves them without a restart', async () => {
      const partly = await cli('approve', 'toy', 'lookup', 'nope');
      assert.equal(partly.code, 1);
      oneLineError(partly);
      assert.ok(json<ToolJson[]>(await cli('tools', 'toy', '--json')).every((t) => t.status === 'needs_review'), 'nothing approved');

      const approved = await cli('approve', 'toy', 'lookup', 'erase');
      assert.equal(approved.code, 0, approved.stderr);
      const tools = json<ToolJson[]>(await cli('tools', 'toy', '--json'));
      assert.ok(tools.every((t) => t.status === 'approved' && t.reviewedBy?.startsWith('cli')), JSON.stringify(tools));
      await waitFor(async () => toolNames(await mcpCall(url, await token(), 'tools/list')).join() === 'erase,lookup', 'the server to show the approved tools');
    });

    it('sends a tool back to review: the server hides it again', async () => {
      const rejected = await cli('reject', 'toy', 'erase');
      assert.equal(rejected.code, 0, rejected.stderr);
      await waitFor(async () => toolNames(await mcpCall(url, await token(), 'tools/list')).join() === 'lookup', 'the server to hide the rejected tool');
      assert.equal((await cli('reject', 'toy', 'nope')).code, 1);
    });

    it('self-tests the application at the running server, records the result, and exits 0 when every check passes', async () => {
      const tested = await cli('test', 'toy', '--json');
      assert.equal(tested.code, 0, tested.stdout + tested.stderr);
      const result = json<{ passed: boolean; checks: SelfTestCheck[]; status: string }>(tested);
      assert.equal(result.passed, true);
      assert.ok(result.checks.every((c) => c.outcome === 'pass'), JSON.stringify(result.checks));
      assert.equal(result.status, 'needs_review');
      // The server sees the recorded result.
      const status = await admin.call('GET', '/applications/toy/status');
      assert.equal(status.body.status, 'needs_review');
      assert.equal((status.body.selfTest as { passed: boolean }).passed, true);
      const human = await cli('test', 'toy', '--url', server.url);
      assert.equal(human.code, 0);
      assert.match(human.stdout, /^\s+ok\s+scoped_call\s/m);
    });

    it('exits 1 and names the failing checks when the application is misconfigured', async () => {
      assert.equal((await admin.call('POST', '/applications', httpDefinition('down', 'http://127.0.0.1:9/mcp', { upstream: { url: 'http://127.0.0.1:9/mcp', timeoutMs: 2000 } }))).status, 201);
      const tested = await cli('test', 'down', '--json');
      assert.equal(tested.code, 1);
      const result = json<{ passed: boolean; checks: SelfTestCheck[]; status: string }>(tested);
      assert.equal(result.passed, false);
      assert.deepEqual(result.checks.filter((c) => c.outcome === 'fail').map((c) => c.name), ['no_scope_list', 'scoped_call']);
      assert.equal(result.status, 'not_verified');
      const human = await cli('test', 'down');
      assert.equal(human.code, 1);
      assert.match(human.stdout, /^\s+FAIL\s+scoped_call\s/m);
    });

    it('refuses a wrong command line (exit 2) and an unknown application (exit 1)', async () => {
      const [noTool, badUrl, noSlug, unknown] = await Promise.all([cli('approve', 'toy'), cli('test', 'toy', '--url', 'ftp://example.com'), cli('test'), cli('test', 'nope')]);
      assert.deepEqual([noTool.code, badUrl.code, noSlug.code], [2, 2, 2]);
      assert.equal(unknown.code, 1);
      oneLineError(unknown);
    });
  });
}
