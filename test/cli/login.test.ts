/**
 * `portcullis login | whoami | logout` at a terminal: the code is printed, the user approves it
 * in a browser, the tokens land in the token file; whoami and logout read the same file, and the
 * exit codes say what happened (0 done / signed in, 1 not, 2 wrong command line).
 */
import { CLI_CLIENT_ID } from '../../src/shared/cli-client.ts';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AuthFile } from '../../src/sdk/device-login/auth-file.ts';
import { postForm } from '../helpers/authz.ts';
import { approveDeviceOverHttp } from '../helpers/device.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { cleanEnv, MAIN, NODE, oneLineError, runCli, tempDir, type CliResult } from './run-cli.ts';

/** Run `portcullis login`, approving (or denying) the code it prints as soon as it prints it. */
function loginApproving(server: TestServer, env: Record<string, string>, decision: 'approve' | 'deny' = 'approve', extra: string[] = []): Promise<CliResult & { userCode?: string }> {
  const child = spawn(NODE, [MAIN, 'login', server.mcpUrl, ...extra], { env: { ...cleanEnv(), PORTCULLIS_NO_BROWSER: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let userCode: string | undefined;
  const onOutput = () => {
    const code = /confirm the code: (\S+)/.exec(stdout + stderr)?.[1];
    if (code && !userCode) {
      userCode = code;
      void approveDeviceOverHttp(server, code, { email: server.user.email, password: TEST_PASSWORD, decision });
    }
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    onOutput();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    onOutput();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, userCode }));
  });
}

describe('portcullis login, whoami, logout', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('login prints the link and code, waits for approval, and saves the tokens privately; whoami tells who; logout revokes', async () => {
    const path = join(tempDir(), 'auth.json');
    const env = { PORTCULLIS_AUTH_FILE: path };
    const login = await loginApproving(server, env);
    assert.equal(login.code, 0, login.stderr);
    assert.ok(login.userCode);
    assert.match(login.stdout, new RegExp(`${server.url}/device`));
    assert.match(login.stdout, /Signed in to .* as ada@example\.com \(Acme, owner\)/);
    assert.equal(statSync(path).mode & 0o777, 0o600);

    const who = await runCli(['whoami'], { env });
    assert.equal(who.code, 0);
    assert.match(who.stdout, /user: +ada@example\.com/);
    assert.match(who.stdout, /org: +Acme \(owner\)/);
    assert.match(who.stdout, new RegExp(`server: +${server.mcpUrl}`));
    assert.match(who.stdout, /expires: +\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z/);
    const json = JSON.parse((await runCli(['whoami', server.mcpUrl, '--json'], { env })).stdout);
    assert.equal(json[0].user.email, 'ada@example.com');
    assert.equal(json[0].org.slug, 'acme');
    assert.equal((await runCli(['whoami', 'https://elsewhere.example.com/mcp'], { env })).code, 1, 'not signed in there');

    const { refreshToken } = new AuthFile(path).read().accounts[0]!;
    const logout = await runCli(['logout'], { env });
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, /Signed out ada@example\.com/);
    const refresh = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: refreshToken }, { client_id: CLI_CLIENT_ID, token_endpoint_auth_method: 'none' });
    assert.equal(refresh.body.error, 'invalid_grant', 'the server no longer honours the tokens');
    const after = await runCli(['whoami'], { env });
    assert.equal(after.code, 1);
    assert.match(after.stdout, /Not signed in/);
  });

  it('login --json keeps stdout one JSON document (the code goes to stderr)', async () => {
    const env = { PORTCULLIS_AUTH_FILE: join(tempDir(), 'auth.json') };
    const login = await loginApproving(server, env, 'approve', ['--json']);
    assert.equal(login.code, 0, login.stderr);
    const body = JSON.parse(login.stdout);
    assert.equal(body.status, 'signed_in');
    assert.equal(body.user.email, 'ada@example.com');
  });

  it('a denied code ends login with exit code 1 and one line naming access_denied', async () => {
    const env = { PORTCULLIS_AUTH_FILE: join(tempDir(), 'auth.json') };
    const login = await loginApproving(server, env, 'deny');
    assert.equal(login.code, 1);
    assert.match(oneLineError(login), /\[access_denied\]$/);
  });

  it('a token file others can read, or a corrupted one, is refused with its code, never used', async () => {
    const path = join(tempDir(), 'auth.json');
    const env = { PORTCULLIS_AUTH_FILE: path };
    writeFileSync(path, '{ not json', { mode: 0o600 });
    const corrupt = await runCli(['whoami'], { env });
    assert.equal(corrupt.code, 1);
    assert.match(oneLineError(corrupt), /\[auth_file_corrupt\]$/);
    writeFileSync(path, JSON.stringify({ version: 1, current: {}, accounts: [] }));
    chmodSync(path, 0o644);
    const insecure = await runCli(['whoami'], { env });
    assert.equal(insecure.code, 1);
    assert.match(oneLineError(insecure), /\[auth_file_insecure\]$/);
  });

  it('connect, login, logout and whoami are listed by --help and each has its own --help', async () => {
    const top = await runCli(['--help']);
    for (const name of ['connect', 'login', 'logout', 'whoami']) {
      assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'));
      const help = await runCli([name, '--help']);
      assert.equal(help.code, 0);
      assert.ok(help.stdout.startsWith(`Usage: portcullis ${name}`), help.stdout);
    }
  });

  it('a wrong command line exits with 2', async () => {
    assert.equal((await runCli(['login'])).code, 2);
    assert.equal((await runCli(['login', 'ftp://example.com/mcp'])).code, 2);
    assert.equal((await runCli(['whoami', '--bogus'])).code, 2);
    assert.equal((await runCli(['connect'])).code, 2);
    assert.equal((await runCli(['connect', 'https://user:pw@example.com/mcp'])).code, 2, 'no credentials in the URL');
  });
});
