/**
 * OpenTelemetry traces, off by default: loaded (with the SDK) only when the configuration names an
 * OTLP endpoint — the server imports this module lazily, so without one nothing here costs a thing.
 *
 * One server span per HTTP request, continuing the caller's `traceparent` (W3C Trace Context §3.2),
 * and one client span per upstream call, whose `traceparent` the upstream MCP server receives.
 * Spans go out in batches over OTLP/HTTP (JSON) through the SDK's BatchSpanProcessor.
 *
 * The SDK's global registration (context manager, propagator, tracer provider) is left alone: two
 * servers in one process (tests, embedding) would fight over it. The request's span travels in an
 * AsyncLocalStorage of our own instead, and `traceparent` is read and written here (it is one line).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type SpanContext } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  /** Where spans are POSTed (OTLP/HTTP, the full /v1/traces URL). */
  tracesUrl: string;
  serviceName: string;
}

/** A span in progress: end it once, with the HTTP status it ended with (or the error). */
export interface OpenSpan {
  end(status: number | undefined, error?: unknown): void;
}

export interface Tracing {
  /** Run `handle` inside a server span for one request (a child of `traceparent` when it is valid). */
  inServerSpan<T>(request: { method: string; route: string; path: string; traceparent: string | undefined }, handle: (span: OpenSpan) => T): T;
  /** A client span, child of the current request's span, and the `traceparent` that names it. */
  clientSpan(name: string, attributes: Attributes): OpenSpan & { traceparent: string };
  /** Send every finished span now. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

// W3C Trace Context §3.2.2: version-traceid-parentid-flags, lowercase hex; all-zero ids are invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The span context a `traceparent` header names, or undefined when it is malformed (§3.2.4: then ignore it). */
export function parseTraceparent(header: string | undefined): SpanContext | undefined {
  const match = header === undefined ? null : TRACEPARENT.exec(header.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  // Version ff is invalid; version 00 has exactly four fields, a later version may have more.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16) & 1, isRemote: true };
}

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-0${context.traceFlags & 1}`;
}

function ender(span: Span): OpenSpan {
  let ended = false;
  return {
    end(status, error) {
      if (ended) return;
      ended = true;
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      if (error !== undefined) span.recordException(error instanceof Error ? error : String(error));
      // OTel semantic conventions (HTTP spans): 5xx, or no answer at all, is an error.
      if (error !== undefined || (status !== undefined && status >= 500)) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

export function startTracing(options: TracingOptions): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.tracesUrl }))],
  });
  const tracer = provider.getTracer('portcullis');
  const current = new AsyncLocalStorage<Span>();
  return {
    inServerSpan(request, handle) {
      const remote = parseTraceparent(request.traceparent);
      const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
      const attributes = { 'http.request.method': request.method, 'http.route': request.route, 'url.path': request.path };
      const span = tracer.startSpan(`${request.method} ${request.route}`, { kind: SpanKind.SERVER, attributes }, parent);
      return current.run(span, () => handle(ender(span)));
    },
    clientSpan(name, attributes) {
      const parentSpan = current.getStore();
      const parent = parentSpan ? trace.setSpan(ROOT_CONTEXT, parentSpan) : ROOT_CONTEXT;
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
      return { ...ender(span), traceparent: formatTraceparent(span.spanContext()) };
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
