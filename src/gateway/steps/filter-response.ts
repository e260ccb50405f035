/**
 * What comes back from the upstream, message by message, before the client sees it:
 * - `tools/list`: every listed tool is recorded in the manifest (new or changed → review), and the
 *   client sees only approved tools whose scope its token holds — on every page;
 * - `resources/list`, `prompts/list`: only what the token's scopes allow, when scopes are assigned;
 * - results that create a task bind the task to the caller; `tasks/list` shows only the caller's;
 * - `notifications/tools/list_changed` triggers a manifest refresh.
 * Everything else passes through untouched.
 */
import type { Application } from '../../apps/definition.ts';
import { isListedTool } from '../../apps/manifest.ts';
import type { ApplicationRegistry } from '../../apps/registry.ts';
import { promptScope, resourceScope } from '../../policy/scopes.ts';
import type { Bindings } from '../bindings.ts';
import { isNotification, isObject, isRequest, isResponse, type JsonRpcId } from '../jsonrpc.ts';

export interface FilterContext {
  app: Application;
  registry: ApplicationRegistry;
  bindings: Bindings;
  owner: string;
  scopes: ReadonlySet<string>;
  /** Method of each request this exchange carried, by id. */
  methods: Map<string, string>;
  onToolsChanged: () => void;
}

export const idKey = (id: JsonRpcId | undefined) => JSON.stringify(id ?? null);

export function requestMethods(messages: unknown[]): Map<string, string> {
  const methods = new Map<string, string>();
  for (const message of messages) if (isRequest(message)) methods.set(idKey(message.id), message.method);
  return methods;
}

export function visibleTools(ctx: FilterContext, tools: unknown[]): unknown[] {
  return tools.filter((tool) => {
    if (!isListedTool(tool)) return false;
    const scope = ctx.registry.approvedToolScope(ctx.app.slug, tool.name);
    return scope !== undefined && ctx.scopes.has(scope);
  });
}

const allowedBy = (scopes: ReadonlySet<string>, needed: string | undefined) => needed === undefined || scopes.has(needed);

/** Filter one message; returns the (possibly new) message. */
export async function filterMessage(ctx: FilterContext, message: unknown): Promise<unknown> {
  if (isNotification(message)) {
    if (message.method === 'notifications/tools/list_changed') ctx.onToolsChanged();
    return message;
  }
  if (!isResponse(message) || !isObject(message.result)) return message;
  const result = message.result;
  const method = ctx.methods.get(idKey(message.id));

  if (isObject(result.task) && typeof result.task.taskId === 'string') {
    await ctx.bindings.bindTask(ctx.app.slug, ctx.owner, result.task.taskId);
  }
  switch (method) {
    case 'tools/list': {
      if (!Array.isArray(result.tools)) return message;
      await ctx.registry.observeTools(ctx.app, result.tools.filter(isListedTool));
      return { ...message, result: { ...result, tools: visibleTools(ctx, result.tools) } };
    }
    case 'resources/list': {
      if (!Array.isArray(result.resources)) return message;
      const resources = result.resources.filter(
        (r) => isObject(r) && typeof r.uri === 'string' && allowedBy(ctx.scopes, resourceScope(ctx.app, r.uri)),
      );
      return { ...message, result: { ...result, resources } };
    }
    case 'prompts/list': {
      if (!Array.isArray(result.prompts)) return message;
      const prompts = result.prompts.filter(
        (p) => isObject(p) && typeof p.name === 'string' && allowedBy(ctx.scopes, promptScope(ctx.app, p.name)),
      );
      return { ...message, result: { ...result, prompts } };
    }
    case 'tasks/list': {
      if (!Array.isArray(result.tasks)) return message;
      const mine: unknown[] = [];
      for (const task of result.tasks) {
        if (isObject(task) && typeof task.taskId === 'string' && (await ctx.bindings.taskOwner(ctx.app.slug, task.taskId)) === ctx.owner) mine.push(task);
      }
      return { ...message, result: { ...result, tasks: mine } };
    }
    default:
      return message;
  }
}

/** Filter a whole JSON body (a response or a batch of them). */
export async function filterJson(ctx: FilterContext, value: unknown): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((m) => filterMessage(ctx, m)));
  return filterMessage(ctx, value);
}
