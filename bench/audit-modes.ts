/**
 * What keeping every tool call on the record costs, measured in one run: tools/call through the
 * gateway with `audit.mode` off, batched (the default) and strict, against the same upstream and
 * store — throughput with many connections, and p50 one request at a time. Each mode runs twice,
 * in the order off, batched, strict, strict, batched, off, so that drift on a shared machine
 * falls on every mode alike; the figures are the means of the two runs.
 *   goal: batched costs ≤ 5 % throughput of off; strict adds ≤ 1 ms p50 over off
 *
 * Usage: node bench/audit-modes.ts   (BENCH_SECONDS=8 BENCH_CONCURRENCY=16; BENCH_DATABASE_URL for PostgreSQL)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRootSecret } from '../src/core/secrets.ts';
import { openStore } from '../src/store/open.ts';
import { addServiceClient, dropBenchSchema, cannon, MCP_HEADERS, portcullisEnv, sequential, serviceToken, waitFor } from './lib/portcullis-process.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DATABASE_URL = process.env.BENCH_DATABASE_URL;
const root = join(import.meta.dirname, '..');
const UPSTREAM_PORT = 4211;
const GATEWAY_PORT = 4212;
const SECRET = 'audit-bench-secret-audit-bench-secret-00';
const MODES = ['off', 'batched', 'strict'] as const;
type Mode = (typeof MODES)[number];

const application = { slug: 'bench', name: 'Benchmark upstream', upstream: { url: `http://127.0.0.1:${UPSTREAM_PORT}/mcp` }, autoApprove: true };

interface Figures {
  rps: number;
  p50: number;
}

async function measure(mode: Mode, dataDir: string, configFile: string, schema: string): Promise<Figures> {
  const env = { ...portcullisEnv(dataDir, GATEWAY_PORT, SECRET, DATABASE_URL ? { url: DATABASE_URL, schema } : undefined), PORTCULLIS_CONFIG: configFile, PORTCULLIS_AUDIT_MODE: mode };
  const gateway = spawn(process.execPath, ['src/cli/main.ts', 'start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await waitFor(gateway, 'Portcullis is running');
    const issuer = `http://localhost:${GATEWAY_PORT}`;
    const resource = `${issuer}/mcp/bench`;
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${await serviceToken(issuer, resource, SECRET, 'bench:read')}` };
    const load = await cannon(resource, headers, { connections: CONCURRENCY, seconds: SECONDS });
    const one = await sequential(resource, headers, 1000, undefined, 100);
    return { rps: load.rps, p50: one.p50 };
  } finally {
    gateway.kill('SIGTERM');
    await new Promise((resolve) => gateway.once('exit', resolve));
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-audit-'));
  const schema = `bench_audit_${process.pid}`;
  const children: ChildProcess[] = [];
  try {
    const store = await openStore({ dataDir, databaseUrl: DATABASE_URL, schema: DATABASE_URL ? schema : undefined });
    await store.migrate();
    const { secrets } = loadRootSecret({ dataDir, secretKey: portcullisEnv(dataDir, 0, SECRET).PORTCULLIS_SECRET_KEY });
    await addServiceClient(store, secrets.pepper, SECRET, ['bench:read']);
    await store.close();
    const configFile = join(dataDir, 'portcullis.config.json');
    writeFileSync(configFile, JSON.stringify({ applications: [application] }));
    const upstream = spawn(process.execPath, ['bench/upstream-server.ts', String(UPSTREAM_PORT)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(upstream);
    await waitFor(upstream, 'ready');

    const runs = new Map<Mode, Figures[]>(MODES.map((m) => [m, []]));
    for (const mode of [...MODES, ...[...MODES].reverse()]) runs.get(mode)!.push(await measure(mode, dataDir, configFile, schema));
    const mean = (mode: Mode): Figures => {
      const figures = runs.get(mode)!;
      return { rps: figures.reduce((a, f) => a + f.rps, 0) / figures.length, p50: figures.reduce((a, f) => a + f.p50, 0) / figures.length };
    };
    const off = mean('off');
    const batched = mean('batched');
    const strict = mean('strict');
    const cost = 1 - batched.rps / off.rps;
    const added = strict.p50 - off.p50;
    console.log(`\nbench/audit-modes.ts — ${SECONDS} s per run, ${CONCURRENCY} connections, ${DATABASE_URL ? 'PostgreSQL' : 'SQLite'}, Node ${process.version}\n`);
    console.log('| audit.mode | tools/call throughput | p50 one at a time | compared with off | goal |');
    console.log('|---|---|---|---|---|');
    console.log(`| off | ${off.rps.toFixed(0)}/s | ${off.p50.toFixed(2)} ms | | |`);
    console.log(`| batched | ${batched.rps.toFixed(0)}/s | ${batched.p50.toFixed(2)} ms | ${(cost * 100).toFixed(1)} % less throughput | ≤ 5 % ${cost <= 0.05 ? '✓' : '✗'} |`);
    console.log(`| strict | ${strict.rps.toFixed(0)}/s | ${strict.p50.toFixed(2)} ms | +${added.toFixed(2)} ms at p50 | ≤ +1 ms ${added <= 1 ? '✓' : '✗'} |`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
    if (DATABASE_URL) {
      await dropBenchSchema(DATABASE_URL, schema);
    }
  }
}

await main();
