/**
 * API keys vs JWT access tokens at the gateway, in one run: the same `tools/call` through the same
 * Portcullis process, authenticated once by a client_credentials JWT and once by an API key
 * (`Authorization: Bearer pcs_…`, resolved from memory: keyed hash → cached key, revocation and
 * expiry checks, no database round trip per call). In each round both run at the same time, half
 * the connections each, so whatever else the machine is doing hits both alike; the figures are
 * the means of the rounds.
 *   goal: key throughput ≥ 0.9 × JWT throughput
 *
 * Usage: npm run bench:keys   (BENCH_SECONDS=10 BENCH_CONCURRENCY=16 BENCH_ROUNDS=2 by default)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRootSecret } from '../src/core/secrets.ts';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from '../src/api-keys/format.ts';
import { openStore } from '../src/store/open.ts';
import { addServiceClient, cannon, MCP_HEADERS, portcullisEnv, serviceToken, waitFor } from './lib/portcullis-process.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const root = join(import.meta.dirname, '..');
const UPSTREAM_PORT = 4211;
const GATEWAY_PORT = 4212;
const SECRET = 'keys-bench-secret-keys-bench-secret-keys';

const application = { slug: 'bench', name: 'Benchmark upstream', upstream: { url: `http://127.0.0.1:${UPSTREAM_PORT}/mcp` }, autoApprove: true };

/** The service client (for the JWT), and an organization whose owner holds a read key for the application. */
async function prepare(dataDir: string, env: NodeJS.ProcessEnv): Promise<string> {
  const store = await openStore({ dataDir });
  await store.migrate();
  const { secrets } = loadRootSecret({ dataDir, secretKey: env.PORTCULLIS_SECRET_KEY });
  await addServiceClient(store, secrets.pepper, SECRET, ['bench:read']);
  const at = Math.floor(Date.now() / 1000);
  const org = await store.orgs.create({ slug: 'bench', name: 'Bench' });
  const user = await store.users.create({ email: 'bench@example.com' });
  await store.orgs.addMember(org.id, user.id, 'owner', at);
  const key = generateApiKey();
  await store.apiKeys.create({
    id: 'key_bench',
    orgId: org.id,
    userId: user.id,
    name: 'bench',
    prefix: apiKeyDisplayPrefix(key),
    hash: hashApiKey(secrets.pepper, key),
    applications: ['bench'],
    resources: null,
    permissions: { mode: 'simple', level: 'read' },
    createdAt: at,
    expiresAt: null,
  });
  await store.close();
  return key;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-keys-'));
  const children: ChildProcess[] = [];
  try {
    const env = portcullisEnv(dataDir, GATEWAY_PORT, SECRET);
    const key = await prepare(dataDir, env);
    const configFile = join(dataDir, 'portcullis.config.json');
    writeFileSync(configFile, JSON.stringify({ applications: [application] }));
    const upstream = spawn(process.execPath, ['bench/upstream-server.ts', String(UPSTREAM_PORT)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(upstream);
    await waitFor(upstream, 'ready');
    const gateway = spawn(process.execPath, ['src/cli/main.ts', 'start'], { cwd: root, env: { ...env, PORTCULLIS_CONFIG: configFile }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(gateway);
    await waitFor(gateway, 'Portcullis is running');
    const issuer = `http://localhost:${GATEWAY_PORT}`;
    const url = `${issuer}/mcp/bench`;
    const token = await serviceToken(issuer, url, SECRET, 'bench:read');

    const load = { connections: Math.max(1, Math.floor(CONCURRENCY / 2)), seconds: SECONDS };
    const jwt: Awaited<ReturnType<typeof cannon>>[] = [];
    const keys: Awaited<ReturnType<typeof cannon>>[] = [];
    // A short warm-up of both paths (JIT, connection pools, the key cache), not counted.
    await cannon(url, { ...MCP_HEADERS, authorization: `Bearer ${token}` }, { connections: CONCURRENCY, seconds: 2 });
    await cannon(url, { ...MCP_HEADERS, authorization: `Bearer ${key}` }, { connections: CONCURRENCY, seconds: 2 });
    for (let round = 0; round < ROUNDS; round++) {
      const [byJwt, byKey] = await Promise.all([
        cannon(url, { ...MCP_HEADERS, authorization: `Bearer ${token}` }, load),
        cannon(url, { ...MCP_HEADERS, authorization: `Bearer ${key}` }, load),
      ]);
      jwt.push(byJwt);
      keys.push(byKey);
    }
    const mean = (runs: typeof jwt, pick: (r: (typeof jwt)[number]) => number) => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
    const jwtRps = mean(jwt, (r) => r.rps);
    const keyRps = mean(keys, (r) => r.rps);
    const ratio = keyRps / jwtRps;
    console.log(`\nbench/keys.ts — ${ROUNDS} rounds of ${SECONDS} s, ${load.connections} connections by key and ${load.connections} by JWT at once, Node ${process.version}\n`);
    console.log('| measure | API key | JWT access token | ratio | goal |');
    console.log('|---|---|---|---|---|');
    console.log(`| tools/call throughput through the gateway | ${keyRps.toFixed(0)}/s | ${jwtRps.toFixed(0)}/s | ${ratio.toFixed(2)} × | ≥ 0.9 × ${ratio >= 0.9 ? '✓' : '✗'} |`);
    console.log(`| per round | ${keys.map((r) => r.rps.toFixed(0)).join(' / ')} | ${jwt.map((r) => r.rps.toFixed(0)).join(' / ')} | | |`);
    console.log(`| latency p50 / p99 (mean of rounds) | ${mean(keys, (r) => r.p50).toFixed(1)} / ${mean(keys, (r) => r.p99).toFixed(1)} ms | ${mean(jwt, (r) => r.p50).toFixed(1)} / ${mean(jwt, (r) => r.p99).toFixed(1)} ms | | |`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
