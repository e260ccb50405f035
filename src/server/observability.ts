/**
 * How a process is watched: the metrics (metrics/instruments.ts), the optional OpenTelemetry
 * traces (metrics/tracing.ts, loaded only when an OTLP endpoint is configured), the front door's
 * request observer (route and status of every request, its server span), and the upstream
 * connectors' instrumentation (upstream latency, the client span, `traceparent` to the upstream).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Application } from '../core/application.ts';
import type { Config } from '../core/config.ts';
import type { Upstream } from '../gateway/upstreams/upstream.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { DecisionRecord } from '../audit/gateway-decisions.ts';
import { gatewayCallMetrics } from '../metrics/gateway-calls.ts';
import { Metrics } from '../metrics/instruments.ts';
import type { Tracing } from '../metrics/tracing.ts';
import type { Limits } from '../limits/service.ts';
import type { RevocationList } from '../revocation/revocation-list.ts';
import type { Store } from '../store/store.ts';
import type { AuthzEngine } from './authz-engine.ts';
import { operationalRoutes } from './health-routes.ts';
import { startMetricsServer } from './metrics-server.ts';
import { readinessChecks } from './readiness-checks.ts';
import type { RequestObserver } from './router.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;
type DecisionRecorder = (record: DecisionRecord) => void | Promise<void>;

export interface Observability {
  metrics: Metrics;
  /** Present only when traces are exported. */
  tracing: Tracing | undefined;
  /** For the router: counts and times every request by route and status (and traces it). */
  observe: RequestObserver;
  /** Wraps an application's upstream connector: latency by status, the client span, `traceparent`. */
  instrumentUpstream(app: Application, upstream: Upstream): Upstream;
  /** Send the spans still buffered, then stop. */
  close(): Promise<void>;
}

/** Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces (OTLP spec, "Endpoint URLs for OTLP/HTTP"). */
export function tracesUrl(config: Config): string | undefined {
  const { otlpTracesEndpoint, otlpEndpoint } = config.telemetry;
  if (otlpTracesEndpoint) return otlpTracesEndpoint;
  return otlpEndpoint ? `${otlpEndpoint.replace(/\/+$/, '')}/v1/traces` : undefined;
}

export async function startObservability(config: Config, log: Logger): Promise<Observability> {
  const metrics = new Metrics();
  const url = tracesUrl(config);
  // Imported only when wanted: without an endpoint the SDK is never loaded and no request pays for it.
  const tracing = url ? (await import('../metrics/tracing.ts')).startTracing({ tracesUrl: url, serviceName: config.telemetry.serviceName }) : undefined;
  if (url) log.info({ tracesUrl: url }, 'exporting OpenTelemetry traces');
  return {
    metrics,
    tracing,
    observe: requestObserver(metrics, tracing),
    instrumentUpstream: (app, upstream) => instrumentedUpstream(metrics, tracing, app, upstream),
    async close() {
      await tracing?.shutdown().catch((err: unknown) => log.warn({ err }, 'could not send the last spans'));
    },
  };
}

/** A request's status label: its HTTP status, or `aborted` when the client left before any answer. */
const statusOf = (res: ServerResponse) => (res.headersSent ? String(res.statusCode) : 'aborted');

