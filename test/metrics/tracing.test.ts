/**
 * OpenTelemetry traces as an operator with a collector sees them: with an OTLP endpoint
 * configured, each request is a server span (continuing the caller's W3C `traceparent`), the
 * gateway's upstream call is a client span under it, and the upstream MCP server receives a
 * `traceparent` naming that client span — so its own spans join the same trace. Without an
 * endpoint, nothing is exported and upstreams get no `traceparent`.
 *
 * The collector is a tiny OTLP/HTTP receiver (node:http) that keeps the JSON it is sent; the
 * upstream is the fixture MCP server, which records the headers of every request.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { tracesUrl } from '../../src/server/observability.ts';
import { appUrl, callTool, exchange, httpApp, request, startFixtureMcp, startGateway, tokenFor, type FixtureMcp } from '../helpers/gateway.ts';
import type { TestServer } from '../helpers/server.ts';

const V = '2025-11-25';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind: 2 server, 3 client. */
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** An OTLP/HTTP collector that keeps every span POSTed to /v1/traces (JSON encoding). */
async function otlpReceiver(): Promise<{ url: string; spans: ExportedSpan[]; paths: string[]; close(): Promise<void> }> {
  const spans: ExportedSpan[] = [];
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      paths.push(req.url ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[] };
      for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    spans,
    paths,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const INCOMING_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCOMING_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

describe('OpenTelemetry traces, with an OTLP endpoint', () => {
  let collector: Awaited<ReturnType<typeof otlpReceiver>>;
  let fixture: FixtureMcp;
  let server: TestServer;
  let token: string;
  let url: string;
  before(async () => {
    collector = await otlpReceiver();
    fixture = await startFixtureMcp();
    server = await startGateway([httpApp('fix', fixture.url)], { telemetry: { otlpEndpoint: collector.url } });
    url = appUrl(server, 'fix');
    token = (await tokenFor(server, 'fix')).access_token;
    await exchange(url, request('tools/list'), { token, protocolVersion: V });
  });
  after(async () => {
    await server?.stop();
    await fixture?.stop();
    await collector?.close();
  });

  it('continues the caller’s trace: server span → client span → the upstream’s traceparent, all exported', async () => {
    const before = fixture.requests.length;
    const answer = await exchange(url, callTool('echo', { text: 'traced' }), { token, protocolVersion: V, headers: { traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01` } });
    assert.equal(answer.status, 200, answer.text);
    const upstream = fixture.requests.slice(before).find((r) => r.rpc.includes('tools/call'));
    const sent = TRACEPARENT.exec(String(upstream?.headers.traceparent));
    assert.ok(sent, `the upstream got a traceparent: ${upstream?.headers.traceparent}`);
    assert.equal(sent[1], INCOMING_TRACE, 'the same trace as the caller’s');
    assert.notEqual(sent[2], INCOMING_SPAN, 'its parent is the gateway’s span, not the caller’s');

    // Another request without a traceparent starts a trace of its own.
    const fresh = await exchange(url, callTool('echo', { text: 'untraced' }), { token, protocolVersion: V });
    assert.equal(fresh.status, 200);

    await server.stop(); // sends the spans still buffered
    assert.ok(collector.paths.every((path) => path === '/v1/traces'), `OTLP/HTTP traces path: ${collector.paths.join(', ')}`);
    const inTrace = collector.spans.filter((s) => s.traceId === INCOMING_TRACE);
    const serverSpan = inTrace.find((s) => s.kind === 2);
    const clientSpan = inTrace.find((s) => s.kind === 3);
    assert.ok(serverSpan, `a server span in the caller's trace: ${JSON.stringify(inTrace.map((s) => s.name))}`);
    assert.ok(clientSpan, 'a client span for the upstream call');
    assert.equal(serverSpan.parentSpanId, INCOMING_SPAN, 'the server span continues the caller’s span');
    assert.equal(serverSpan.name, 'POST gateway');
    assert.equal(clientSpan.parentSpanId, serverSpan.spanId, 'the upstream call is inside the request');
    assert.equal(clientSpan.spanId, sent[2], 'the upstream was told the client span');
    const own = collector.spans.filter((s) => s.kind === 2 && s.traceId !== INCOMING_TRACE && s.name === 'POST gateway');
    assert.ok(own.some((s) => !s.parentSpanId), 'a request without traceparent is a root span of a new trace');
  });
});

describe('OpenTelemetry traces, off (the default)', () => {
  let fixture: FixtureMcp;
  let server: TestServer;
  before(async () => {
    fixture = await startFixtureMcp();
    server = await startGateway([httpApp('fix', fixture.url)]);
  });
  after(async () => {
    await server?.stop();
    await fixture?.stop();
  });

  it('upstreams get no traceparent — not even the caller’s', async () => {
    const url = appUrl(server, 'fix');
    const { access_token: token } = await tokenFor(server, 'fix');
    await exchange(url, callTool('echo', { text: 'x' }), { token, protocolVersion: V, headers: { traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01` } });
    const calls = fixture.requests.filter((r) => r.rpc.includes('tools/call'));
    assert.ok(calls.length > 0);
    assert.ok(calls.every((r) => r.headers.traceparent === undefined));
  });
});

describe('where spans go (configuration)', () => {
  const urlFor = (env: NodeJS.ProcessEnv, overrides = {}) => tracesUrl(loadConfig({ env, cwd: '/nonexistent', overrides }));

  it('off unless an endpoint is named', () => {
    assert.equal(urlFor({}), undefined);
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT is a base: /v1/traces is appended; the traces endpoint is used as is and wins', () => {
    assert.equal(urlFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), 'http://collector:4318/v1/traces');
    assert.equal(urlFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), 'http://collector:4318/v1/traces');
    assert.equal(urlFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom' }), 'http://b:4318/custom');
    assert.equal(urlFor({}, { telemetry: { otlpEndpoint: 'https://otel.example.com' } }), 'https://otel.example.com/v1/traces');
  });

  it('a malformed endpoint is refused with config_invalid', () => {
    assert.throws(() => urlFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }), (err: { code?: string }) => err.code === 'config_invalid');
  });
});
