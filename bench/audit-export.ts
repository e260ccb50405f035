/**
 * Exporting an organization's audit trail of 1,000,000 records: the time it takes and the memory it
 * holds. The records are inserted straight through the store in big group commits (the chain
 * computed as the audit log does), then exported as JSON lines and as CSV over real HTTP — the
 * export route's own pipeline: audit/export.ts → http/streamed-body.ts → @hono/node-server on
 * node:http — to a client that reads and discards the body as fast as it can. The process's RSS is
 * sampled every 20 ms; beside the peak during each export stands the RSS just before it.
 *   goal: flat memory — peak RSS during the export within a few tens of MB of the RSS before it.
 *
 * Usage: node bench/audit-export.ts   (BENCH_RECORDS=1000000; BENCH_DATABASE_URL=postgres://… for PostgreSQL
 *        in a fresh schema instead of SQLite in a temporary directory)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { dropBenchSchema } from './lib/portcullis-process.ts';
import { auditHash } from '../src/audit/chain.ts';
import { openExport, type ExportFormat } from '../src/audit/export.ts';
import { silentLogger } from '../src/core/log.ts';
import { streamedBody } from '../src/http/streamed-body.ts';
import type { AuditInput } from '../src/store/audit.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const BATCH = 10_000;
const DATABASE_URL = process.env.BENCH_DATABASE_URL;
const MB = 1024 * 1024;

function gatewayCall(orgId: string, userIds: string[], i: number): AuditInput {
  const denied = i % 20 === 0;
  return {
    at: 1_800_000_000 + Math.floor(i / 100),
    orgId,
    actor: userIds[i % userIds.length]!,
    kind: 'gateway.call',
    subject: userIds[i % userIds.length]!,
    clientId: 'bench-client',
    app: 'crm',
    tool: denied ? 'delete_account' : 'search_contacts',
    decision: denied ? 'deny' : 'allow',
    reason: denied ? 'policy_denied' : null,
    details: {
      requestId: `req_${i.toString(36).padStart(8, '0')}`,
      httpMethod: 'POST',
      calls: [{ method: 'tools/call', tool: denied ? 'delete_account' : 'search_contacts' }],
      ...(denied ? { rule: 'tool-review' } : { upstreamStatus: 200 }),
      durationMs: 3.25,
      clientIp: '203.0.113.7',
      userAgent: 'bench-agent/1.0',
    },
  };
}

async function seed(store: Store): Promise<{ orgId: string; seconds: number }> {
  const org = await store.orgs.create({ slug: 'acme', name: 'Acme' });
  const users = await Promise.all(Array.from({ length: 50 }, (_, i) => store.users.create({ email: `user${i}@example.com` })));
  await store.clients.upsert({ clientId: 'bench-client', metadata: { client_name: 'Bench Client' }, kind: 'static' });
  const started = performance.now();
  for (let i = 0; i < RECORDS; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, RECORDS - i) }, (_, j) => gatewayCall(org.id, users.map((u) => u.id), i + j));
    await store.audit.appendMany(batch, auditHash);
    if ((i / BATCH) % 20 === 0) process.stderr.write(`  inserted ${i + batch.length}\n`);
  }
  return { orgId: org.id, seconds: (performance.now() - started) / 1000 };
}

/** The export route's pipeline on a real HTTP server: pulled as the socket drains. */
async function exportServer(store: Store, orgId: string) {
  const log = silentLogger();
  const listener = getRequestListener(async (request) => {
    const format = new URL(request.url).searchParams.get('format') as ExportFormat;
    const started = await openExport(store, { orgId, format });
    return new Response(streamedBody(started.chunks, log, 'bench export'), { headers: { 'content-type': started.contentType } });
  });
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function measure(url: string, format: ExportFormat) {
  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const started = performance.now();
  const response = await fetch(`${url}/?format=${format}`);
  let bytes = 0;
  let lines = 0;
  for await (const chunk of response.body!) {
    bytes += chunk.byteLength;
    for (const byte of chunk as Uint8Array) if (byte === 10) lines++;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  return { format, seconds, bytes, lines, rssBefore, peak };
}


async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-audit-'));
  const schema = DATABASE_URL ? `bench_audit_${process.pid}` : undefined;
  const store = await openStore({ databaseUrl: DATABASE_URL, dataDir: dir, schema });
  try {
    await store.migrate();
    process.stderr.write(`inserting ${RECORDS} records (${store.dialect})…\n`);
    const { orgId, seconds } = await seed(store);
    const server = await exportServer(store, orgId);
    const results = [];
    for (const format of ['jsonl', 'csv'] as const) results.push(await measure(server.url, format));
    await server.close();
    console.log(`\nAudit export, ${RECORDS.toLocaleString('en')} records, ${store.dialect}, Node ${process.version}`);
    console.log(`insert: ${seconds.toFixed(1)} s (${Math.round(RECORDS / seconds).toLocaleString('en')} records/s, batches of ${BATCH})\n`);
    console.log('format  time     records/s   size      RSS before  peak RSS during  growth');
    for (const r of results) {
      const records = r.format === 'csv' ? r.lines - 1 : r.lines;
      console.log(
        `${r.format.padEnd(6)}  ${`${r.seconds.toFixed(1)} s`.padEnd(7)}  ${Math.round(records / r.seconds).toLocaleString('en').padStart(9)}   ${`${(r.bytes / MB).toFixed(0)} MB`.padEnd(8)}  ${`${(r.rssBefore / MB).toFixed(0)} MB`.padStart(10)}  ${`${(r.peak / MB).toFixed(0)} MB`.padStart(15)}  ${`+${((r.peak - r.rssBefore) / MB).toFixed(0)} MB`.padStart(6)}`,
      );
    }
    console.log(`\nprocess maxRSS (whole run, insert included): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  } finally {
    await store.close();
    if (schema) await dropBenchSchema(DATABASE_URL!, schema);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
