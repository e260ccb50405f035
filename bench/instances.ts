/**
 * Many instances as one, measured in one run on PostgreSQL:
 *   1. authorization code + PKCE flows/s (a signed-in user: authorize → code → token) and gateway
 *      tools/call/s, `portcullis start` (one process) beside `portcullis start --workers 2`
 *      (goal: more with two workers than with one, on a machine with ≥ 2 cores)
 *   2. a revoked token seen by a SECOND instance: 100 revocations (RFC 7009) made on the first,
 *      each polled for on the second until it answers 401; p50 / p99 of the time from the
 *      revocation's answer to the first refusal   goal: < 1 s, aim < 100 ms — with the PostgreSQL
 *      LISTEN/NOTIFY feed, and with the Redis pub/sub feed when BENCH_REDIS_URL is set.
 *
 * PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), a schema of
 * its own dropped at the end. Usage: node bench/instances.ts  (BENCH_SECONDS=10 BENCH_CONCURRENCY=8)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRootSecret } from '../src/core/secrets.ts';
import { openStore } from '../src/store/open.ts';
import { authorizeInBrowser } from '../test/helpers/oauth-flow.ts';
import { runLoad } from './lib/load.ts';
import { addBenchUser, addFlowClient, addServiceClient, cannon, dropBenchSchema, CALL, MCP_HEADERS, portcullisEnv, serviceToken, SERVICE_CLIENT, waitFor } from './lib/portcullis-process.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL;
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 100);
const SCHEMA = `bench_inst_${process.pid}`;
const SECRET = 'instances-bench-secret-instances-bench-secret';
const PORT = 4301;
const SECOND_PORT = 4302;
const UPSTREAM_PORT = 4303;
const ISSUER = `http://localhost:${PORT}`;
const RESOURCE = `${ISSUER}/mcp/bench`;
const CLIENT_ID = 'bench-flow-client';
const CLIENT_SECRET = 'bench-flow-secret-bench-flow-secret';
const REDIRECT = 'http://127.0.0.1/cb';
const EMAIL = 'bench@example.com';
const PASSWORD = 'bench password 123';
const root = join(import.meta.dirname, '..');
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function prepare(dataDir: string, secretKey: string | undefined): Promise<void> {
  const store = await openStore({ dataDir, databaseUrl: DATABASE_URL, schema: SCHEMA });
  await store.migrate();
  const { secrets } = loadRootSecret({ dataDir, secretKey });
  await addServiceClient(store, secrets.pepper, SECRET, ['bench:read', 'bench:write']);
  await addBenchUser(store, EMAIL, PASSWORD);
  await addFlowClient(store, secrets.pepper, { id: CLIENT_ID, secret: CLIENT_SECRET, redirect: REDIRECT, grantTypes: ['authorization_code', 'refresh_token'] });
  await store.close();
}

function authorizeUrl(): { url: string; verifier: string } {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${ISSUER}/oauth/authorize`);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    scope: 'bench:read',
    resource: RESOURCE,
    state: 'bench',
  }).toString();
  return { url: url.href, verifier };
}

/** One flow for a signed-in user: authorize (straight to the code) → token. */
async function codeFlow(session: string): Promise<void> {
  const { url, verifier } = authorizeUrl();
  const response = await fetch(url, { headers: { cookie: session }, redirect: 'manual' });
  await response.arrayBuffer();
  const code = new URL(response.headers.get('location') ?? '', ISSUER).searchParams.get('code');
  if (!code) throw new Error(`no code (status ${response.status})`);
  const token = await fetch(`${ISSUER}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basic(CLIENT_ID, CLIENT_SECRET), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, resource: RESOURCE }),
  });
  await token.arrayBuffer();
  if (token.status !== 200) throw new Error(`token endpoint ${token.status}`);
}

function startPortcullis(args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['src/cli/main.ts', 'start', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return waitFor(child, 'Portcullis is running').then(() => child);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  return exited;
}

/** Flows/s and calls/s of one server (one process, or a primary with workers) on PORT. */
async function throughput(label: string, env: NodeJS.ProcessEnv, args: string[]) {
  const server = await startPortcullis(args, env);
  try {
    const { ua } = await authorizeInBrowser(authorizeUrl().url, { email: EMAIL, password: PASSWORD, redirectUri: REDIRECT });
    const session = [...ua.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const flows = await runLoad(`flows @ ${label}`, { concurrency: CONCURRENCY, seconds: SECONDS }, async () => () => codeFlow(session));
    const token = await serviceToken(ISSUER, RESOURCE, SECRET, 'bench:read');
    const calls = await cannon(RESOURCE, { ...MCP_HEADERS, authorization: `Bearer ${token}` }, { connections: CONCURRENCY * 2, seconds: SECONDS });
    return { flows, calls };
  } finally {
    await stop(server);
  }
}

/** Revoke on the first instance, poll the second: ms from the revocation's answer to its first 401, per revocation. */
async function propagation(): Promise<number[]> {
  const delays: number[] = [];
  const second = `http://localhost:${SECOND_PORT}/mcp/bench`;
  for (let i = 0; i < REVOCATIONS; i++) {
    const token = await serviceToken(ISSUER, RESOURCE, SECRET, 'bench:read');
    const call = async () => {
      const res = await fetch(second, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: CALL });
      await res.arrayBuffer();
      return res.status;
    };
    if ((await call()) !== 200) throw new Error('the second instance does not accept the token');
    const revoke = await fetch(`${ISSUER}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: basic(SERVICE_CLIENT, SECRET), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    await revoke.arrayBuffer();
    const revokedAt = performance.now();
    for (;;) {
      if ((await call()) === 401) break;
      if (performance.now() - revokedAt > 5000) throw new Error('not refused within 5 s');
    }
    delays.push(performance.now() - revokedAt);
  }
  return delays.sort((a, b) => a - b);
}

async function twoInstances(env: NodeJS.ProcessEnv, secondDir: string, redisUrl?: string): Promise<number[]> {
  const extra = redisUrl ? { REDIS_URL: redisUrl } : {};
  const first = await startPortcullis([], { ...env, ...extra });
  const second = await startPortcullis([], { ...portcullisEnv(secondDir, SECOND_PORT, SECRET, { url: DATABASE_URL, schema: SCHEMA }), PORTCULLIS_CONFIG: env.PORTCULLIS_CONFIG, PORTCULLIS_PUBLIC_URL: ISSUER, ...extra });
  try {
    return await propagation();
  } finally {
    await Promise.all([stop(first), stop(second)]);
  }
}

const at = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-inst-'));
  const secondDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-inst2-'));
  const upstream = spawn(process.execPath, ['bench/upstream-server.ts', String(UPSTREAM_PORT)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const configFile = join(dataDir, 'portcullis.config.json');
    writeFileSync(configFile, JSON.stringify({ applications: [{ slug: 'bench', name: 'Benchmark upstream', upstream: { url: `http://127.0.0.1:${UPSTREAM_PORT}/mcp` }, autoApprove: true }] }));
    const env: NodeJS.ProcessEnv = { ...portcullisEnv(dataDir, PORT, SECRET, { url: DATABASE_URL, schema: SCHEMA }), PORTCULLIS_CONFIG: configFile };
    await prepare(dataDir, env.PORTCULLIS_SECRET_KEY);
    await waitFor(upstream, 'ready');

    const one = await throughput('1 process', env, []);
    const two = await throughput('--workers 2', env, ['--workers', '2']);
    const listen = await twoInstances(env, secondDir);
    const redis = REDIS_URL ? await twoInstances(env, secondDir, REDIS_URL) : undefined;

    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)} ×`;
    console.log(`\nbench/instances.ts — ${SECONDS} s per run, ${CONCURRENCY} concurrent flows / ${CONCURRENCY * 2} gateway connections, PostgreSQL, Node ${process.version}\n`);
    console.log('| measure | `--workers 2` | one process | comparison | goal |');
    console.log('|---|---|---|---|---|');
    const f2 = two.flows.perSecond;
    const f1 = one.flows.perSecond;
    console.log(`| authorization code + PKCE flows | ${f2.toFixed(0)}/s (p50 ${two.flows.p50ms.toFixed(1)} ms) | ${f1.toFixed(0)}/s (p50 ${one.flows.p50ms.toFixed(1)} ms) | ${ratio(f2, f1)} | > 1 × ${f2 > f1 ? '✓' : '✗'} |`);
    console.log(`| gateway tools/call | ${two.calls.rps.toFixed(0)}/s (p50 ${two.calls.p50} ms) | ${one.calls.rps.toFixed(0)}/s (p50 ${one.calls.p50} ms) | ${ratio(two.calls.rps, one.calls.rps)} | > 1 × ${two.calls.rps > one.calls.rps ? '✓' : '✗'} |`);
    console.log('\n| revoked token refused by the second instance | p50 | p99 | max | goal |');
    console.log('|---|---|---|---|---|');
    const row = (label: string, d: number[]) =>
      console.log(`| ${label}, ${d.length} revocations | ${at(d, 0.5).toFixed(1)} ms | ${at(d, 0.99).toFixed(1)} ms | ${d.at(-1)!.toFixed(1)} ms | < 1000 ms ${at(d, 0.99) < 1000 ? '✓' : '✗'} (aim < 100 ms ${at(d, 0.99) < 100 ? '✓' : '✗'}) |`);
    row('PostgreSQL LISTEN/NOTIFY', listen);
    if (redis) row('Redis pub/sub', redis);
  } finally {
    upstream.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(secondDir, { recursive: true, force: true });
    await dropBenchSchema(DATABASE_URL, SCHEMA);
  }
}

await main();
