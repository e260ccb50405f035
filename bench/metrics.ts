/**
 * What metrics cost a gateway call, measured in process on the instruments the server uses: per
 * call, the front door's request count and latency (two clocks, a counter, a histogram), the
 * gateway's decision count and duration (gateway-calls.ts: the tool label checked against the
 * manifest) and the upstream latency histogram — the whole of the metrics work on a call's path —
 * beside the time a gateway call takes (bench/gateway.ts, one request at a time: ~1.7–2.5 ms).
 * Also: one scrape of /metrics with a few hundred series.
 *
 * Usage: node bench/metrics.ts   (BENCH_CALLS=200000 by default)
 */
import type { DecisionRecord } from '../src/audit/gateway-decisions.ts';
import { gatewayCallMetrics } from '../src/metrics/gateway-calls.ts';
import { Metrics } from '../src/metrics/instruments.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);
const metrics = new Metrics();
const tools = new Set(['echo', 'list_projects', 'read_note', 'write_note']);
const countCall = gatewayCallMetrics(metrics, (_app, tool) => tools.has(tool));
const records: DecisionRecord[] = [...tools, 'made_up'].map((tool, i) => ({
  at: Date.now(),
  app: i % 2 ? 'notes' : 'demo',
  httpMethod: 'POST',
  calls: [{ method: 'tools/call', tool }],
  decision: i === 4 ? 'deny' : 'allow',
  ...(i === 4 ? { code: 'policy_denied' as const } : {}),
  requestId: 'r',
  clientIp: '127.0.0.1',
  durationMs: 1.5,
}));

/** The metrics work of one gateway call, as the server does it. */
function oneCall(i: number): void {
  const started = performance.now();
  const record = records[i % records.length]!;
  metrics.upstreamDuration.observe({ application: record.app, status: '200' }, 0.0012);
  countCall(record);
  const labels = { route: 'gateway', status: '200' };
  metrics.httpRequests.inc(labels);
  metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
}

for (let i = 0; i < 20_000; i++) oneCall(i); // warm-up
const started = performance.now();
for (let i = 0; i < CALLS; i++) oneCall(i);
const perCall = ((performance.now() - started) / CALLS) * 1000;
console.log(`metrics work per gateway call: ${perCall.toFixed(2)} µs (${CALLS} calls)`);

const scrapes = 200;
const scrapeStart = performance.now();
let size = 0;
for (let i = 0; i < scrapes; i++) size = (await metrics.exposition()).length;
console.log(`one /metrics exposition: ${((performance.now() - scrapeStart) / scrapes).toFixed(2)} ms (${size} bytes)`);
