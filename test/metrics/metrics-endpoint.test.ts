/**
 * /metrics as an operator scrapes it: refused without the metrics token (or with a wrong one),
 * answered with it in the Prometheus text format; served on `metrics.port` alone when that is set;
 * not served at all when neither is configured. What the counters say is checked from the
 * operator's side: after one token issued and one allowed tool call, those series are 1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { bindHttpServer } from '../../src/server/http-server.ts';
import { postMcp, toolCall } from '../guard/sign-in.ts';
import { addStaticClient, endpoint, postForm } from '../helpers/authz.ts';
import { waitFor } from '../helpers/gateway.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { parseExposition, seriesOf, valueOf, type Sample } from './exposition.ts';

const TOKEN = 'metrics-token-for-the-tests-0123456789';

async function scrape(url: string, token: string | undefined = TOKEN): Promise<Sample[]> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  assert.equal(res.status, 200, await res.clone().text());
  return parseExposition(await res.text());
}

describe('/metrics with a metrics token', () => {
  let server: TestServer;
  let metricsUrl: string;
  before(async () => {
    server = await startTestServer({ metrics: { token: TOKEN } });
    metricsUrl = `${server.url}/metrics`;
  });
  after(() => server?.stop());

  it('refuses a scrape without the token (401 authentication_required) or with a wrong one (401 invalid_token)', async () => {
    const none = await fetch(metricsUrl);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: string }).error, 'authentication_required');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);

    const wrong = await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error: string }).error, 'invalid_token');
    assert.match(wrong.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

    const basic = await fetch(metricsUrl, { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } });
    assert.equal(basic.status, 401);
  });

  it('answers with the token, in the Prometheus text format, with the process metrics', async () => {
    const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(await res.text());
    assert.ok(valueOf(samples, 'process_cpu_user_seconds_total') !== undefined, 'process metrics');
    assert.ok(seriesOf(samples, 'nodejs_eventloop_lag_seconds').length > 0, 'event loop metrics');
    assert.equal(valueOf(samples, 'portcullis_dependency_up', { dependency: 'store' }), 1);
    assert.equal(valueOf(samples, 'portcullis_limiter_backend', { backend: 'memory' }), 1, 'no Redis configured: counting in memory');
  });

  it('only GET and HEAD', async () => {
    const res = await fetch(metricsUrl, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 405);
    assert.equal(((await res.json()) as { error: string }).error, 'method_not_allowed');
  });

  it('counts a token issued by grant type, and gateway calls by application, tool, decision and code', async () => {
    const machine = await addStaticClient(server, { client_name: 'Metrics job' });
    const issued = await postForm(endpoint(server, 'token'), { grant_type: 'client_credentials', resource: server.mcpUrl, scope: 'demo:read' }, machine);
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const token = String(issued.body.access_token);

    const allowed = await postMcp(server.mcpUrl, toolCall('list_projects'), { token });
    assert.equal(allowed.status, 200, allowed.text);
    // demo:write is not in the token: refused before the upstream (403 insufficient_scope).
    const denied = await postMcp(server.mcpUrl, toolCall('create_project', { name: 'x' }), { token });
    assert.equal(denied.status, 403, denied.text);
    // A made-up name never becomes a series of its own.
    await postMcp(server.mcpUrl, toolCall('made_up_tool_7f3a'), { token });

    const samples = await scrape(metricsUrl);
    assert.equal(valueOf(samples, 'portcullis_tokens_issued_total', { grant_type: 'client_credentials' }), 1);
    assert.equal(valueOf(samples, 'portcullis_http_requests_total', { route: 'oauth/token', status: '200' }), 1);
    assert.equal(valueOf(samples, 'portcullis_gateway_requests_total', { application: 'demo', tool: 'list_projects', decision: 'allow', code: '' }), 1);
    assert.equal(valueOf(samples, 'portcullis_gateway_requests_total', { application: 'demo', tool: 'create_project', decision: 'deny', code: 'insufficient_scope' }), 1);
    const gatewaySeries = seriesOf(samples, 'portcullis_gateway_requests_total');
    assert.ok(gatewaySeries.every((s) => s.labels.tool !== 'made_up_tool_7f3a'), 'no series for a made-up tool name');
    assert.ok(gatewaySeries.some((s) => s.labels.tool === '(unknown)'), 'a made-up tool name counts as (unknown)');
    assert.equal(valueOf(samples, 'portcullis_http_requests_total', { route: 'gateway', status: '403' }), 1);
    assert.ok((valueOf(samples, 'portcullis_upstream_request_duration_seconds_count', { application: 'demo', status: '200' }) ?? 0) >= 1, 'upstream latency');
    assert.ok((valueOf(samples, 'portcullis_gateway_request_duration_seconds_count', { application: 'demo', decision: 'allow' }) ?? 0) >= 1);
  });

  it('counts audit writes: the gateway calls above end up written, and the queue drains', async () => {
    const samples = await waitFor(async () => {
      const s = await scrape(metricsUrl);
      // Written, and nothing left waiting (other records — sign-ins, tokens — are queued in batches too).
      return (valueOf(s, 'portcullis_audit_events_written_total') ?? 0) >= 3 && valueOf(s, 'portcullis_audit_queue_depth') === 0 && s;
    }, 'the audit records of the three gateway calls to be written and the queue to drain');
    assert.ok((valueOf(samples, 'portcullis_audit_write_duration_seconds_count') ?? 0) >= 1);
  });

  it('times how long a revocation recorded elsewhere took to reach this process', async () => {
    const now = Math.floor(Date.now() / 1000);
    // As another instance would: straight into the store's event sequence, read back by this process.
    await server.store.revocations.add({ kind: 'grant', id: 'grant-from-another-instance', at: now, expiresAt: now + 3600 });
    const samples = await waitFor(async () => {
      const s = await scrape(metricsUrl);
      return (valueOf(s, 'portcullis_revocation_propagation_seconds_count') ?? 0) >= 1 && s;
    }, 'the revocation to be read');
    const lag = valueOf(samples, 'portcullis_revocation_propagation_seconds_sum')!;
    assert.ok(lag >= 0 && lag < 5, `lag ${lag} s`);
  });

  it('/healthz and /readyz answer without any credential', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { store: 'ok', migrations: 'ok', signing_keys: 'ok' } });
  });
});

describe('/metrics on metrics.port', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ metrics: { port: 0 } });
  });
  after(() => server?.stop());

  it('is answered there without a token, with /healthz and /readyz; the main port does not serve /metrics', async () => {
    assert.ok(server.metricsPort, 'the metrics port is known');
    const base = `http://127.0.0.1:${server.metricsPort}`;
    const samples = await scrape(`${base}/metrics`, undefined);
    assert.ok(valueOf(samples, 'process_cpu_user_seconds_total') !== undefined);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const other = await fetch(`${base}/oauth/token`);
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { error: string }).error, 'not_found');

    const main = await fetch(`${server.url}/metrics`);
    assert.equal(main.status, 404);
    assert.doesNotMatch(await main.text(), /portcullis_/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the probes stay on the main port too');
  });
});

describe('/metrics with neither a token nor a port', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  it('is not served (404); /healthz and /readyz are', async () => {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(await res.text(), /portcullis_/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  });
});

describe('under an issuer with a path', () => {
  let server: TestServer;
  let origin: string;
  before(async () => {
    server = await startTestServer({ publicUrl: 'http://localhost:1/auth', metrics: { token: TOKEN } });
    origin = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
  });
  after(() => server?.stop());

  it('serves /healthz, /readyz and /metrics below the issuer path, not at the root', async () => {
    assert.equal((await fetch(`${origin}/auth/healthz`)).status, 200);
    assert.equal((await fetch(`${origin}/auth/readyz`)).status, 200);
    assert.equal((await fetch(`${origin}/auth/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
    assert.equal((await fetch(`${origin}/healthz`)).status, 404);
  });
});

describe('while the server is still starting', () => {
  it('/healthz is 200 (alive: not to be restarted), everything else 503 with Retry-After', async () => {
    const bound = await bindHttpServer(loadConfig({ env: {}, cwd: '/nonexistent', overrides: { port: 0 } }));
    try {
      const base = `http://127.0.0.1:${bound.port}`;
      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 503);
      assert.ok(Number(ready.headers.get('retry-after')) > 0);
    } finally {
      await bound.close();
    }
  });
});

describe('limiter rejections', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ metrics: { token: TOKEN }, limits: { application: '1/1m' } });
  });
  after(() => server?.stop());

  it('a call over a limit is counted by the limit that refused it', async () => {
    const machine = await addStaticClient(server, { client_name: 'Busy job' });
    const issued = await postForm(endpoint(server, 'token'), { grant_type: 'client_credentials', resource: server.mcpUrl, scope: 'demo:read' }, machine);
    const token = String(issued.body.access_token);
    assert.equal((await postMcp(server.mcpUrl, toolCall('list_projects'), { token })).status, 200);
    const refused = await postMcp(server.mcpUrl, toolCall('list_projects'), { token });
    assert.equal(refused.status, 429, refused.text);
    const samples = await scrape(`${server.url}/metrics`);
    assert.equal(valueOf(samples, 'portcullis_limiter_rejections_total', { scope: 'application', code: 'rate_limited' }), 1);
    assert.equal(valueOf(samples, 'portcullis_gateway_requests_total', { application: 'demo', tool: 'list_projects', decision: 'deny', code: 'rate_limited' }), 1);
  });
});

describe('metrics configuration', () => {
  const load = (env: NodeJS.ProcessEnv, overrides = {}) => loadConfig({ env, cwd: '/nonexistent', overrides });
  const refusedPaths = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'config_invalid');
      return ((err as { detail: { errors: { path: string }[] } }).detail.errors).map((e) => e.path);
    }
    assert.fail('accepted');
  };

  it('from the environment: PORTCULLIS_METRICS_TOKEN and PORTCULLIS_METRICS_PORT', () => {
    const config = load({ PORTCULLIS_METRICS_TOKEN: TOKEN, PORTCULLIS_METRICS_PORT: '9464' });
    assert.deepEqual(config.metrics, { token: TOKEN, port: 9464 });
  });

  it('refuses a short token, and a metrics port that is the main port', () => {
    assert.deepEqual(refusedPaths(() => load({ PORTCULLIS_METRICS_TOKEN: 'short' })), ['metrics.token']);
    assert.deepEqual(refusedPaths(() => load({}, { port: 8080, metrics: { port: 8080 } })), ['metrics.port']);
  });
});
