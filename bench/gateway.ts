/**
 * The gateway's cost, measured in one run:
 *   1. tools/call throughput and p50/p99 latency, direct to an upstream MCP server vs through the
 *      gateway (token verification, policy, manifest and response filtering on)
 *      goal: throughput ≥ 0.8 × direct, p50 added ≤ 1 ms
 *   2. filtering a tools/list of 500 tools (manifest lookups, scope per tool), beside parsing and
 *      re-serializing the same response without filtering        goal: filtering ≤ 0.2 ms
 *   3. a revoked grant refused: in the process that revoked it, and in a second Portcullis
 *      process sharing the database (PostgreSQL when BENCH_DATABASE_URL is set)   goal: ≤ 1 s
 *   4. large arguments: parsing a 4 MiB tools/call body as the gateway does (numbers kept exact)
 *      beside plain JSON.parse of the same text, and the exact parse it needs only when a number
 *      would change            goal: ≤ 2 × JSON.parse (every body took the exact parse before: ~7 ×);
 *      a tools/call carrying 1 MiB of arguments, one at a time, through the gateway vs direct
 *
 * Usage: npm run bench:gateway   (BENCH_SECONDS=10 BENCH_CONCURRENCY=16 by default)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveApplication } from '../src/core/application.ts';
import { ApplicationRegistry, parseDefinition } from '../src/applications/registry.ts';
import { ResourceRegistry } from '../src/applications/protected-resources.ts';
import { silentLogger } from '../src/core/log.ts';
import { loadRootSecret } from '../src/core/secrets.ts';
import { Bindings } from '../src/gateway/bindings.ts';
import { needsExactParse, parseBody } from '../src/gateway/jsonrpc.ts';
import { requestMethods, visibleTools } from '../src/gateway/steps/filter-response.ts';
import { openStore } from '../src/store/open.ts';
import { addServiceClient, dropBenchSchema, CALL, cannon as sharedCannon, MCP_HEADERS, portcullisEnv as sharedEnv, sequential, serviceToken as sharedServiceToken, waitFor } from './lib/portcullis-process.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DATABASE_URL = process.env.BENCH_DATABASE_URL;
const root = join(import.meta.dirname, '..');
const node = process.execPath;
const UPSTREAM_PORT = 4201;
const GATEWAY_PORT = 4202;
const SECOND_PORT = 4203;
const SECRET = 'gateway-bench-secret-gateway-bench-secret';
const SCHEMA = `bench_${process.pid}`;

const application = {
  slug: 'bench',
  name: 'Benchmark upstream',
  upstream: { url: `http://127.0.0.1:${UPSTREAM_PORT}/mcp` },
  autoApprove: true,
};

function portcullisEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  return sharedEnv(dataDir, port, SECRET, DATABASE_URL ? { url: DATABASE_URL, schema: SCHEMA } : undefined);
}

async function prepare(dataDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const store = await openStore({ dataDir, databaseUrl: DATABASE_URL, schema: DATABASE_URL ? SCHEMA : undefined });
  await store.migrate();
  const { secrets } = loadRootSecret({ dataDir, secretKey: env.PORTCULLIS_SECRET_KEY });
  await addServiceClient(store, secrets.pepper, SECRET, ['bench:read', 'bench:write', 'bench:delete']);
  await store.close();
}

function serviceToken(issuer: string, resource: string): Promise<string> {
  return sharedServiceToken(issuer, resource, SECRET, 'bench:read bench:write');
}

function cannon(url: string, headers: Record<string, string>) {
  return sharedCannon(url, headers, { connections: CONCURRENCY, seconds: SECONDS });
}


/** Filtering alone, in process: 500 tools through the gateway's tools/list filter. */
async function filterCost(): Promise<{ filter: number; manifest: number; baseline: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-filter-'));
  const store = await openStore({ dataDir: dir });
  await store.migrate();
  const resources = new ResourceRegistry();
  const registry = new ApplicationRegistry({ store, publicUrl: 'http://localhost', resources, log: silentLogger(), now: () => 1 });
  const app = resolveApplication(parseDefinition(application), 'http://localhost');
  await store.applications.upsert({ slug: app.slug, definition: JSON.stringify(application), source: 'config', at: 1 });
  await registry.reload();
  const tools = Array.from({ length: 500 }, (_, i) => ({
    name: `tool_${i}`,
    description: `Filler tool number ${i}`,
    inputSchema: { type: 'object', properties: { value: { type: 'string' } }, required: ['value'] },
    annotations: { readOnlyHint: i % 3 === 0, destructiveHint: i % 3 === 1 },
  }));
  await registry.observeTools(registry.get('bench')!, tools);
  const response = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools } });
  const ctx = {
    app: registry.get('bench')!,
    registry,
    bindings: new Bindings(store, Buffer.alloc(32, 1), () => 1, { apply: () => {}, has: () => false }),
    owner: 'user client',
    scopes: new Set(['bench:read', 'bench:write']),
    methods: requestMethods([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]),
    onToolsChanged: () => {},
  };
  const time = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 200; i++) await fn();
    const start = performance.now();
    const rounds = 2000;
    for (let i = 0; i < rounds; i++) await fn();
    return (performance.now() - start) / rounds;
  };
  const baseline = await time(async () => JSON.stringify(JSON.parse(response)));
  const parsedTools = (JSON.parse(response) as { result: { tools: typeof tools } }).result.tools;
  const manifest = await time(() => registry.observeTools(registry.get('bench')!, parsedTools));
  // Which tools this token sees: one approved-scope lookup per tool (the manifest check is separate).
  const visibility = await time(async () => visibleTools(ctx, parsedTools));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { filter: visibility, manifest, baseline };
}

