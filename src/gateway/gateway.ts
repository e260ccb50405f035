/**
 * The gateway: one protected MCP endpoint per application, in front of any MCP server. A request
 * is one context (context.ts) walked through these steps, in order; each lets it on or answers it:
 *
 *   CORS preflight (cors.ts) → only POST, GET, DELETE (405)
 *   → authenticate: token, or API key, for this application (401/403 + resource_metadata)
 *   → POST: read and parse the body (413, -32700) → only MCP's JSON-RPC messages (-32600)
 *     → headers agree with body (-32020)
 *   → policy per request (403 insufficient_scope / step-up; policy_denied as a JSON-RPC error)
 *   → rate limits and quotas (429 rate_limited / quota_exceeded, Retry-After, RateLimit fields)
 *   → tasks, sessions and resumed streams belong to this caller (404 otherwise)
 *   → forward with the gateway's own token (502 unreachable, 503 overloaded, 504 too slow)
 *   → filter the answer as it streams (tools/list, resources, prompts, tasks; list_changed)
 *   → record: one decision record per request, and the log line of a refusal (steps/record.ts);
 *     with strict audit the answer is held until its record is committed (held-answer.ts).
 *
 * Refusals take one of two shapes, each made in one place (refusals.ts): a Bearer challenge, or
 * a JSON-RPC error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Application } from '../core/application.ts';
import { newRequest, withDefaults, type GatewayDeps, type GatewayRequest, type Step, type StepDeps } from './context.ts';
import { answerPreflight } from './cors.ts';
import { authenticate } from './steps/authenticate.ts';
import { headersAgreeWithBody } from './steps/check-headers.ts';
import { onlyMcpMessages } from './steps/check-messages.ts';
import { filterAnswer } from './steps/filter-answer.ts';
import { forward } from './steps/forward.ts';
import { refuseOtherMethods } from './steps/http-method.ts';
import { ownership } from './steps/ownership.ts';
import { policy } from './steps/policy.ts';
import { limit } from './steps/limit.ts';
import { readAndParse } from './steps/read-body.ts';
import { record } from './steps/record.ts';
import { holdAnswer, type HeldAnswer } from './held-answer.ts';
import { sendRefusal } from '../http/refusal.ts';
import { PortcullisError } from '../core/errors.ts';

export type { GatewayDeps } from './context.ts';
export type { DecisionRecord } from '../audit/gateway-decisions.ts';

/** A step only a POST takes: GET and DELETE carry no body. */
const onPost =
  (step: Step): Step =>
  (ctx, deps) =>
    ctx.req.method === 'POST' ? step(ctx, deps) : 'continue';

/** After authentication, in order. */
const STEPS: readonly Step[] = [
  onPost(readAndParse),
  onPost(onlyMcpMessages),
  onPost(headersAgreeWithBody),
  policy,
  limit,
  ownership,
  forward,
  filterAnswer,
];

async function walk(request: GatewayRequest, deps: StepDeps): Promise<void> {
  if (refuseOtherMethods(request) === 'answered') return;
  const ctx = await authenticate(request, deps);
  if (!ctx) return;
  for (const step of STEPS) if ((await step(ctx, deps)) === 'answered') return;
}

export function createGateway(gatewayDeps: GatewayDeps) {
  const deps = withDefaults(gatewayDeps);
  return async function handle(req: IncomingMessage, res: ServerResponse, app: Application): Promise<void> {
    if (req.method === 'OPTIONS') return answerPreflight(res);
    const ctx = newRequest(req, res, app, deps.now());
    res.setHeader('x-request-id', ctx.requestId);
    const held = deps.holdAnswers ? holdAnswer(res) : undefined;
    try {
      await walk(ctx, deps);
    } catch (err) {
      // The front door answers it (server/router.ts); the record says so.
      ctx.thrown = err;
    }
    const recorded = record(ctx, deps);
    if (held) await releaseOnceRecorded(ctx, held, recorded);
    if (ctx.thrown !== undefined) throw ctx.thrown;
  };
}

/**
 * Strict audit: the answer goes once its record is committed. When the record cannot be made,
 * the answer is not given: 503 with Retry-After (the store is what failed) — or, for a stream
 * already begun upstream, the connection is closed.
 */
async function releaseOnceRecorded(ctx: GatewayRequest, held: HeldAnswer, recorded: Promise<void> | void): Promise<void> {
  try {
    await recorded;
    held.release();
  } catch (err) {
    const refusal = new PortcullisError('unavailable', 'the call could not be put on the record; try again shortly', { rule: 'audit-strict', cause: err });
    if (held.discard() && ctx.thrown === undefined) sendRefusal(ctx.res, 'gateway', refusal);
  }
}

export type Gateway = ReturnType<typeof createGateway>;
