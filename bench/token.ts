/**
 * Token-endpoint throughput of a running Portcullis beside raw oidc-provider (in-memory adapter),
 * measured in the same run by the same load generator:
 *   1. client_credentials tokens/s                       goal: ratio ≥ 0.7
 *   2. refresh-token rotations/s                         goal: ratio ≥ 0.7
 *   3. authorization code + PKCE flows/s for a user with a live session
 *      (authorize → code → token)                         goal: ratio ≥ 0.8
 * and Portcullis's resident memory after start (goal < 150 MB).
 *
 * Both servers run as child processes on this machine; the generator runs here.
 * Usage: npm run bench            (BENCH_SECONDS=10 BENCH_CONCURRENCY=8 by default)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { loadRootSecret } from '../src/core/secrets.ts';
import { openStore } from '../src/store/open.ts';
import { authorizeInBrowser } from '../test/helpers/oauth-flow.ts';
import { cookieJar, runLoad, type LoadResult } from './lib/load.ts';
import { addBenchUser, addFlowClient } from './lib/portcullis-process.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const CLIENT_ID = 'bench-client';
const SECRET = 'bench-secret-bench-secret-bench-secret';
const REDIRECT = 'http://127.0.0.1/cb';
const EMAIL = 'bench@example.com';
const PASSWORD = 'bench password 123';
const root = join(import.meta.dirname, '..');

interface Target {
  name: string;
  issuer: string;
  resource: string;
  /** Cookie header of a signed-in browser whose consent for the client is remembered. */
  session: string;
}

function waitFor(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(marker)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before it was ready:\n${seen}`)));
  });
}

async function preparePortcullis(dataDir: string): Promise<void> {
  const store = await openStore({ dataDir });
  await store.migrate();
  const { secrets } = loadRootSecret({ dataDir });
  await addBenchUser(store, EMAIL, PASSWORD);
  await addFlowClient(store, secrets.pepper, { id: CLIENT_ID, secret: SECRET, redirect: REDIRECT, grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
  await store.close();
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(target: Target, challenge: string): string {
  const url = new URL(`${target.issuer}/oauth/authorize`);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'demo:read demo:write',
    resource: target.resource,
    state: 'bench',
  }).toString();
  return url.href;
}

const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64')}`;

async function token(target: Target, form: Record<string, string>): Promise<Record<string, string>> {
  const response = await fetch(`${target.issuer}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const body = (await response.json()) as Record<string, string>;
  if (response.status !== 200) throw new Error(`token endpoint ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** One complete flow for a signed-in user: authorize (straight to the code) → token. */
async function codeFlow(target: Target): Promise<Record<string, string>> {
  const { verifier, challenge } = pkce();
  const response = await fetch(authorizeUrl(target, challenge), { headers: { cookie: target.session }, redirect: 'manual' });
  await response.arrayBuffer();
  const location = response.headers.get('location') ?? '';
  const code = new URL(location, target.issuer).searchParams.get('code');
  if (!code) throw new Error(`no code (status ${response.status}, location ${location})`);
  return token(target, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, resource: target.resource });
}

async function signIn(target: Target, login: (url: string) => Promise<string>): Promise<Target> {
  const { challenge } = pkce();
  return { ...target, session: await login(authorizeUrl(target, challenge)) };
}

/** BENCH_ONLY=refresh (or cc, flow) runs one scenario, e.g. while profiling. */
const ONLY = process.env.BENCH_ONLY;

async function scenario(label: string, targets: Target[], make: (target: Target) => (index: number) => Promise<() => Promise<void>>) {
  const results = new Map<string, LoadResult>();
  if (ONLY && !label.toLowerCase().includes(ONLY)) {
    for (const target of targets) results.set(target.name, { completed: 0, errors: 0, perSecond: NaN, p50ms: NaN, p99ms: NaN });
    return results;
  }
  for (const target of targets) {
    results.set(target.name, await runLoad(`${label} @ ${target.name}`, { concurrency: CONCURRENCY, seconds: SECONDS }, make(target)));
  }
  return results;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const node = process.execPath;
  const children: ChildProcess[] = [];
  try {
    await preparePortcullis(dataDir);
    const portcullis = spawn(node, [...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), 'src/cli/main.ts', 'start'], {
      cwd: root,
      env: { ...process.env, PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_PORT: '4101', PORTCULLIS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const raw = spawn(node, ['bench/raw-provider.ts', '4102'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(portcullis, raw);
    await Promise.all([waitFor(portcullis, 'Portcullis is running'), waitFor(raw, 'ready')]);
    await new Promise((r) => setTimeout(r, 1000));
    const rss = rssMb(portcullis.pid!);

    const ours = await signIn({ name: 'Portcullis', issuer: 'http://localhost:4101', resource: 'http://localhost:4101/mcp', session: '' }, async (url) => {
      const { ua } = await authorizeInBrowser(url, { email: EMAIL, password: PASSWORD, redirectUri: REDIRECT });
      return [...ua.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    });
    const baseline = await signIn({ name: 'raw oidc-provider', issuer: 'http://localhost:4102', resource: 'http://localhost:4102/mcp', session: '' }, async (url) => {
      const jar = cookieJar();
      let next = url;
      for (let i = 0; i < 10; i++) {
        const response = await fetch(next, { headers: { cookie: jar.header() }, redirect: 'manual' });
        jar.store(response);
        await response.arrayBuffer();
        const location = response.headers.get('location');
        if (!location || location.startsWith(REDIRECT)) break;
        next = new URL(location, next).href;
      }
      return jar.header();
    });
    const targets = [baseline, ours];

    const cc = await scenario('client_credentials', targets, (target) => async () => async () => {
      await token(target, { grant_type: 'client_credentials', resource: target.resource, scope: 'demo:read' });
    });
    const refresh = await scenario('refresh rotation', targets, (target) => async () => {
      let current = (await codeFlow(target)).refresh_token!;
      return async () => {
        current = (await token(target, { grant_type: 'refresh_token', refresh_token: current })).refresh_token!;
      };
    });
    const flows = await scenario('code + PKCE flow', targets, (target) => async () => async () => {
      await codeFlow(target);
    });

    const row = (label: string, results: Map<string, LoadResult>, goal: number) => {
      const a = results.get('Portcullis')!;
      const b = results.get('raw oidc-provider')!;
      const ratio = a.perSecond / b.perSecond;
      return `| ${label} | ${a.perSecond.toFixed(0)}/s (p50 ${a.p50ms.toFixed(1)} ms, p99 ${a.p99ms.toFixed(1)} ms) | ${b.perSecond.toFixed(0)}/s (p50 ${b.p50ms.toFixed(1)} ms, p99 ${b.p99ms.toFixed(1)} ms) | ${ratio.toFixed(2)} | ≥ ${goal} ${ratio >= goal ? '✓' : '✗'} |`;
    };
    console.log(`\nbench/token.ts — ${SECONDS} s per run, ${CONCURRENCY} concurrent workers, Node ${process.version}\n`);
    console.log('| scenario | Portcullis (SQLite) | raw oidc-provider (memory) | ratio | goal |');
    console.log('|---|---|---|---|---|');
    console.log(row('client_credentials tokens', cc, 0.7));
    console.log(row('refresh-token rotations', refresh, 0.7));
    console.log(row('authorization code + PKCE flows', flows, 0.8));
    console.log(`\nPortcullis RSS after start: ${rss.toFixed(0)} MB (goal < 150 MB ${rss < 150 ? '✓' : '✗'})`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
