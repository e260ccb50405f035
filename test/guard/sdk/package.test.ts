/**
 * The guard as an application gets it from npm: `npm pack` (whose prepack builds dist/), the
 * tarball unpacked into a fresh project's node_modules — its dependencies linked from this
 * repository's, since a test must not depend on the registry — and then:
 *
 *   - the README's "Protect your own MCP server" snippet, exactly as written there (only the
 *     issuer, resource and port replaced), run with plain Node 24 with type stripping turned off:
 *     it verifies real Portcullis tokens, filters tools/list, refuses a tool beyond the token;
 *   - the README's "Sign in from your own stdio MCP server" snippet (`portcullis/device-login`), exactly
 *     as written there (only the issuer, resource and backend URLs replaced, and the stdio
 *     connection appended), run the same way and driven by an MCP SDK client over stdio: sign in
 *     with a code, then the author's tool calls its backend with a token for the right audience;
 *   - every `portcullis/guard*` and `portcullis/device-login` entry point type-checks for a
 *     TypeScript consumer.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { resourceMetadataUrl } from '../../../src/shared/resource-metadata.ts';
import { approveDeviceOverHttp, deviceStep } from '../../helpers/device.ts';
import { startTestServer } from '../../helpers/server.ts';
import { challengeOf, rpc, sleep, startWorld, type GuardWorld } from './fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');

/** The first ```js block of a README section (default "Protect your own MCP server"). */
function readmeSnippet(title = 'Protect your own MCP server'): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith(title));
  assert.ok(section, 'the README has the section');
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'the section has a js snippet');
  return block;
}

