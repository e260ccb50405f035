/**
 * The gateway's decision records (audit/gateway-decisions.ts) as metrics: one count per request by
 * application, tool, decision and code, its duration, and upstream failures by code.
 *
 * A tool name comes from the caller's request, so a caller could mint a new time series with every
 * made-up name (and exhaust the scraper's memory): only tools the application is known to have
 * (its manifest, `knownTool`) are labelled by name, any other as `(unknown)`.
 */
import type { DecisionRecord } from '../audit/gateway-decisions.ts';
import type { Metrics } from './instruments.ts';

/** The tool label of a request naming a tool the application does not have. */
export const UNKNOWN_TOOL = '(unknown)';

const UPSTREAM_FAILURES: ReadonlySet<string> = new Set(['upstream_unavailable', 'upstream_timeout', 'upstream_overloaded']);

export function gatewayCallMetrics(metrics: Metrics, knownTool: (application: string, tool: string) => boolean): (record: DecisionRecord) => void {
  return (record) => {
    const application = record.app;
    const named = record.calls[0]?.tool;
    const tool = named === undefined ? '' : knownTool(application, named) ? named : UNKNOWN_TOOL;
    const code = record.code ?? '';
    metrics.gatewayRequests.inc({ application, tool, decision: record.decision, code });
    metrics.gatewayDuration.observe({ application, decision: record.decision }, record.durationMs / 1000);
    if (UPSTREAM_FAILURES.has(code)) metrics.upstreamErrors.inc({ application, code });
  };
}
