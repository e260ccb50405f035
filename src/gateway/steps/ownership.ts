/**
 * Tasks, sessions and resumed streams belong to the caller who created them (bindings.ts): a
 * taskId, `Mcp-Session-Id` or `Last-Event-ID` of anyone else's is answered as unknown — 404, never
 * "forbidden", so nobody learns that it exists. The upstream receives its own ids for them.
 */
import { PortcullisError } from '../../core/errors.ts';
import { requestHeader, type AuthenticatedRequest, type StepDeps, type StepResult } from '../context.ts';
import { isObject, isRequest } from '../jsonrpc.ts';
import { refuse } from '../refusals.ts';

const TASK_METHODS = new Set(['tasks/get', 'tasks/result', 'tasks/cancel', 'tasks/update']);

async function ownsTasks(ctx: AuthenticatedRequest, deps: StepDeps): Promise<StepResult> {
  for (const message of ctx.messages) {
    if (!isRequest(message) || !TASK_METHODS.has(message.method)) continue;
    const taskId = isObject(message.params) ? message.params.taskId : undefined;
    if (typeof taskId !== 'string' || (await deps.bindings.taskOwner(ctx.app.slug, taskId)) !== ctx.owner) {
      return refuse(ctx, new PortcullisError('not_found', 'task not found', { rule: 'task-owner' }), { id: message.id });
    }
  }
  return 'continue';
}

async function ownsSession(ctx: AuthenticatedRequest, deps: StepDeps): Promise<StepResult> {
  ctx.sessionId = requestHeader(ctx.req, 'mcp-session-id');
  if (ctx.sessionId === undefined) return 'continue';
  ctx.upstreamSessionId = await deps.bindings.resolveSession(ctx.app.slug, ctx.owner, ctx.sessionId);
  if (ctx.upstreamSessionId !== undefined) return 'continue';
  return refuse(ctx, new PortcullisError('not_found', 'session not found', { rule: 'session-owner' }));
}

function ownsStream(ctx: AuthenticatedRequest, deps: StepDeps): StepResult {
  const lastEventId = requestHeader(ctx.req, 'last-event-id');
  if (lastEventId === undefined) return 'continue';
  ctx.upstreamEventId = deps.bindings.openEventId(ctx.app.slug, ctx.owner, lastEventId);
  if (ctx.upstreamEventId !== undefined) return 'continue';
  return refuse(ctx, new PortcullisError('not_found', 'stream not found', { rule: 'stream-owner' }));
}

export async function ownership(ctx: AuthenticatedRequest, deps: StepDeps): Promise<StepResult> {
  if ((await ownsTasks(ctx, deps)) === 'answered') return 'answered';
  if ((await ownsSession(ctx, deps)) === 'answered') return 'answered';
  return ownsStream(ctx, deps);
}