/** Replace `from` by `to`, which must occur exactly once (so the README cannot drift from the test). */
function replaceOnce(text: string, from: string, to: string): string {
  const parts = text.split(from);
  assert.equal(parts.length, 2, `expected exactly one ${from} in the README snippet`);
  return parts.join(to);
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('guard SDK: the published package', () => {
  let world: GuardWorld;
  let project: string;
  let child: ChildProcess | undefined;
  let stderr = '';

  before(async () => {
    world = await startWorld({ start: startTestServer });
    project = mkdtempSync(join(tmpdir(), 'portcullis-guard-consumer-'));

    // npm pack runs prepack (scripts/build-guard.ts) first, as it does when publishing.
    const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', project], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(packed.status, 0, packed.stderr);
    const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    assert.ok(paths.includes('dist/sdk/guard/index.js') && paths.includes('dist/sdk/guard/index.d.ts'), 'the tarball carries the built guard');
    assert.ok(!paths.some((p) => p.startsWith('test/') || p.startsWith('data/')), 'and no tests or data');

    // What `npm install <tarball>` lays down, without asking the registry for dependencies.
    const installed = join(project, 'node_modules', 'portcullis');
    mkdirSync(installed, { recursive: true });
    const untar = spawnSync('tar', ['-xzf', join(project, filename), '-C', installed, '--strip-components=1']);
    assert.equal(untar.status, 0, String(untar.stderr));
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (name === 'node' || name === '.bin' || name === 'portcullis') continue;
      symlinkSync(join(ROOT, 'node_modules', name), join(project, 'node_modules', name));
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  });

  after(async () => {
    child?.kill('SIGTERM');
    await world?.server.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('runs the README snippet with plain Node 24: real tokens verified, tools filtered, a call beyond the token refused', async () => {
    const port = await freePort();
    let code = readmeSnippet();
    code = replaceOnce(code, "'https://auth.example.com'", JSON.stringify(world.server.url));
    code = replaceOnce(code, "'https://notes.example.com/mcp'", JSON.stringify(world.resource));
    code = replaceOnce(code, '.listen(3000)', `.listen(${port}, '127.0.0.1')`);
    writeFileSync(join(project, 'server.mjs'), code);

    // No type stripping: everything imported from the package must be JavaScript.
    child = spawn(NODE, ['--no-experimental-strip-types', 'server.mjs'], { cwd: project, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const path = new URL(world.resource).pathname;
    const url = `http://127.0.0.1:${port}${path}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      assert.equal(child.exitCode, null, `the snippet exited: ${stderr}`);
      const answer = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource${path}`).catch(() => undefined);
      if (answer?.status === 200) {
        assert.equal(((await answer.json()) as { resource?: string }).resource, world.resource);
        break;
      }
      await answer?.arrayBuffer();
      assert.ok(Date.now() < deadline, `the snippet did not start: ${stderr}`);
      await sleep(50);
    }

    const anonymous = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    assert.equal(anonymous.status, 401);
    assert.equal(challengeOf(anonymous).resource_metadata, resourceMetadataUrl(world.resource));

    const { access_token } = await world.tokens('notes:read');
    const listed = await rpc(url, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, access_token);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual((listed.body.result as { tools: { name: string }[] }).tools.map((t) => t.name), ['read_notes']);

    const read = await rpc(url, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'read_notes', arguments: {} } }, access_token);
    assert.equal(read.status, 200, read.text);
    assert.equal((read.body.result as { content: { text: string }[] }).content[0]!.text, `Notes of ${world.server.user.id}`);

    const add = await rpc(url, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'add_note', arguments: {} } }, access_token);
    assert.equal(add.status, 403, add.text);
    assert.equal(challengeOf(add).error, 'insufficient_scope');
    assert.equal(challengeOf(add).scope, 'notes:read notes:write');
  });

  it('runs the README device-login snippet with plain Node 24 over stdio: signed in with a code, the tool reaches its backend with a token for the resource', async () => {
    // The author's backend: answers with the claims of the token it was sent, once verified.
    const jwks = createRemoteJWKSet(new URL(`${world.server.url}/oauth/jwks`));
    const backend = createHttpServer((req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      jwtVerify(token, jwks, { issuer: world.server.url, typ: 'at+jwt' }).then(
        ({ payload }) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: payload.sub, aud: payload.aud })),
        () => res.writeHead(401).end('refused'),
      );
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/notes`;
    let code = readmeSnippet('Sign in from your own stdio MCP server');
    code = replaceOnce(code, "'https://auth.example.com'", JSON.stringify(world.server.url));
    code = replaceOnce(code, "'https://api.example.com/mcp'", JSON.stringify(world.resource));
    code = replaceOnce(code, "'https://api.example.com/notes'", JSON.stringify(backendUrl));
    // What the snippet leaves to the author: serving it on stdio.
    code += "\nimport { StdioServerTransport } from '@modelcontextprotocol/server/stdio';\nawait server.connect(new StdioServerTransport());\n";
    writeFileSync(join(project, 'stdio-server.mjs'), code);

    const authDir = mkdtempSync(join(tmpdir(), 'portcullis-kit-auth-'));
    const transport = new StdioClientTransport({
      command: NODE,
      args: ['--no-experimental-strip-types', 'stdio-server.mjs'],
      cwd: project,
      env: { ...(process.env as Record<string, string>), PORTCULLIS_AUTH_FILE: join(authDir, 'auth.json'), PORTCULLIS_NO_BROWSER: '1' },
      stderr: 'pipe',
    });
    let kitStderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (kitStderr += chunk.toString('utf8')));
    const client = new Client({ name: 'host', version: '1' });
    try {
      await client.connect(transport);
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(names, ['auth_complete', 'auth_login', 'auth_logout', 'auth_status', 'auth_switch', 'list_notes']);
      type Result = { isError?: boolean; content: { text?: string }[]; structuredContent?: Record<string, unknown> };
      const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as Result;

      const before = await call('list_notes');
      assert.equal(before.isError, true, 'the tool needs a sign-in first');

      const login = await call('auth_login');
      assert.equal(login.isError, undefined, kitStderr);
      const userCode = String(login.structuredContent?.user_code);
      const approval = await approveDeviceOverHttp(world.server, userCode, { email: world.server.user.email, password: world.server.password });
      assert.equal(deviceStep(approval.page.body), 'approved');
      const done = await call('auth_complete', { wait_seconds: 15 });
      assert.equal(done.structuredContent?.status, 'signed_in', JSON.stringify(done));

      const notes = await call('list_notes');
      assert.equal(notes.isError, undefined, JSON.stringify(notes));
      const claims = JSON.parse(notes.content[0]!.text!) as { sub: string; aud: string | string[] };
      assert.equal(claims.sub, world.server.user.id);
      assert.ok([claims.aud].flat().includes(world.resource), `audience ${JSON.stringify(claims.aud)}`);
    } finally {
      await client.close().catch(() => {});
      backend.close();
      rmSync(authDir, { recursive: true, force: true });
    }
  });

  it('every portcullis/guard entry point type-checks for a TypeScript consumer', () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      [
        "import { createGuard, type Guard, type GuardIdentity } from 'portcullis/guard';",
        "import { protectNode } from 'portcullis/guard/node';",
        "import { guardExpress } from 'portcullis/guard/express';",
        "import { guardHono, type GuardEnv } from 'portcullis/guard/hono';",
        "import { protectMcp, toolScope } from 'portcullis/guard/mcp';",
        "import { addDeviceLogin, isDeviceLoginError } from 'portcullis/device-login';",
        "const guard: Guard = createGuard({ issuer: 'https://a.example', resource: 'https://b.example/mcp', scopesSupported: [], toolScopes: {} });",
        'const who = async (h: string): Promise<string | undefined> => { const r = await guard.authenticate(h); return r.ok ? (r.identity satisfies GuardIdentity).subject : undefined; };',
        'export const uses = [who, protectNode, guardExpress, guardHono, protectMcp, toolScope, addDeviceLogin, isDeviceLoginError] as const;',
        'export type Env = GuardEnv;',
        '// @ts-expect-error the resource is a string',
        'export const wrong: number = guard.resource;',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2024', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['consumer.ts'] }),
    );
    const checked = spawnSync(NODE, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  });
});
