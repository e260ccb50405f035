/**
 * `portcullis connect` as an MCP client sees it: a stdio server spawned by a real MCP SDK client
 * (v1 speaking 2025-06-18, v2 speaking 2026-07-28), which signs the user in with a code approved
 * in the browser, then forwards tools/list (filtered by the user's permissions) and tools/call
 * through the gateway — surviving restarts, renewing tokens, noticing revocation, logging out,
 * switching accounts, and taking PORTCULLIS_TOKEN in CI.
 */
import { CLI_CLIENT_ID } from '../../src/shared/cli-client.ts';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1Stdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as V2Client } from '@modelcontextprotocol/client';
import { StdioClientTransport as V2Stdio } from '@modelcontextprotocol/client/stdio';
import type { Browser } from 'playwright-core';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { AuthFile } from '../../src/sdk/device-login/auth-file.ts';
import { issueApiKey } from '../../src/api-keys/service.ts';
import { postForm } from '../helpers/authz.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { approveDeviceInBrowser, approveDeviceOverHttp } from '../helpers/device.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const BIN = join(ROOT, 'bin', 'portcullis.js');

interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: any;
}

interface Bridge {
  toolNames(): Promise<string[]>;
  call(name: string, args?: Record<string, unknown>): Promise<ToolResult>;
  /** `notifications/tools/list_changed` received so far (v1 client). */
  listChanged: number;
  stderr(): string;
  close(): Promise<void>;
}

function authFilePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'portcullis-connect-')), 'auth.json');
}

