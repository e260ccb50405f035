/**
 * The operational endpoints: `/healthz` (the process is alive and serving: always 200), `/readyz`
 * (ready for traffic: 200, or 503 with Retry-After naming each failing check by its code) and
 * `/metrics` (Prometheus text format). None needs a session or an API key; /metrics needs the
 * metrics token when one is configured (RFC 6750 §2.1 Bearer, compared in constant time).
 *
 * They are cheap by construction, so a flood of probes cannot starve other requests: no body is
 * read, /healthz touches nothing, and /readyz answers from one shared, cached, time-bounded run of
 * the checks (metrics/readiness.ts) — never one database query per probe.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PortcullisError } from '../core/errors.ts';
import { sendJson } from '../http/io.ts';
import { RETRY_AFTER_SECONDS, sendRefusal } from '../http/refusal.ts';
import type { Metrics } from '../metrics/instruments.ts';
import type { Readiness } from '../metrics/readiness.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface OperationalOptions {
  readiness: Readiness;
  metrics: Metrics;
  /** Serve /metrics here (it is not served where it is not listed). */
  serveMetrics: boolean;
  /** The Bearer token /metrics asks for, if any. */
  metricsToken?: string;
}

/** Path (below the issuer's base path, or at the root of the metrics port) → handler. */
export function operationalRoutes(options: OperationalOptions): Record<string, Handler> {
  const routes: Record<string, Handler> = {
    '/healthz': readOnly((_req, res) => sendJson(res, 200, { status: 'ok' })),
    '/readyz': readOnly((_req, res) => readyz(options.readiness, res)),
  };
  if (options.serveMetrics) routes['/metrics'] = readOnly(metricsEndpoint(options.metrics, options.metricsToken));
  return routes;
}

/** GET and HEAD only (HEAD: the same head, no body — Node drops the body of a HEAD answer). */
function readOnly(handle: Handler): Handler {
  return (req, res) => {
    if (req.method === 'GET' || req.method === 'HEAD') return handle(req, res);
    res.setHeader('allow', 'GET, HEAD');
    sendRefusal(res, 'admin', new PortcullisError('method_not_allowed', 'use GET'));
  };
}

async function readyz(readiness: Readiness, res: ServerResponse): Promise<void> {
  const report = await readiness.report();
  if (report.ready) return sendJson(res, 200, { status: 'ready', checks: report.checks });
  // RFC 9110 §10.2.3: a 503 says when to ask again.
  sendJson(res, 503, { status: 'not_ready', checks: report.checks }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** /metrics, behind the Bearer token when there is one. */
function metricsEndpoint(metrics: Metrics, token: string | undefined): Handler {
  // Digests of equal length: timingSafeEqual then leaks neither the token nor its length.
  const expected = token === undefined ? undefined : digest(token);
  return async (req, res) => {
    if (expected) {
      const given = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1];
      if (given === undefined) return refuse(res, new PortcullisError('authentication_required', 'send the metrics token as a Bearer token'), 'Bearer realm="metrics"');
      if (!timingSafeEqual(digest(given), expected)) return refuse(res, new PortcullisError('invalid_token', 'the metrics token is not right'), 'Bearer realm="metrics", error="invalid_token"');
    }
    const body = await metrics.exposition();
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  };
}

/** RFC 6750 §3: a 401 names the scheme (and, for a wrong token, the error). */
function refuse(res: ServerResponse, err: PortcullisError, challenge: string): void {
  res.setHeader('www-authenticate', challenge);
  sendRefusal(res, 'admin', err);
}
