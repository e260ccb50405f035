/**
 * `portcullis start` as `npm start` runs it: the banner with the MCP URL and the first-run setup
 * link, a server that answers, a clean stop on SIGTERM (also through bin/portcullis.js when it has
 * handed over to another Node), and one-line refusals for bad options or configuration.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { describe, it } from 'node:test';
import { cleanEnv, copyPackage, LAUNCHER, MAIN, NODE, oneLineError, runCli, tempDir } from './run-cli.ts';

interface Started {
  child: ChildProcessWithoutNullStreams;
  banner: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Spawn `start` and wait for its banner (the blank line that ends it). */
async function startServer(args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(NODE, args, { cwd: env.PORTCULLIS_DATA_DIR, env: { ...cleanEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in time:\n${stdout}\n${stderr}`)), 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (/Portcullis is running[\s\S]*\n\n$/.test(stdout)) {
        clearTimeout(timer);
        resolve(stdout);
      }
    });
    void exit.then(({ code }) => reject(new Error(`exited with ${code} before the banner:\n${stdout}\n${stderr}`)));
  });
  return { child, banner, exit };
}

function mcpUrlOf(banner: string): string {
  const url = /MCP server \(demo\)\s+(\S+)/.exec(banner)?.[1];
  assert.ok(url, banner);
  return url;
}

describe('portcullis start', () => {
  it('prints the MCP URL and a one-time setup link, serves, and stops cleanly on SIGTERM (exit 0)', async () => {
    const dataDir = tempDir();
    const { child, banner, exit } = await startServer([MAIN, 'start'], { PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_PORT: '0', PORTCULLIS_LOG_LEVEL: 'warn' });
    try {
      const mcpUrl = mcpUrlOf(banner);
      assert.match(banner, /\/setup\?token=[\w-]{43}/, 'first run: a setup link');
      const unauthenticated = await fetch(mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(unauthenticated.status, 401);
      assert.match(unauthenticated.headers.get('www-authenticate') ?? '', /resource_metadata=/);
    } finally {
      child.kill('SIGTERM');
    }
    const { code, stderr } = await exit;
    assert.equal(code, 0, stderr);
  });

  it('does not print a setup link once a user exists', async () => {
    const dataDir = tempDir();
    const created = await runCli(['admin', 'create-user', '--email', 'ops@example.com', '--password-stdin'], { dataDir, stdin: 'a long enough passphrase' });
    assert.equal(created.code, 0, created.stderr);
    const { child, banner, exit } = await startServer([LAUNCHER, 'start'], { PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_PORT: '0', PORTCULLIS_LOG_LEVEL: 'warn' });
    child.kill('SIGTERM');
    assert.ok(!banner.includes('/setup?token='));
    assert.equal((await exit).code, 0);
  });

  it('through the launcher handing over to the pinned Node, SIGTERM still stops the server cleanly', async () => {
    const launcher = copyPackage(tempDir(), { pinnedNode: 'wrapper' });
    const dataDir = tempDir();
    const { child, banner, exit } = await startServer(['--no-experimental-strip-types', launcher, 'start'], {
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_PORT: '0',
      PORTCULLIS_LOG_LEVEL: 'warn',
    });
    const mcpUrl = mcpUrlOf(banner);
    child.kill('SIGTERM');
    const { code, stderr } = await exit;
    assert.equal(code, 0, stderr);
    await assert.rejects(fetch(mcpUrl), 'the server is gone, not orphaned');
  });

  it('refuses an unknown option (exit 2) and an invalid configuration (exit 1), in one line', async () => {
    const [usage, invalid] = await Promise.all([
      runCli(['start', '--port', '80'], { dataDir: tempDir() }),
      runCli(['start'], { dataDir: tempDir(), env: { PORTCULLIS_PUBLIC_URL: 'http://auth.example.com' } }),
    ]);
    assert.equal(usage.code, 2);
    oneLineError(usage);
    assert.equal(invalid.code, 1);
    assert.ok(oneLineError(invalid).includes('publicUrl'));
  });
});