/** Spawn `portcullis connect` the way an MCP client does: the only environment is what we give it. */
async function spawnBridge(server: TestServer, sdk: 'v1' | 'v2', env: Record<string, string>): Promise<Bridge> {
  const params = {
    command: NODE,
    args: [BIN, 'connect', server.mcpUrl],
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), PORTCULLIS_NO_BROWSER: '1', ...env },
    stderr: 'pipe' as const,
  };
  let stderr = '';
  const bridge = { listChanged: 0, stderr: () => stderr } as Bridge;
  if (sdk === 'v1') {
    const transport = new V1Stdio(params);
    // A client that only speaks 2025-06-18: its initialize offers that version.
    const send = transport.send.bind(transport);
    transport.send = (message: Parameters<typeof send>[0]) => {
      if ('method' in message && message.method === 'initialize') (message.params as { protocolVersion: string }).protocolVersion = '2025-06-18';
      return send(message);
    };
    const client = new V1Client({ name: 'stdio-only client (2025-06-18)', version: '1.0.0' });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      bridge.listChanged++;
    });
    transport.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    await client.connect(transport);
    assert.equal(client.getServerVersion()?.name, 'portcullis-connect');
    Object.assign(bridge, {
      toolNames: async () => (await client.listTools()).tools.map((t) => t.name),
      call: async (name: string, args = {}) => (await client.callTool({ name, arguments: args })) as ToolResult,
      close: () => client.close(),
    });
    return bridge;
  }
  const transport = new V2Stdio(params);
  const client = new V2Client({ name: 'stdio client (2026-07-28)', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  transport.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  await client.connect(transport);
  assert.equal(client.getProtocolEra(), 'modern', 'the v2 client speaks 2026-07-28 with the bridge');
  Object.assign(bridge, {
    toolNames: async () => (await client.listTools()).tools.map((t) => t.name),
    call: async (name: string, args = {}) => (await client.callTool({ name, arguments: args })) as ToolResult,
    close: () => client.close(),
  });
  return bridge;
}

const AUTH_TOOLS = ['auth_login', 'auth_complete', 'auth_status', 'auth_logout', 'auth_switch'];
const ADA_TOOLS = [...AUTH_TOOLS, 'list_projects', 'list_notes', 'read_note', 'create_project', 'write_note'];

/** auth_login → approve over HTTP as `email` → auth_complete. */
async function signIn(server: TestServer, bridge: Bridge, email = server.user.email): Promise<ToolResult> {
  const login = await bridge.call('auth_login');
  assert.equal(login.structuredContent.status, 'pending');
  const approval = await approveDeviceOverHttp(server, login.structuredContent.user_code, { email, password: TEST_PASSWORD });
  assert.match(approval.page.body, /<main id="device-approved"/);
  const done = await bridge.call('auth_complete', { wait_seconds: 10 });
  assert.equal(done.structuredContent?.status, 'signed_in', JSON.stringify(done));
  return done;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * A test server for the suite and the bridges spawned against it, all closed after the suite.
 * Call from a describe body.
 */
function suiteWithBridges(config: Parameters<typeof startTestServer>[0] = {}) {
  let server: TestServer | undefined;
  const open: Bridge[] = [];
  before(async () => {
    server = await startTestServer(config);
  });
  after(async () => {
    for (const b of open) await b.close().catch(() => {});
    await server?.stop();
  });
  return {
    server: () => server!,
    async bridge(sdk: 'v1' | 'v2', env: Record<string, string>): Promise<Bridge> {
      const b = await spawnBridge(server!, sdk, env);
      open.push(b);
      return b;
    },
  };
}

describe('portcullis connect', () => {
  // 3-second access tokens: every story here outlives a few of them, so the bridge must renew.
  const suite = suiteWithBridges({ tokens: { accessTokenTtl: 3 } });
  const bridge = suite.bridge;
  let server: TestServer;
  before(() => {
    server = suite.server();
  });

  for (const sdk of ['v1', 'v2'] as const) {
    it(`${sdk}: before sign-in only the auth tools are listed and other tools say how to sign in; after it the gateway's tools appear and work`, async () => {
      const b = await bridge(sdk, { PORTCULLIS_AUTH_FILE: authFilePath() });
      assert.deepEqual(await b.toolNames(), AUTH_TOOLS);
      const refused = await b.call('list_projects');
      assert.equal(refused.isError, true);
      assert.equal(refused.structuredContent.code, 'not_signed_in');
      assert.match(refused.content[0]!.text!, /auth_login/);

      const done = await signIn(server, b);
      assert.equal(done.structuredContent.user.email, 'ada@example.com');
      assert.equal(done.structuredContent.org.slug, 'acme');
      assert.deepEqual(await b.toolNames(), ADA_TOOLS);
      const created = await b.call('create_project', { name: `Launch ${sdk}` });
      assert.equal(created.isError, undefined, JSON.stringify(created));
      const listed = await b.call('list_projects');
      assert.match(JSON.stringify(listed.content), new RegExp(`Launch ${sdk}`));
      if (sdk === 'v1') await until(() => b.listChanged >= 1, 'tools/list_changed after sign-in');
    });
  }

  // As every browser test here: not registered (one diagnostic line) where the machine has no
  // Chromium and none was asked for; never skipped (test/helpers/chromium.ts).
  it('the user approves the code in Chromium, from the verification link the bridge gave', { skip: chromiumSkip() }, async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const path = authFilePath();
      const b = await bridge('v1', { PORTCULLIS_AUTH_FILE: path });
      const login = await b.call('auth_login');
      assert.equal(login.structuredContent.browser_opened, false, 'PORTCULLIS_NO_BROWSER is honoured');
      assert.match(login.content[0]!.text!, new RegExp(login.structuredContent.user_code));
      const outcome = await approveDeviceInBrowser(browser, login.structuredContent.verification_uri_complete, {
        email: 'ada@example.com',
        password: TEST_PASSWORD,
        userCode: login.structuredContent.user_code,
      });
      assert.equal(outcome, 'approved');
      const done = await b.call('auth_complete', { wait_seconds: 10 });
      assert.equal(done.structuredContent.status, 'signed_in');
      assert.deepEqual(await b.toolNames(), ADA_TOOLS);
      assert.equal(statSync(path).mode & 0o777, 0o600);
    } finally {
      await browser?.close();
    }
  });

  it('a member who may only view one workspace sees only the read tools', async () => {
    const viewer = await server.addUser('vera@example.com', TEST_PASSWORD, { role: 'member' });
    const workspace = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'workspace', parentId: null, name: 'Research', at: Math.floor(Date.now() / 1000) });
    await server.store.orgs.setResourceMember(workspace.id, viewer.id, 'viewer', Math.floor(Date.now() / 1000));
    const b = await bridge('v1', { PORTCULLIS_AUTH_FILE: authFilePath() });
    const done = await signIn(server, b, 'vera@example.com');
    assert.equal(done.structuredContent.org.role, 'member');
    assert.deepEqual(await b.toolNames(), [...AUTH_TOOLS, 'list_projects', 'list_notes', 'read_note']);
  });

  it('stays signed in across restarts and renews expired access tokens by itself', async () => {
    const path = authFilePath();
    const first = await bridge('v1', { PORTCULLIS_AUTH_FILE: path });
    await signIn(server, first);
    const issued = new AuthFile(path).read().accounts[0]!.accessToken;
    await first.close();

    await sleep(3500); // the access token has expired
    const second = await bridge('v2', { PORTCULLIS_AUTH_FILE: path });
    assert.deepEqual(await second.toolNames(), ADA_TOOLS, 'a new bridge process is still signed in');
    const status = await second.call('auth_status');
    assert.equal(status.structuredContent.status, 'signed_in');
    assert.equal(status.structuredContent.user.email, 'ada@example.com');
    assert.equal((await second.call('list_projects')).isError, undefined);
    assert.notEqual(new AuthFile(path).read().accounts[0]!.accessToken, issued, 'the token was renewed and saved');
  });

  it('when the sign-in is revoked at the server, the next call reports signed out and the remote tools go away', async () => {
    const path = authFilePath();
    const b = await bridge('v1', { PORTCULLIS_AUTH_FILE: path });
    await signIn(server, b);
    assert.equal((await b.call('list_projects')).isError, undefined);
    const changedBefore = b.listChanged;
    // "Disconnect" elsewhere: the grant is revoked (RFC 7009 on the refresh token ends the grant).
    const { refreshToken } = new AuthFile(path).read().accounts[0]!;
    const revoked = await postForm(`${server.url}/oauth/revoke`, { token: refreshToken, token_type_hint: 'refresh_token' }, { client_id: CLI_CLIENT_ID, token_endpoint_auth_method: 'none' });
    assert.equal(revoked.status, 200);
    await sleep(300); // the gateway's revocation list catches up (it polls every 250 ms)
    const after = await b.call('list_projects');
    assert.equal(after.isError, true);
    assert.equal(after.structuredContent.code, 'signed_out');
    assert.match(after.content[0]!.text!, /auth_login/);
    assert.deepEqual(await b.toolNames(), AUTH_TOOLS);
    await until(() => b.listChanged > changedBefore, 'tools/list_changed after the sign-out');
    assert.deepEqual(new AuthFile(path).read().accounts, [], 'the dead tokens are gone from the file');
  });

  it('auth_logout revokes the tokens at the server and removes them locally', async () => {
    const path = authFilePath();
    const b = await bridge('v2', { PORTCULLIS_AUTH_FILE: path });
    await signIn(server, b);
    const { refreshToken } = new AuthFile(path).read().accounts[0]!;
    const out = await b.call('auth_logout');
    assert.equal(out.structuredContent.status, 'signed_out');
    assert.equal(out.structuredContent.revoked, true);
    assert.deepEqual(await b.toolNames(), AUTH_TOOLS);
    assert.ok(!readFileSync(path, 'utf8').includes(refreshToken!));
    const refresh = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: refreshToken }, { client_id: CLI_CLIENT_ID, token_endpoint_auth_method: 'none' });
    assert.equal(refresh.body.error, 'invalid_grant');
  });

  it('two accounts: auth_switch changes whose permissions the tools run with', async () => {
    await server.addUser('max@example.com', TEST_PASSWORD, { role: 'member' });
    const b = await bridge('v1', { PORTCULLIS_AUTH_FILE: authFilePath() });
    await signIn(server, b, 'ada@example.com');
    await signIn(server, b, 'max@example.com');
    // max is a member without any resource membership: no demo tool at all.
    assert.deepEqual(await b.toolNames(), AUTH_TOOLS);
    const status = await b.call('auth_status');
    assert.equal(status.structuredContent.user.email, 'max@example.com');
    assert.deepEqual(status.structuredContent.accounts.map((a: { user: { email: string } }) => a.user.email).sort(), ['ada@example.com', 'max@example.com']);
    const changed = b.listChanged;
    const switched = await b.call('auth_switch', { account: 'ada@example.com' });
    assert.equal(switched.structuredContent.user.email, 'ada@example.com');
    assert.deepEqual(await b.toolNames(), ADA_TOOLS);
    assert.equal((await b.call('auth_status')).structuredContent.user.email, 'ada@example.com');
    await until(() => b.listChanged > changed, 'tools/list_changed after the switch');
    const unknown = await b.call('auth_switch', { account: 'nobody@example.com' });
    assert.equal(unknown.structuredContent.code, 'unknown_account');
  });

  it('a token file others can read is not used: the tools say why, with its code', async () => {
    const path = authFilePath();
    const first = await bridge('v1', { PORTCULLIS_AUTH_FILE: path });
    await signIn(server, first);
    chmodSync(path, 0o644);
    const b = await bridge('v1', { PORTCULLIS_AUTH_FILE: path });
    assert.deepEqual(await b.toolNames(), AUTH_TOOLS, 'the possibly leaked tokens are not used');
    assert.equal((await b.call('list_projects')).structuredContent.code, 'auth_file_insecure');
    assert.equal((await b.call('auth_status')).structuredContent.code, 'auth_file_insecure');
  });
});

