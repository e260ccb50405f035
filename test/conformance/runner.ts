/**
 * Run the MCP conformance suite's authorization-server scenarios (@modelcontextprotocol/conformance,
 * `conformance authorization`) as a child process, and play the person at the browser.
 *
 * How the suite behaves (read from its source, src/scenarios/authorization-server/): it fetches
 * the AS metadata, starts a callback server on http://127.0.0.1:<port>/callback, prints the
 * authorization URL on a line of its own and waits (up to 5 minutes) for one GET on /callback.
 * We watch its stdout for a line that is a URL on our authorization endpoint, sign in and
 * approve with `onAuthorizationUrl`, then deliver the browser's final redirect to its callback.
 * Results are read from the machine-readable `checks.json` it writes per scenario (`-o`).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ENTRY = join(import.meta.dirname, '../../node_modules/@modelcontextprotocol/conformance/dist/index.js');

export interface ConformanceCheck {
  id: string;
  name: string;
  description: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
  details?: Record<string, unknown>;
}

export interface ScenarioResult {
  scenario: string;
  checks: ConformanceCheck[];
}

export interface ConformanceRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** One entry per scenario that wrote a checks.json. */
  results: ScenarioResult[];
}

/** A TCP port that was free a moment ago (the suite binds its callback server itself). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function run(
  args: string[],
  onLine: (line: string) => void = () => {},
  timeoutMs = 60_000,
  signal?: AbortSignal,
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' }, signal, killSignal: 'SIGKILL' });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`conformance ${args[0]} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      if (pending) onLine(pending);
      resolve({ exitCode, stdout, stderr });
    });
  });
}

/** The scenario names `conformance list --authorization` prints (lines "  - <name> [versions]"). */
export async function listAuthorizationScenarios(): Promise<string[]> {
  const { exitCode, stdout, stderr } = await run(['list', '--authorization']);
  if (exitCode !== 0) throw new Error(`conformance list failed (${exitCode}): ${stderr}`);
  return [...stdout.matchAll(/^\s*-\s+([\w-]+)/gm)].map((m) => m[1]!);
}

export interface AuthorizationRunOptions {
  issuer: string;
  clientId: string;
  /** Port of the suite's callback server (http://127.0.0.1:<port>/callback must be registered). */
  port: number;
  resource?: string;
  outputDir: string;
  /** Called with the authorization URL the suite prints; returns where the browser was sent back to. */
  onAuthorizationUrl: (url: string) => Promise<URL>;
}

/**
 * Run every authorization-server scenario. The browser step runs while the suite waits; if it
 * throws, the suite is killed and the browser step's error is thrown.
 */
export async function runAuthorizationScenarios(options: AuthorizationRunOptions): Promise<ConformanceRun> {
  const authorizePrefix = `${options.issuer}/`;
  const abort = new AbortController();
  let browser: Promise<void> | undefined;
  let browserError: unknown;
  const args = ['authorization', '--url', options.issuer, '--client-id', options.clientId, '-p', String(options.port), '-o', options.outputDir];
  if (options.resource) args.push('--resource', options.resource);
  const outcome = run(
    args,
    (line) => {
      const text = line.trim();
      const url = URL.parse(text);
      if (!url || !text.startsWith(authorizePrefix) || !url.searchParams.has('code_challenge') || browser) return;
      browser = (async () => {
        const callback = await options.onAuthorizationUrl(text);
        // The browser's last hop: the suite's callback server answers and records the full URL.
        const delivered = await fetch(callback);
        await delivered.text();
        if (!delivered.ok) throw new Error(`the suite's callback server answered ${delivered.status}`);
      })().catch((err: unknown) => {
        // Otherwise the suite waits minutes for a callback that never comes: stop it now.
        browserError = err;
        abort.abort();
      });
    },
    120_000,
    abort.signal,
  );
  let result: Awaited<typeof outcome> | undefined;
  try {
    result = await outcome;
  } catch (err) {
    if (!browserError) throw err;
  }
  await browser;
  if (browserError || !result) throw browserError;
  return { ...result, results: readResults(options.outputDir) };
}

/** checks.json of each scenario, from directories named authorization-server-<scenario>-<timestamp>. */
export function readResults(outputDir: string): ScenarioResult[] {
  if (!existsSync(outputDir)) return [];
  return readdirSync(outputDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(outputDir, entry.name, 'checks.json')))
    .map((entry) => {
      const scenario = /^authorization-server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry.name)?.[1] ?? entry.name;
      const checks = JSON.parse(readFileSync(join(outputDir, entry.name, 'checks.json'), 'utf8')) as ConformanceCheck[];
      return { scenario, checks };
    });
}
