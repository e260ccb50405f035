/**
 * Run the real `portcullis` command as a child process — `node src/cli/main.ts …` with the
 * project's Node 24, or through bin/portcullis.js — with a clean environment: no PORTCULLIS_* or
 * DATABASE_URL leaks in from the test runner, only what the test gives.
 */
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { serverTargets, type ServerTarget } from '../helpers/authz.ts';
import type { TestServer } from '../helpers/server.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');
export const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
export const LAUNCHER = join(ROOT, 'bin', 'portcullis.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** PORTCULLIS_DATA_DIR for the child. */
  dataDir?: string;
  env?: Record<string, string>;
  /** Written to the child's stdin (which is then closed). */
  stdin?: string;
  /** Working directory (default: the data directory, else a fresh temporary one). */
  cwd?: string;
  /** Run this script instead of src/cli/main.ts, with these Node flags. */
  script?: string;
  nodeArgs?: string[];
  node?: string;
}

/** The test runner's environment without anything that configures Portcullis. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('PORTCULLIS_') || name === 'DATABASE_URL') continue;
    env[name] = value;
  }
  return env;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const env = { ...cleanEnv(), ...(options.dataDir ? { PORTCULLIS_DATA_DIR: options.dataDir } : {}), ...options.env };
  const child = spawn(options.node ?? NODE, [...(options.nodeArgs ?? []), options.script ?? MAIN, ...args], {
    cwd: options.cwd ?? options.dataDir ?? tempDir(),
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A temporary directory removed when the current suite (or file) ends. */
export function tempDir(prefix = 'portcullis-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A failure is reported as exactly one line on stderr, and never as a stack trace. */
export function oneLineError(result: CliResult): string {
  const lines = result.stderr.trimEnd().split('\n').filter((line) => !/^(warning|note): /.test(line));
  if (lines.length !== 1 || /^\s+at /m.test(result.stderr)) {
    throw new Error(`expected one error line, got:\n${result.stderr}`);
  }
  return lines[0]!;
}

export function json<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** A copy of the package (bin, src, package.json) at `dir`, its dependencies linked from the repository's. */
export function copyPackage(dir: string, options: { pinnedNode: 'wrapper' | 'none' }): string {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  for (const part of ['bin', 'src', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'node' || name === '.bin') continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  if (options.pinnedNode === 'wrapper') {
    // A pinned Node that is a different file from the one running the launcher (the real one may be
    // the same binary, run with type stripping turned off to stand in for an old Node).
    mkdirSync(join(dir, 'node_modules', 'node', 'bin'), { recursive: true });
    const wrapper = join(dir, 'node_modules', 'node', 'bin', 'node');
    writeFileSync(wrapper, `#!/bin/sh\nexec "${NODE}" "$@"\n`);
    chmodSync(wrapper, 0o755);
  }
  return join(dir, 'bin', 'portcullis.js');
}

/** A server on each database of the one list, and what a CLI process needs to reach the same store and secret. */
export interface CliTarget extends Pick<ServerTarget, 'dialect' | 'skip'> {
  start(): Promise<{ server: TestServer; cliEnv: Record<string, string> }>;
}

export function cliTargets(): CliTarget[] {
  return serverTargets().map((target) => ({
    dialect: target.dialect,
    skip: target.skip,
    async start() {
      const server = await target.start();
      const cliEnv: Record<string, string> = { PORTCULLIS_DATA_DIR: server.config.dataDir };
      if (server.config.databaseUrl && server.schema) {
        // The same database and schema, as an operator would give it: in the URL (libpq `options`).
        const url = new URL(server.config.databaseUrl);
        url.searchParams.set('options', `-c search_path=${server.schema}`);
        cliEnv.DATABASE_URL = url.href;
      }
      return { server, cliEnv };
    },
  }));
}
