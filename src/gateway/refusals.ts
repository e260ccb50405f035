/**
 * The two ways the gateway says no, each in one place:
 *
 * - a Bearer challenge (401, 403; 503 when the token could not be checked) when the credential is
 *   missing, bad, lacks a scope or needs a fresh sign-in — the words and the status come from
 *   shared/challenge.ts, as for every protected resource;
 * - a JSON-RPC error for everything else (MCP clients parse nothing else): the front door's shape
 *   (http/refusal.ts — status from core/errors.ts, `data.code` its code), with the JSON-RPC code
 *   MCP expects for the rule, the request's id, and CORS.
 *
 * Either way the refusal is kept on the request for the record step (steps/record.ts).
 */
import type { Application } from '../core/application.ts';
import { DENIAL_REFERENCE, denialHelpUrl } from '../core/denial-reference.ts';
import type { ErrorCode, PortcullisError } from '../core/errors.ts';
import { refusalFor, type Refusal } from '../http/refusal.ts';
import { sendJson } from '../http/io.ts';
import { challengeFor } from '../shared/challenge.ts';
import type { GatewayRequest, StepDeps, StepResult } from './context.ts';
import { CORS } from './cors.ts';
import { errorResponse, RpcError, type JsonRpcId, type JsonRpcResponse } from './jsonrpc.ts';

/** JSON-RPC codes by the rule that refused, where the error code alone does not say (JSON-RPC 2.0 §5.1, MCP). */
const RPC_CODE_BY_RULE = new Map<string, number>([
  ['parse', RpcError.PARSE],
  ['header-mismatch', RpcError.HEADER_MISMATCH],
  // MCP tasks: a taskId the caller does not own is not found — invalid params, as for an unknown one.
  ['task-owner', RpcError.INVALID_PARAMS],
]);

const RPC_CODE_BY_CODE: Partial<Record<ErrorCode, number>> = {
  policy_denied: RpcError.POLICY,
  upstream_unavailable: RpcError.UPSTREAM,
  upstream_timeout: RpcError.UPSTREAM,
  upstream_overloaded: RpcError.UPSTREAM,
  rate_limited: RpcError.LIMITED,
  quota_exceeded: RpcError.LIMITED,
};

/**
 * `data` of a JSON-RPC error: the code, and what the client may act on. A policy denial names its
 * rule and the resource it concerns (DESIGN.md "Denial codes"), never the rule's reasoning, which
 * only the record and the log see.
 */
function errorData(err: PortcullisError): Record<string, unknown> {
  if (err.code === 'policy_denied') return { code: err.code, rule: err.rule, resource: err.detail.resource };
  return { code: err.code, ...err.detail };
}

/** The JSON-RPC error answering one message (or the whole request, `id` null) with `err`. */
export function rpcError(id: JsonRpcId, err: PortcullisError): JsonRpcResponse {
  return asRpcError(id, err, refusalFor('gateway', err));
}

/** The front door's JSON-RPC error for `err`, made precise: the rule's code, the message's id, the data. */
function asRpcError(id: JsonRpcId, err: PortcullisError, front: Refusal): JsonRpcResponse {
  const { error } = front.body as Required<Pick<JsonRpcResponse, 'error'>>;
  const code = RPC_CODE_BY_RULE.get(err.rule) ?? RPC_CODE_BY_CODE[err.code] ?? error.code;
  return errorResponse(id, code, error.message, errorData(err));
}

/** The server's public URL: an application's resource is that URL followed by its path (core/application.ts resolveApplication). */
function publicUrlOf(app: Application): string {
  return app.resource.slice(0, app.resource.length - app.path.length);
}

/** The answer with `data.help`: the denial reference's entry for its code (core/denial-reference.ts), when it has one. */
function withHelp(answer: JsonRpcResponse, app: Application): JsonRpcResponse {
  const data = answer.error?.data as Record<string, unknown> | undefined;
  const code = data?.code;
  if (!answer.error || !data || typeof code !== 'string' || !Object.hasOwn(DENIAL_REFERENCE, code)) return answer;
  return { ...answer, error: { ...answer.error, data: { ...data, help: denialHelpUrl(publicUrlOf(app), code as ErrorCode) } } };
}

/**
 * The answer to a request of a batch that was not forwarded because another one was denied: not a
 * refusal of its own, so `data.code` says `batch_refused` rather than a denial code.
 */
export function notForwarded(id: JsonRpcId): JsonRpcResponse {
  return errorResponse(id, RpcError.POLICY, 'not forwarded: another request in this batch was denied', { code: 'batch_refused' });
}

/**
 * Answer each request of the body with its own JSON-RPC error, in a 200: policy denials are
 * JSON-RPC errors (a bare 403 is a transport failure to MCP SDKs). `refusal` is what the record says.
 * A limit's refusal answers the same way with its own status and fields (steps/limit.ts: 429).
 */
export function refuseEach(ctx: GatewayRequest, answers: JsonRpcResponse[], refusal: PortcullisError, options: { status?: number; headers?: Record<string, string> } = {}): StepResult {
  ctx.refusal = refusal;
  const helped = answers.map((answer) => withHelp(answer, ctx.app));
  sendJson(ctx.res, options.status ?? 200, ctx.batch ? helped : helped[0], { ...CORS, ...options.headers });
  return 'answered';
}

/** Answer the whole request with a JSON-RPC error. */
export function refuse(ctx: GatewayRequest, err: PortcullisError, options: { id?: JsonRpcId; headers?: Record<string, string> } = {}): StepResult {
  ctx.refusal = err;
  const front = refusalFor('gateway', err);
  sendJson(ctx.res, front.status, withHelp(asRpcError(options.id ?? null, err, front), ctx.app), { ...front.headers, ...CORS, ...options.headers });
  return 'answered';
}

export interface ChallengeOptions {
  /** Whether the request carried a credential (RFC 6750 §3.1: no error code when none was sent). */
  tokenPresented: boolean;
  /** Scopes to ask for: on 401 the application's defaults, on 403 every scope needed. */
  scope?: string;
  /** For `step_up_required`: how recent the sign-in must be (RFC 9470 §3 `max_age`). */
  maxAge?: string;
  /** For `step_up_required` with a second factor: RFC 9470 §3 `acr_values`. */
  acrValues?: string;
  /** A further challenge, after this one (RFC 9110 §11.6.1 allows several). */
  also?: string;
  /** What the record says, when the challenge words the refusal otherwise (a step-up asked for as a scope). */
  recordAs?: PortcullisError;
}

/** Answer the whole request with a Bearer challenge naming the application's resource metadata (RFC 9728 §5.1). */
export function challenge(ctx: GatewayRequest, deps: StepDeps, err: PortcullisError, options: ChallengeOptions): StepResult {
  ctx.refusal = options.recordAs ?? err;
  const { status, headers, body } = challengeFor(err, {
    resourceMetadataUrl: deps.resourceMetadataUrl(ctx.app),
    tokenPresented: options.tokenPresented,
    scope: options.scope,
    maxAge: options.maxAge,
    acrValues: options.acrValues,
  });
  const answerHeaders: Record<string, string> = { ...CORS, ...headers };
  if (options.also && answerHeaders['www-authenticate']) answerHeaders['www-authenticate'] += `, ${options.also}`;
  sendJson(ctx.res, status, body, answerHeaders);
  return 'answered';
}