function requestObserver(metrics: Metrics, tracing: Tracing | undefined): RequestObserver {
  const observe = (route: string, res: ServerResponse) => {
    const started = performance.now();
    // `close` comes after `finish`, and also when the client leaves first: every request is counted once.
    res.once('close', () => {
      const labels = { route, status: statusOf(res) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
    });
  };
  if (!tracing) {
    return (route, _req, res, next) => {
      observe(route, res);
      next();
    };
  }
  return (route, req: IncomingMessage, res, next) => {
    observe(route, res);
    const traceparent = typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined;
    const request = { method: req.method ?? 'GET', route, path: (req.url ?? '/').split('?')[0]!, traceparent };
    tracing.inServerSpan(request, (span) => {
      res.once('close', () => span.end(res.headersSent ? res.statusCode : undefined, res.headersSent ? undefined : 'the client left before the answer'));
      next();
    });
  };
}

function instrumentedUpstream(metrics: Metrics, tracing: Tracing | undefined, app: Application, upstream: Upstream): Upstream {
  const application = app.slug;
  const target = 'url' in app.upstream ? new URL(app.upstream.url) : undefined;
  return {
    async send(call) {
      const started = performance.now();
      const span = tracing?.clientSpan(call.method, {
        'http.request.method': call.method,
        'portcullis.application': application,
        // Origin and path only: an upstream URL's query may carry a secret.
        ...(target ? { 'server.address': target.hostname, 'url.full': `${target.origin}${target.pathname}` } : {}),
      });
      // W3C Trace Context §3: the upstream continues this trace (HTTP upstreams send the header on).
      if (span) call.headers.set('traceparent', span.traceparent);
      try {
        const answer = await upstream.send(call);
        metrics.upstreamDuration.observe({ application, status: String(answer.status) }, (performance.now() - started) / 1000);
        span?.end(answer.status);
        return answer;
      } catch (err) {
        metrics.upstreamDuration.observe({ application, status: 'error' }, (performance.now() - started) / 1000);
        span?.end(undefined, err);
        throw err;
      }
    },
    close: () => upstream.close(),
  };
}

/**
 * Every gateway decision counted (metrics/gateway-calls.ts), then handed to the audit log's recorder
 * when there is one — whose promise (strict audit) is what the gateway's answer waits for.
 */
export function countedDecisions(metrics: Metrics, knownTool: (application: string, tool: string) => boolean, audit: DecisionRecorder | undefined): DecisionRecorder {
  const count = gatewayCallMetrics(metrics, knownTool);
  if (!audit) return count;
  return (record) => {
    count(record);
    return audit(record);
  };
}

export interface WatchedParts {
  config: Config;
  store: Store;
  engine: AuthzEngine;
  auditLog: AuditLog;
  revocations: RevocationList;
  limits: Pick<Limits, 'backend' | 'onBackendChange' | 'onRejected'>;
  log: Logger;
  /** Epoch milliseconds (the revocation lag). */
  nowMs: () => number;
}

export interface Watching {
  /** /healthz, /readyz and, when the main port serves it, /metrics (for the router). */
  operational: Record<string, Handler>;
  /** The metrics port, when `metrics.port` is set (its real port when configured as 0). */
  metricsPort: number | undefined;
  close(): Promise<void>;
}

/**
 * What the metrics read from the running parts (audit queue and writes, revocation lag, readiness
 * of the store and Redis), and where they are served: /metrics on the main port only with a token,
 * on `metrics.port` only when that is set, nowhere otherwise (README "Metrics and health").
 */
export async function watchProcess(observability: Observability, parts: WatchedParts): Promise<Watching> {
  const { config, auditLog, revocations, limits, log, nowMs } = parts;
  const { metrics } = observability;
  const checks = readinessChecks(parts);
  metrics.watch({ auditQueued: () => auditLog.queued, dependencies: () => checks.readiness.dependencies() });
  auditLog.onWrite((events, ms) => {
    metrics.auditEventsWritten.inc(events);
    metrics.auditWriteDuration.observe(ms / 1000);
  });
  // Subscribed after the first read of the store: the events already there say nothing about lag.
  const stopLag = revocations.onRead((event) => metrics.revocationLag.observe(Math.max(0, nowMs() / 1000 - event.at)));
  metrics.setLimiterBackend(limits.backend);
  const stopBackend = limits.onBackendChange((backend) => metrics.setLimiterBackend(backend));
  const stopRejections = limits.onRejected(({ scope, code }) => metrics.limiterRejections.inc({ scope, code }));
  const { token, port } = config.metrics;
  const routes = (serveMetrics: boolean) => operationalRoutes({ readiness: checks.readiness, metrics, serveMetrics, metricsToken: token });
  const separate = port === undefined ? undefined : await startMetricsServer({ host: config.host, port, routes: routes(true), log });
  return {
    operational: routes(separate === undefined && token !== undefined),
    metricsPort: separate?.port,
    async close() {
      stopLag();
      stopBackend();
      stopRejections();
      checks.close();
      await separate?.close();
    },
  };
}
