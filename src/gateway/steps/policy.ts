/**
 * Policy (policy/index.ts, the gateway's rules in order) judges every request of a POST body, and
 * the application's own conditions (network, hours) for GET and DELETE: outside them nobody opens
 * a stream or ends a session. How a denial is answered depends on what the client can do about it:
 *
 * - a missing scope: 403 `insufficient_scope` naming every scope needed — the client re-authorizes;
 * - a step-up (a recent sign-in): see `stepUp` below;
 * - anything else: a JSON-RPC error per request carrying the rule (`policy_denied`). In a batch,
 *   nothing is forwarded if any request is denied.
 *
 * The first challenge (scope, step-up) answers for the whole body.
 */
import type { Application } from '../../core/application.ts';
import { PortcullisError } from '../../core/errors.ts';
import type { ResourceTree } from '../../identity/permissions.ts';
import { evaluate, GATEWAY_RULES, type CallTarget, type Caller, type Decision } from '../../policy/index.ts';
import { callerOfToken } from '../../policy/token-caller.ts';
import { toolRule } from '../../policy/rule.ts';
import { insufficientScope, userAuthenticationChallenge } from '../../shared/challenge.ts';
import type { AuthenticatedRequest, StepDeps, StepResult } from '../context.ts';
import { isObject, isRequest, type JsonRpcRequest } from '../jsonrpc.ts';
import { challenge, notForwarded, refuse, refuseEach, rpcError } from '../refusals.ts';

type Denial = Extract<Decision, { allow: false }>;

/** What one request asks for, for policy. */
function targetOf(message: JsonRpcRequest): CallTarget {
  const params = isObject(message.params) ? message.params : {};
  return {
    method: message.method,
    name: typeof params.name === 'string' ? params.name : undefined,
    uri: typeof params.uri === 'string' ? params.uri : undefined,
    arguments: isObject(params.arguments) ? params.arguments : undefined,
  };
}

/** What policy knows of the caller: the one mapping the console's token explainer uses too (policy/token-caller.ts). */
function policyCaller({ caller, token }: AuthenticatedRequest): Caller {
  return callerOfToken(token, caller.ip);
}

/** Does any tools/call in the body name a tool with arguments mapped to resources? */
function needsTree(app: Application, messages: unknown[]): boolean {
  return messages.some((m) => {
    if (!isRequest(m) || m.method !== 'tools/call' || !isObject(m.params) || typeof m.params.name !== 'string') return false;
    return toolRule(app, m.params.name)?.arguments !== undefined;
  });
}

/** The error a denial is, with the rule's detail (what the record and the log say; the client sees less). */
function denialError(denial: Denial, message = `denied by policy (${denial.rule})`): PortcullisError {
  return new PortcullisError(denial.code, message, { rule: denial.rule, detail: denial.detail });
}

/** Every request of the body, judged; the denied ones, in body order. */
function judge(ctx: AuthenticatedRequest, deps: StepDeps, tree: ResourceTree | undefined): Map<JsonRpcRequest, Denial> {
  const denials = new Map<JsonRpcRequest, Denial>();
  const caller = policyCaller(ctx);
  for (const message of ctx.messages) {
    if (!isRequest(message)) continue;
    const target = targetOf(message);
    const tool = target.method === 'tools/call' && target.name ? deps.registry.tool(ctx.app.slug, target.name) : undefined;
    const decision = evaluate(GATEWAY_RULES, { app: ctx.app, caller, target, tool, now: deps.now(), tree });
    if (!decision.allow) denials.set(message, decision);
  }
  return denials;
}

function missingScope(ctx: AuthenticatedRequest, deps: StepDeps, denial: Denial): StepResult {
  const { denial: words, scope } = insufficientScope([denial.detail.scope!], ctx.token.scopes);
  return challenge(ctx, deps, denialError(denial, words.message), { tokenPresented: true, scope });
}

function stepUp(ctx: AuthenticatedRequest, deps: StepDeps, denial: Denial): StepResult {
  const err = denialError(denial, 'a more recent sign-in is required');
  const maxAge = denial.detail.max_age;
  // A second factor asked for (policy/rules/step-up.ts `mfa`): RFC 9470 §3 `acr_values`.
  const acrValues = denial.detail.acr_values;
  if (ctx.token.scopes.has(denial.detail.scope!)) {
    // The token holds the step-up scope but its sign-in is older than the tool's max age:
    // 401 insufficient_user_authentication, as RFC 9470 §3 says. Both SDKs answer a 401 by
    // refreshing, and a refresh never carries the step-up scope (authz/step-up.ts), so their
    // retry meets the 403 below and re-authorizes. (A 403 here made the v2 SDK refresh, retry
    // once with the same answer and give up: found by test/gateway/step-up-sdk.test.ts.)
    return challenge(ctx, deps, err, { tokenPresented: true, scope: [...ctx.token.scopes].join(' '), maxAge, acrValues });
  }
  // Both SDKs answer 403 insufficient_scope by re-authorizing with the union of scopes; the
  // step-up scope is granted only after a fresh sign-in (authz/step-up.ts). RFC 9470's
  // challenge follows for clients that understand it.
  const { denial: words, scope } = insufficientScope([denial.detail.scope!], ctx.token.scopes);
  const also = userAuthenticationChallenge(err.message, maxAge, { acr_values: acrValues });
  return challenge(ctx, deps, PortcullisError.from(words), { tokenPresented: true, scope, also, recordAs: err });
}

/** Each request of the body answered: its denial, or "not forwarded" when another one was denied. */
function refuseRequests(ctx: AuthenticatedRequest, denials: Map<JsonRpcRequest, Denial>): StepResult {
  const errors = new Map([...denials].map(([message, denial]) => [message, denialError(denial)]));
  const answers = ctx.messages.filter(isRequest).map((message) => {
    const err = errors.get(message);
    return err ? rpcError(message.id, err) : notForwarded(message.id);
  });
  return refuseEach(ctx, answers, errors.values().next().value!);
}

/** GET and DELETE carry no JSON-RPC request; the application's conditions still apply. */
function judgeConditions(ctx: AuthenticatedRequest, deps: StepDeps): StepResult {
  const decision = evaluate(GATEWAY_RULES, { app: ctx.app, caller: policyCaller(ctx), target: { method: `http/${ctx.req.method}` }, now: deps.now() });
  return decision.allow ? 'continue' : refuse(ctx, denialError(decision));
}

export async function policy(ctx: AuthenticatedRequest, deps: StepDeps): Promise<StepResult> {
  if (ctx.req.method !== 'POST') return judgeConditions(ctx, deps);
  // The organization's resource tree, from memory (argument-level constraints need it).
  const tree = ctx.caller.orgId !== undefined && needsTree(ctx.app, ctx.messages) ? await deps.orgTree(ctx.caller.orgId) : undefined;
  const denials = judge(ctx, deps, tree);
  if (denials.size === 0) return 'continue';
  for (const denial of denials.values()) {
    if (denial.code === 'insufficient_scope') return missingScope(ctx, deps, denial);
    if (denial.code === 'step_up_required') return stepUp(ctx, deps, denial);
  }
  return refuseRequests(ctx, denials);
}
