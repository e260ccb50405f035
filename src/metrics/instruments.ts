/**
 * Every metric Portcullis exposes, in one registry of its own (not prom-client's global one, so
 * several servers in one process — tests, `--workers` — never share or collide). The instruments
 * are named for what an operator asks ("how many tool calls were refused, and why?"), and every
 * label takes few values: a route is a surface (`oauth/token`, `gateway`, `pages`), never a raw
 * path; an application is a slug; a tool is one the application is known to have (gateway-calls.ts).
 * README.md "Metrics" lists them.
 *
 * Values that only matter when read (audit queue depth, dependency health) are read at scrape time
 * from the sources the server hands in (`watch…`).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds: from a millisecond health probe to a 10 s slow request (prom-client's default buckets). */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Audit batches: a millisecond to a second. */
const WRITE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Revocation propagation: the goal is under a second (issue 12 §6). */
const LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** What a scrape reads of the world: the audit queue, and whether each dependency answered. */
export interface MetricSources {
  auditQueued?: () => number;
  /** `dependency` → up; run at scrape time (server/readiness: cached, bounded by a timeout). */
  dependencies?: () => Promise<Record<string, boolean>>;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #sources: MetricSources = {};

  readonly httpRequests = new Counter({
    name: 'portcullis_http_requests_total',
    help: 'HTTP requests answered, by route (a surface such as oauth/token, gateway, admin-api, pages, well-known) and status.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'portcullis_http_request_duration_seconds',
    help: 'Time from a request arriving until its answer ended (a stream: until it closed), by route and status.',
    labelNames: ['route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly tokensIssued = new Counter({
    name: 'portcullis_tokens_issued_total',
    help: 'Successful token endpoint answers, by grant type (authorization_code, refresh_token, client_credentials, device code).',
    labelNames: ['grant_type'] as const,
    registers: [this.registry],
  });

  readonly ssoRechecks = new Counter({
    name: 'portcullis_sso_rechecks_total',
    help: 'Accounts re-checked at their identity provider at a refresh, by connection and verdict (ok, gone, unavailable: the IdP did not answer and access went on).',
    labelNames: ['connection', 'verdict'] as const,
    registers: [this.registry],
  });

  readonly gatewayRequests = new Counter({
    name: 'portcullis_gateway_requests_total',
    help: 'Requests through the gateway, by application, tool (empty when none is named), decision (allow, deny) and code (empty when answered).',
    labelNames: ['application', 'tool', 'decision', 'code'] as const,
    registers: [this.registry],
  });

  readonly gatewayDuration = new Histogram({
    name: 'portcullis_gateway_request_duration_seconds',
    help: 'Time the gateway took for a request (until answered, or its stream handed on), by application and decision.',
    labelNames: ['application', 'decision'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'portcullis_upstream_request_duration_seconds',
    help: 'Time until an upstream MCP server answered (its response headers), by application and status ("error": no answer).',
    labelNames: ['application', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: 'portcullis_upstream_errors_total',
    help: 'Gateway requests whose upstream failed, by application and code (upstream_unavailable, upstream_timeout, upstream_overloaded).',
    labelNames: ['application', 'code'] as const,
    registers: [this.registry],
  });

  readonly auditQueueDepth = new Gauge({
    name: 'portcullis_audit_queue_depth',
    help: 'Audit events waiting to be written.',
    registers: [this.registry],
    collect: () => {
      const queued = this.#sources.auditQueued;
      if (queued) this.auditQueueDepth.set(queued());
    },
  });

  readonly auditWriteDuration = new Histogram({
    name: 'portcullis_audit_write_duration_seconds',
    help: 'Time to write one batch of audit events (one transaction).',
    buckets: WRITE_BUCKETS,
    registers: [this.registry],
  });

  readonly auditEventsWritten = new Counter({
    name: 'portcullis_audit_events_written_total',
    help: 'Audit events written.',
    registers: [this.registry],
  });

  readonly revocationLag = new Histogram({
    name: 'portcullis_revocation_propagation_seconds',
    help: 'From a revocation being recorded (its time, whole seconds) until this process applied it from the store.',
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });

  readonly limiterRejections = new Counter({
    name: 'portcullis_limiter_rejections_total',
    help: 'Gateway calls refused by a limit, by scope (the policy: org, user, client, api-key, application, tool, org-day, …) and code (rate_limited, quota_exceeded).',
    labelNames: ['scope', 'code'] as const,
    registers: [this.registry],
  });

  readonly limiterBackend = new Gauge({
    name: 'portcullis_limiter_backend',
    help: 'The limiter backend in use (1) and not (0): redis, or memory (this process only).',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });

  readonly dependencyUp = new Gauge({
    name: 'portcullis_dependency_up',
    help: 'Whether a dependency answered its readiness check (1) or not (0): store, redis.',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
    collect: async () => {
      const dependencies = this.#sources.dependencies;
      if (!dependencies) return;
      for (const [name, up] of Object.entries(await dependencies())) this.dependencyUp.set({ dependency: name }, up ? 1 : 0);
    },
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    // process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_seconds, nodejs_gc_…
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Read these at scrape time (each call replaces the source it names). */
  watch(sources: MetricSources): void {
    Object.assign(this.#sources, sources);
  }

  /** Which limiter backend is in use now. */
  setLimiterBackend(backend: 'redis' | 'memory'): void {
    this.limiterBackend.set({ backend }, 1);
    this.limiterBackend.set({ backend: backend === 'redis' ? 'memory' : 'redis' }, 0);
  }

  /** The exposition (Prometheus text format 0.0.4). */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
