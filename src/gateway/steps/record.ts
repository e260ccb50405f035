/**
 * The last step, for every request through the gateway — allowed, refused at any step, or failed
 * upstream: one decision record (audit/gateway-decisions.ts), handed to GatewayDeps `recordDecision`
 * (the audit log's recorder, gatewayDecisionRecorder, where the server turns it on), and
 * the one log line for a refusal ("access.denied", with the rule that produced it) or an upstream
 * failure. It runs once the request has been answered, or its answer's stream handed on; a
 * stream cut later by revocation is logged where it is cut (filter-answer.ts).
 */
import { isUpstreamFailure } from '../upstreams/upstream.ts';
import type { Logger } from 'pino';
import { toPublicError, type PortcullisError } from '../../core/errors.ts';
import type { GatewayRequest, StepDeps } from '../context.ts';
import type { DecisionRecord, RecordedCall } from '../../audit/gateway-decisions.ts';
import { isObject } from '../jsonrpc.ts';
import { NO_CREDENTIALS } from './authenticate.ts';

/** A message's method and what it names; nothing for a response (it has no method). */
function recordedCall(message: unknown): RecordedCall[] {
  if (!isObject(message) || typeof message.method !== 'string') return [];
  const { method } = message;
  const params = isObject(message.params) ? message.params : {};
  const name = typeof params.name === 'string' ? params.name : undefined;
  const uri = typeof params.uri === 'string' ? params.uri : undefined;
  if (method.startsWith('tools/') && name !== undefined) return [{ method, tool: name }];
  if (method.startsWith('prompts/') && name !== undefined) return [{ method, prompt: name }];
  if (method.startsWith('resources/') && uri !== undefined) return [{ method, resource: uri }];
  return [{ method }];
}

/** The first tools/call's arguments, as the application opts in to keep them. */
function recordedArguments(ctx: GatewayRequest, deps: StepDeps): DecisionRecord['arguments'] {
  const { arguments: mode, redact } = ctx.app.definition.audit;
  if (mode === 'none' || !deps.recordArguments) return undefined;
  const call = ctx.messages.find((m) => isObject(m) && m.method === 'tools/call');
  const params = isObject(call) && isObject(call.params) ? call.params : undefined;
  return params ? deps.recordArguments(mode, redact, params.arguments) : undefined;
}

function decisionRecord(ctx: GatewayRequest, deps: StepDeps, refusal: PortcullisError | undefined): DecisionRecord {
  return {
    at: ctx.receivedAt,
    app: ctx.app.slug,
    orgId: ctx.caller?.orgId,
    subject: ctx.caller?.subject,
    clientId: ctx.caller?.clientId,
    keyId: ctx.token?.keyId,
    httpMethod: ctx.req.method ?? '',
    calls: ctx.messages.flatMap(recordedCall),
    // An upstream that failed was still allowed to be called.
    decision: refusal === undefined || isUpstreamFailure(refusal) ? 'allow' : 'deny',
    code: refusal?.code,
    rule: refusal?.rule,
    upstreamStatus: ctx.upstream?.response.status,
    upstreamError: ctx.upstreamError,
    durationMs: performance.now() - ctx.startedAt,
    requestId: ctx.requestId,
    sessionId: ctx.sessionId,
    clientIp: deps.clientIp(ctx.req),
    userAgent: ctx.req.headers['user-agent']?.slice(0, 512),
    arguments: recordedArguments(ctx, deps),
  };
}

/** Refusals and upstream failures; what a step threw is logged once, by the front door (server/router.ts). */
function logRefusal(ctx: GatewayRequest, log: Logger): void {
  const err = ctx.refusal;
  if (!err) return;
  const app = ctx.app.slug;
  if (isUpstreamFailure(err)) {
    log.warn({ err: err.cause, app, rule: err.rule, status: ctx.upstream?.response.status }, 'upstream failed');
    return;
  }
  // A request without any credential is how every client discovers the authorization server
  // (RFC 9728 §5): recorded, not logged.
  if (err.rule === NO_CREDENTIALS) return;
  log.info({ event: 'access.denied', app, sub: ctx.caller?.subject, ...err.detail, code: err.code, rule: err.rule }, err.message);
}

/** Record the decision; with strict audit, the promise the held answer waits for (gateway.ts). */
export function record(ctx: GatewayRequest, deps: StepDeps): Promise<void> | void {
  logRefusal(ctx, deps.log);
  if (!deps.recordDecision) return;
  const refusal = ctx.refusal ?? (ctx.thrown === undefined ? undefined : toPublicError(ctx.thrown));
  try {
    return deps.recordDecision(decisionRecord(ctx, deps, refusal));
  } catch (err) {
    // A recorder that fails must not turn the answer into a 500.
    deps.log.error({ err, app: ctx.app.slug }, 'the gateway decision could not be recorded');
  }
}