describe('portcullis connect with PORTCULLIS_TOKEN (CI)', () => {
  // Default (30-minute) access tokens: a token handed to CI is used as is, never renewed.
  const suite = suiteWithBridges();
  const bridge = suite.bridge;
  let server: TestServer;
  before(() => {
    server = suite.server();
  });

  it('a PORTCULLIS_TOKEN the server refuses: only the auth tools, and calls say the token was refused', async () => {
    const b = await bridge('v1', { PORTCULLIS_AUTH_FILE: authFilePath(), PORTCULLIS_TOKEN: 'pcs_0000000000000000000000000000000000000000' });
    assert.deepEqual(await b.toolNames(), AUTH_TOOLS);
    const refused = await b.call('list_projects');
    assert.equal(refused.isError, true);
    assert.equal(refused.structuredContent.code, 'signed_out');
    assert.match(refused.content[0]!.text!, /PORTCULLIS_TOKEN/);
    assert.ok(!b.stderr().includes('pcs_0000'), 'the token is not logged');
  });

  it('PORTCULLIS_TOKEN: an API key or an access token is used instead of signing in, and never printed', async () => {
    const secrets = loadRootSecret({ secretKey: server.config.secretKey, dataDir: server.config.dataDir }).secrets;
    const { secret } = await issueApiKey(
      { store: server.store, pepper: secrets.pepper, now: () => Math.floor(Date.now() / 1000) } as never,
      { orgId: server.org.id, userId: server.user.id },
      { name: 'ci', permissions: { mode: 'simple', level: 'read' } },
    );
    const withKey = await bridge('v1', { PORTCULLIS_AUTH_FILE: authFilePath(), PORTCULLIS_TOKEN: secret });
    const names = await withKey.toolNames();
    assert.ok(names.includes('list_projects') && !names.includes('write_note'), `a read key lists read tools: ${names}`);
    assert.equal((await withKey.call('list_projects')).isError, undefined);
    const status = await withKey.call('auth_status');
    assert.equal(status.structuredContent.source, 'environment');
    assert.ok(!JSON.stringify(status).includes(secret));
    const login = await withKey.call('auth_login');
    assert.equal(login.structuredContent.code, 'token_from_environment');

    // An access token obtained elsewhere (a CI job's own device sign-in).
    const path = authFilePath();
    const signer = await bridge('v1', { PORTCULLIS_AUTH_FILE: path });
    await signIn(server, signer);
    const accessToken = new AuthFile(path).read().accounts[0]!.accessToken;
    const withToken = await bridge('v2', { PORTCULLIS_AUTH_FILE: authFilePath(), PORTCULLIS_TOKEN: accessToken });
    assert.deepEqual(await withToken.toolNames(), ADA_TOOLS);
    for (const b of [withKey, withToken]) {
      assert.ok(!b.stderr().includes(secret) && !b.stderr().includes(accessToken), 'the token never reaches the logs');
    }
  });
});
