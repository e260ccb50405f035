/**
 * bin/portcullis.js, the `portcullis` executable: it runs src/cli/main.ts with a Node that can
 * (hands over to the project's pinned Node 24 otherwise, or says it needs Node 24), works when
 * the package is installed under node_modules (where Node itself refuses to strip types), passes
 * exit codes through, and `npx portcullis` finds it in the repository.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { latestVersion } from '../../src/store/sql/migrate.ts';
import { cleanEnv, copyPackage, json, LAUNCHER, oneLineError, ROOT, runCli, tempDir, type CliResult } from './run-cli.ts';

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(command, args, { cwd, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('bin/portcullis.js', () => {
  it('runs the CLI on Node 24 and passes exit codes through (0, 1, 2)', async () => {
    const dataDir = tempDir();
    const [help, migrated, usage, invalid] = await Promise.all([
      runCli(['--help'], { script: LAUNCHER }),
      runCli(['migrate', '--json'], { script: LAUNCHER, dataDir }),
      runCli(['clients', 'add', '--bogus'], { script: LAUNCHER }),
      runCli(['config', 'check'], { script: LAUNCHER, env: { PORTCULLIS_PORT: 'x' } }),
    ]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: portcullis/);
    assert.ok(help.stdout.includes('keys rotate'));
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.equal(json<{ version: number }>(migrated).version, latestVersion('sqlite'));
    assert.equal(usage.code, 2);
    oneLineError(usage);
    assert.equal(invalid.code, 1);
    oneLineError(invalid);
  });

  it('hands over to the pinned Node when the running one cannot strip types, passing arguments and exit codes', async () => {
    const launcher = copyPackage(tempDir(), { pinnedNode: 'wrapper' });
    const [help, usage] = await Promise.all([
      runCli(['keys', '--help'], { script: launcher, nodeArgs: ['--no-experimental-strip-types'] }),
      runCli(['keys', 'spin'], { script: launcher, nodeArgs: ['--no-experimental-strip-types'] }),
    ]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: portcullis keys/);
    assert.equal(usage.code, 2);
    oneLineError(usage);
  });

  it('without a usable Node, stops with exit 1 and one line naming Node 24 (no stack trace)', async () => {
    const launcher = copyPackage(tempDir(), { pinnedNode: 'none' });
    const result = await runCli(['--help'], { script: launcher, nodeArgs: ['--no-experimental-strip-types'] });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.ok(oneLineError(result).includes('Node.js 24'));
  });

  it('works when installed under node_modules, where Node will not strip types by itself', async () => {
    const project = tempDir();
    const launcher = copyPackage(join(project, 'node_modules', 'portcullis'), { pinnedNode: 'none' });
    const dataDir = tempDir();
    const [help, migrated] = await Promise.all([
      runCli(['--help'], { script: launcher, cwd: project }),
      runCli(['migrate', '--json'], { script: launcher, cwd: project, dataDir }),
    ]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: portcullis/);
    assert.equal(help.stderr, '', 'no experimental-feature warning');
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.equal(json<{ version: number }>(migrated).version, latestVersion('sqlite'));
  });

  it('`npx portcullis --help` works from the repository (no install, no network)', async () => {
    const result = await run('npx', ['--offline', '--no', '--', 'portcullis', '--help'], ROOT);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: portcullis/);
  });
});