/**
 * A tools/call whose arguments carry about `bytes` of table rows — strings and small numbers, as a
 * tool importing data receives them, with the usual look-alikes of inexact numbers inside strings
 * ("2.0", addresses). The echo tool ignores them, so its answer stays small.
 */
function largeCall(bytes: number): string {
  const rows: unknown[] = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const row = { id: i, name: `row ${i}`, version: '2.0', address: `10.0.${i % 256}.1`, price: (i % 1000) / 4, tags: ['a', 'b'] };
    rows.push(row);
    size += JSON.stringify(row).length + 1;
  }
  return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hello', rows } } });
}

/** Parsing a 4 MiB body, in process: the gateway's parse beside JSON.parse, rounds interleaved. */
function parseCost(): { gateway: number; plain: number; exact: number; bytes: number } {
  const text = largeCall(4 * 1024 * 1024);
  if (needsExactParse(text)) throw new Error('the large body should not need the exact parse');
  // The same body with one number a double would round: the only kind that takes the reviver.
  const withBigNumber = text.replace('"message":"hello"', '"message":"hello","account":18446744073709551615');
  const times = { gateway: [] as number[], plain: [] as number[], exact: [] as number[] };
  const time = (fn: () => unknown) => {
    const start = performance.now();
    fn();
    return performance.now() - start;
  };
  for (let i = 0; i < 23; i++) {
    const gateway = time(() => parseBody(text));
    const plain = time(() => JSON.parse(text));
    const exact = time(() => parseBody(withBigNumber));
    if (i < 3) continue;
    times.gateway.push(gateway);
    times.plain.push(plain);
    times.exact.push(exact);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { gateway: median(times.gateway), plain: median(times.plain), exact: median(times.exact), bytes: Buffer.byteLength(text) };
}

async function revocationDelay(issuers: string[], resource: string): Promise<number[]> {
  const token = await serviceToken(issuers[0]!, resource);
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string };
  // A service token has no grant; revoke the token itself (RFC 7009) at the first instance.
  const revokedAt = performance.now();
  const revoke = await fetch(`${issuers[0]}/oauth/revoke`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`bench-service:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  if (revoke.status !== 200) throw new Error(`revocation failed: ${revoke.status} (${claims.jti})`);
  return Promise.all(
    issuers.map(async (issuer) => {
      const url = `${issuer}/mcp/bench`;
      for (;;) {
        const res = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: CALL });
        await res.arrayBuffer();
        if (res.status === 401) return performance.now() - revokedAt;
        if (performance.now() - revokedAt > 5000) return Infinity;
        await new Promise((r) => setTimeout(r, 10));
      }
    }),
  );
}

async function main(): Promise<void> {
  // In process and synchronous, before any connection is open: seconds of a busy event loop would
  // let keep-alive sockets close unseen and the next request write into one (EPIPE).
  const parse = parseCost();
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-gw-'));
  const children: ChildProcess[] = [];
  try {
    const env = portcullisEnv(dataDir, GATEWAY_PORT);
    await prepare(dataDir, env);
    const configFile = join(dataDir, 'portcullis.config.json');
    (await import('node:fs')).writeFileSync(configFile, JSON.stringify({ applications: [application] }));
    const upstream = spawn(node, ['bench/upstream-server.ts', String(UPSTREAM_PORT)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(upstream);
    await waitFor(upstream, 'ready');
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const gateway = spawn(node, [...profile, 'src/cli/main.ts', 'start'], { cwd: root, env: { ...env, PORTCULLIS_CONFIG: configFile }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(gateway);
    await waitFor(gateway, 'Portcullis is running');
    const issuer = `http://localhost:${GATEWAY_PORT}`;
    const resource = `${issuer}/mcp/bench`;
    const token = await serviceToken(issuer, resource);

    const direct = await cannon(`http://127.0.0.1:${UPSTREAM_PORT}/mcp`, MCP_HEADERS);
    const through = await cannon(resource, { ...MCP_HEADERS, authorization: `Bearer ${token}` });
    const directOne = await sequential(`http://127.0.0.1:${UPSTREAM_PORT}/mcp`, MCP_HEADERS);
    const throughOne = await sequential(resource, { ...MCP_HEADERS, authorization: `Bearer ${token}` });
    const large = largeCall(1024 * 1024);
    const largeDirect = await sequential(`http://127.0.0.1:${UPSTREAM_PORT}/mcp`, MCP_HEADERS, 100, large, 10);
    const largeThrough = await sequential(resource, { ...MCP_HEADERS, authorization: `Bearer ${token}` }, 100, large, 10);
    const filter = await filterCost();

    let second: ChildProcess | undefined;
    const issuers = [issuer];
    if (DATABASE_URL) {
      second = spawn(node, ['src/cli/main.ts', 'start'], {
        cwd: root,
        env: { ...portcullisEnv(mkdtempSync(join(tmpdir(), 'portcullis-bench-gw2-')), SECOND_PORT), PORTCULLIS_CONFIG: configFile, PORTCULLIS_PUBLIC_URL: issuer },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(second);
      await waitFor(second, 'Portcullis is running');
    }
    // The second instance serves the same issuer (as behind a load balancer), reached on its own port.
    const delays = await revocationDelay(issuers, resource);
    let remote: number | undefined;
    if (second) {
      const token2 = await serviceToken(issuer, resource);
      const revokedAt = performance.now();
      await fetch(`${issuer}/oauth/revoke`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`bench-service:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: token2 }),
      });
      for (;;) {
        const res = await fetch(`http://localhost:${SECOND_PORT}/mcp/bench`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token2}` }, body: CALL });
        await res.arrayBuffer();
        if (res.status === 401) {
          remote = performance.now() - revokedAt;
          break;
        }
        if (performance.now() - revokedAt > 5000) {
          remote = Infinity;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    const ratio = through.rps / direct.rps;
    const added = through.p50 - direct.p50;
    console.log(`\nbench/gateway.ts — ${SECONDS} s per run, ${CONCURRENCY} connections, Node ${process.version}\n`);
    console.log('| measure | through the gateway | direct to the upstream | comparison | goal |');
    console.log('|---|---|---|---|---|');
    console.log(`| tools/call throughput | ${through.rps.toFixed(0)}/s | ${direct.rps.toFixed(0)}/s | ${ratio.toFixed(2)} × | ≥ 0.8 × ${ratio >= 0.8 ? '✓' : '✗'} |`);
    const addedOne = throughOne.p50 - directOne.p50;
    console.log(`| tools/call latency p50 / p99, one request at a time | ${throughOne.p50.toFixed(2)} / ${throughOne.p99.toFixed(2)} ms | ${directOne.p50.toFixed(2)} / ${directOne.p99.toFixed(2)} ms | +${addedOne.toFixed(2)} ms at p50 | ≤ +1 ms ${addedOne <= 1 ? '✓' : '✗'} |`);
    console.log(`| tools/call latency p50 / p99, ${CONCURRENCY} connections | ${through.p50} / ${through.p99} ms | ${direct.p50} / ${direct.p99} ms | +${added.toFixed(2)} ms at p50 | (reported: queueing on ${'2'} shared cores) |`);
    console.log(`| tools/list of 500 tools: filtering (which tools this token sees) | ${filter.filter.toFixed(3)} ms | parse + serialize alone ${filter.baseline.toFixed(3)} ms | | ≤ 0.2 ms ${filter.filter <= 0.2 ? '✓' : '✗'} |`);
    console.log(`| tools/list of 500 tools: manifest check (did any tool change?) | ${filter.manifest.toFixed(3)} ms | | | (reported) |`);
    const parseRatio = parse.gateway / parse.plain;
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    console.log(`| parsing a ${mib(parse.bytes)} MiB tools/call body (table rows), median of 20 | ${parse.gateway.toFixed(1)} ms | JSON.parse alone ${parse.plain.toFixed(1)} ms | ${parseRatio.toFixed(2)} × | ≤ 2 × ${parseRatio <= 2 ? '✓' : '✗'} |`);
    console.log(`| the same body with one 64-bit number (the exact parse, with a reviver) | ${parse.exact.toFixed(1)} ms | | ${(parse.exact / parse.plain).toFixed(1)} × JSON.parse | (reported) |`);
    console.log(`| tools/call with ${mib(Buffer.byteLength(large))} MiB of arguments, p50 / p99 of 100 one at a time | ${largeThrough.p50.toFixed(1)} / ${largeThrough.p99.toFixed(1)} ms | ${largeDirect.p50.toFixed(1)} / ${largeDirect.p99.toFixed(1)} ms | +${(largeThrough.p50 - largeDirect.p50).toFixed(1)} ms at p50 | (reported) |`);
    console.log(`| revoked token refused, same process | ${delays[0]!.toFixed(0)} ms | | | ≤ 1000 ms ${delays[0]! <= 1000 ? '✓' : '✗'} |`);
    if (remote !== undefined) console.log(`| revoked token refused, other process (PostgreSQL) | ${remote.toFixed(0)} ms | | | ≤ 1000 ms ${remote <= 1000 ? '✓' : '✗'} |`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
    if (DATABASE_URL) {
      await dropBenchSchema(DATABASE_URL, SCHEMA);
    }
  }
}

await main();
