/**
 * Records streaming out as they are committed (a real audit log on a real SQLite store):
 *  - a webhook receiver gets them POSTed, signed as the README tells receivers to check
 *    (HMAC-SHA256 over `${t}.${body}`, computed here with node:crypto, not with our code), each
 *    event's id the record's hash; its kind and organization filters hold;
 *  - a receiver that answers 500 gets the same events again, with the same ids, until it takes them;
 *  - a receiver that never answers slows nothing: writes finish at once, and its queue stays bounded;
 *  - the stdout sink writes one JSON line per record, and those lines verify as an export does;
 *  - a running server sends what it records to the webhooks of its configuration;
 *  - a webhook URL that would send records over plain http to another host is refused at start.
 */
import type { AuditEvent } from '../../src/store/audit.ts';
import type { Store } from '../../src/store/store.ts';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { startAuditSinks } from '../../src/audit/sinks.ts';
import { verifyLines } from '../../src/audit/verify.ts';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { storesUnderTest } from '../helpers/stores.ts';
import { adminClient, waitFor } from '../admin/support.ts';
import { startTestServer } from '../helpers/server.ts';

const SECRET = 'webhook-secret-for-tests';

interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver answering each POST with the next status of `statuses` (the last one repeats); `hang`: never answers. */
async function receiver(statuses: number[] = [204], options: { hang?: boolean } = {}): Promise<{ url: string; deliveries: Delivery[]; server: Server }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      if (options.hang) return;
      res.writeHead(statuses[Math.min(deliveries.length - 1, statuses.length - 1)]!).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/audit`, deliveries, server };
}

/** The README's recipe, as a receiver would write it. */
function signatureHolds(delivery: Delivery): boolean {
  const header = String(delivery.headers['portcullis-signature']);
  const { t, v1 } = Object.fromEntries(header.split(',').map((kv) => kv.split('='))) as { t: string; v1: string };
  const expected = createHmac('sha256', SECRET).update(`${t}.${delivery.body}`).digest('hex');
  return v1 === expected && Math.abs(Date.now() / 1000 - Number(t)) < 300;
}

const eventsOf = (delivery: Delivery) => (JSON.parse(delivery.body) as { events: { id: string; record: AuditEvent }[] }).events;

const sqlite = storesUnderTest().find((t) => t.dialect === 'sqlite')!;

async function auditLog(): Promise<{ store: Store; log: AuditLog }> {
  const store = await sqlite.make();
  return { store, log: new AuditLog(store, silentLogger(), () => Math.floor(Date.now() / 1000), { batchMs: 5 }) };
}

describe('audit records streaming out', () => {
  it('a webhook receives the records it asked for, signed, each with its hash as the event id', async () => {
    const hook = await receiver();
    const { log } = await auditLog();
    const sinks = startAuditSinks(log, { stdout: false, webhooks: [{ url: hook.url, secret: SECRET, kinds: ['gateway.', 'admin.'], orgId: 'org_a' }] }, silentLogger());
    after(() => sinks.close());
    const wanted = [await log.write({ kind: 'gateway.call', orgId: 'org_a', decision: 'deny', reason: 'policy_denied' }), await log.write({ kind: 'admin.member.role', orgId: 'org_a' })];
    await log.write({ kind: 'gateway.call', orgId: 'org_b' });
    await log.write({ kind: 'auth.sign_in', orgId: 'org_a' });
    await waitFor(() => hook.deliveries.flatMap(eventsOf).length >= 2, 'two events delivered');
    await log.flush();
    const events = hook.deliveries.flatMap(eventsOf);
    assert.deepEqual(events.map((e) => e.id), wanted.map((r) => r.hash));
    assert.deepEqual(events.map((e) => e.record), wanted);
    for (const delivery of hook.deliveries) {
      assert.ok(signatureHolds(delivery), 'the HMAC over `${t}.${body}` matches');
      assert.match(String(delivery.headers['content-type']), /^application\/json/);
    }
    assert.equal(signatureHolds({ ...hook.deliveries[0]!, body: hook.deliveries[0]!.body.replace('policy_denied', 'allowed') }), false, 'an edited body fails the check');
  });

  it('retries after a 500 with back-off, the same event ids again, until the receiver takes them', async () => {
    const hook = await receiver([500, 503, 200]);
    const { log } = await auditLog();
    const sinks = startAuditSinks(log, { stdout: false, webhooks: [{ url: hook.url, secret: SECRET }] }, silentLogger(), { webhook: { baseDelayMs: 20, maxDelayMs: 100 } });
    after(() => sinks.close());
    const record = await log.write({ kind: 'gateway.call', orgId: 'org_a' });
    await waitFor(() => sinks.webhooks[0]!.stats.delivered === 1, 'delivered after the retries');
    assert.equal(hook.deliveries.length, 3);
    assert.deepEqual(hook.deliveries.map((d) => eventsOf(d).map((e) => e.id)), [[record.hash], [record.hash], [record.hash]], 'the de-duplication id is stable');
    assert.ok(hook.deliveries.every(signatureHolds), 'every attempt is signed');
    assert.deepEqual(sinks.webhooks[0]!.stats, { delivered: 1, dropped: 0, failures: 2, queued: 0 });
  });

  it('a receiver that never answers slows no writer, and its queue stays bounded', async () => {
    const hook = await receiver([200], { hang: true });
    const { log } = await auditLog();
    const sinks = startAuditSinks(log, { stdout: false, webhooks: [{ url: hook.url, secret: SECRET }] }, silentLogger(), { webhook: { maxQueue: 5, maxBatch: 1, timeoutMs: 60_000 } });
    after(() => sinks.close(10));
    const started = performance.now();
    for (let i = 0; i < 40; i++) log.record({ kind: 'gateway.call', orgId: 'org_a', reason: `r${i}` });
    await log.flush();
    assert.ok(performance.now() - started < 2000, 'the writes did not wait for the receiver');
    await waitFor(() => hook.deliveries.length === 1, 'the first POST arrived (and hangs)');
    const stats = sinks.webhooks[0]!.stats;
    assert.ok(stats.queued <= 5, `queued ${stats.queued}`);
    assert.equal(stats.queued + stats.dropped + 1, 40, 'one in flight, the rest queued or dropped — none lost silently');
  });

  it('stdout: one JSON line per committed record, verifiable like an export', async () => {
    const { log } = await auditLog();
    const out = new PassThrough();
    let text = '';
    out.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    startAuditSinks(log, { stdout: true, webhooks: [] }, silentLogger(), { stdout: out });
    for (let i = 0; i < 5; i++) log.record({ kind: 'gateway.call', orgId: i % 2 ? 'org_a' : 'org_b', reason: `r${i}` });
    await log.write({ kind: 'admin.key.created', orgId: 'org_a' });
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 6);
    assert.deepEqual(lines.map((line) => JSON.parse(line).kind), ['gateway.call', 'gateway.call', 'gateway.call', 'gateway.call', 'gateway.call', 'admin.key.created']);
    assert.deepEqual(await verifyLines(lines), { ok: true, checked: 6 });
  });

  it('a running server sends what it records: an admin change reaches the configured webhook', async () => {
    const hook = await receiver();
    const server = await startTestServer({ audit: { webhooks: [{ url: hook.url, secret: SECRET, kinds: ['admin.'] }] } });
    after(() => server.stop());
    const ada = await adminClient(server, 'ada@example.com', false);
    const created = await ada.call('POST', '/orgs/acme/resources', { kind: 'workspace', name: 'Sales' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const delivery = await waitFor(() => hook.deliveries.find((d) => eventsOf(d).some((e) => e.record.orgId === server.org.id)), 'the admin change delivered');
    assert.ok(signatureHolds(delivery));
    assert.ok(eventsOf(delivery).every((e) => e.record.kind.startsWith('admin.') && e.record.actor === server.user.id));
  });

  it('refuses at start a webhook that would send records over plain http to another host, or a short secret', () => {
    for (const [webhook, field] of [
      [{ url: 'http://collector.example.com/hook', secret: SECRET }, 'audit.webhooks.0.url'],
      [{ url: 'https://user:pw@collector.example.com/hook', secret: SECRET }, 'audit.webhooks.0.url'],
      [{ url: 'https://collector.example.com/hook', secret: 'short' }, 'audit.webhooks.0.secret'],
    ] as const) {
      assert.throws(
        () => loadConfig({ env: {}, overrides: { audit: { webhooks: [webhook] } } }),
        (err: { code?: string; detail?: { errors?: { path: string }[] } }) => err.code === 'config_invalid' && err.detail?.errors?.some((e) => e.path === field) === true,
        field,
      );
    }
    const ok = loadConfig({ env: {}, overrides: { audit: { stdout: true, webhooks: [{ url: 'https://collector.example.com/hook', secret: SECRET, kinds: ['gateway.'] }] } } });
    assert.equal(ok.audit.webhooks[0]!.url, 'https://collector.example.com/hook');
  });
});
