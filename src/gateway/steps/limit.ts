/**
 * Rate limits and quotas (limits/call-limits.ts), after policy — the caller and what they call
 * are known and allowed — and before anything reaches the upstream: a call over a limit never
 * does.
 *
 * What counts: one point per JSON-RPC request that makes the upstream work for the caller —
 * `tools/call`, `resources/read`, `prompts/get` — so a batch of three tool calls costs three.
 * Everything else is free: initialize, ping, the list methods (clients send them on every
 * connect and after every list_changed; charging them would spend a quota on reconnects),
 * notifications, responses, and GET (streams) and DELETE (session end).
 *
 * Over a limit: 429 with Retry-After (RFC 6585 §4, RFC 9110 §10.2.3), the RateLimit and
 * RateLimit-Policy fields (rate-limit-fields.ts), and a JSON-RPC error per request carrying its
 * id, `data.code` rate_limited or quota_exceeded, `data.retryAfter` (seconds) and `data.limit`
 * (the policy that refused). Within the limits the answer carries the same two fields.
 */
import { PortcullisError } from '../../core/errors.ts';
import type { LimitVerdict } from '../../limits/call-limits.ts';
import type { AuthenticatedRequest, StepDeps, StepResult } from '../context.ts';
import { isObject, isRequest, type JsonRpcRequest } from '../jsonrpc.ts';
import { rateLimitFields } from '../rate-limit-fields.ts';
import { notForwarded, refuseEach, rpcError } from '../refusals.ts';

const COUNTED = new Set(['tools/call', 'resources/read', 'prompts/get']);

const counted = (message: unknown): message is JsonRpcRequest => isRequest(message) && COUNTED.has(message.method);

/** The tool a counted request calls (undefined for a resource or a prompt). */
function toolOf(message: JsonRpcRequest): string | undefined {
  return message.method === 'tools/call' && isObject(message.params) && typeof message.params.name === 'string' ? message.params.name : undefined;
}

function refusalOf(verdict: Extract<LimitVerdict, { allowed: false }>): PortcullisError {
  const words = verdict.code === 'quota_exceeded' ? 'quota exceeded' : 'rate limit exceeded';
  return new PortcullisError(verdict.code, `${words} (${verdict.refusedBy.policy}); retry after ${verdict.retryAfter} s`, {
    rule: `limit:${verdict.refusedBy.policy}`,
    detail: { retryAfter: verdict.retryAfter, limit: verdict.refusedBy.policy },
  });
}

export async function limit(ctx: AuthenticatedRequest, deps: StepDeps): Promise<StepResult> {
  if (!deps.limits || ctx.req.method !== 'POST') return 'continue';
  const charged = ctx.messages.filter(counted);
  if (charged.length === 0) return 'continue';
  const { caller, token } = ctx;
  const verdict = await deps.limits.check({
    application: ctx.app.slug,
    orgId: caller.orgId,
    subject: caller.subject,
    clientId: caller.clientId,
    keyId: token.keyId,
    targets: charged.map(toolOf),
  });
  if (verdict.allowed) {
    for (const [name, value] of Object.entries(rateLimitFields(verdict.limits))) ctx.res.setHeader(name, value);
    return 'continue';
  }
  const err = refusalOf(verdict);
  const headers = { ...rateLimitFields(verdict.limits, verdict.refusedBy), 'retry-after': String(verdict.retryAfter) };
  const answers = ctx.messages.filter(isRequest).map((message) => (COUNTED.has(message.method) ? rpcError(message.id, err) : notForwarded(message.id)));
  return refuseEach(ctx, answers, err, { status: err.status, headers });
}
