/**
 * What comes back from the upstream, message by message, before the client sees it:
 * - `tools/list`: every listed tool is recorded in the manifest (new or changed → review), and the
 *   client sees only approved tools whose scope its token holds — on every page;
 * - `resources/list`, `resources/templates/list`, `prompts/list`: only what the token's scopes
 *   allow, when scopes are assigned;
 * - every result carrying `cacheScope` (2026-07-28 list results, `server/discover`,
 *   `resources/read`) is marked `"private"`: what the gateway answers depends on the caller's token;
 * - results that create a task bind the task to the caller; `tasks/list` shows only the caller's;
 * - `notifications/tools/list_changed` triggers a manifest refresh.
 * Everything else passes through untouched.
 */
import type { Application } from '../../core/application.ts';
import { isListedTool } from '../../applications/manifest.ts';
import type { ApplicationRegistry } from '../../applications/registry.ts';
import { promptScope, resourceScope, resourceTemplateScope } from '../../policy/scopes.ts';
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

/**
 * A result as only this caller may cache it. MCP 2026-07-28 (SEP-2549) lets a server mark a
 * `CacheableResult` `cacheScope: "public"` — shareable across callers — but a list the gateway
 * filtered for one token must be `"private"` and never shared across tokens, and any other result
 * it passes on was allowed for this token alone (a resource another token may not read, a discover
 * answer behind authentication): every `cacheScope` becomes `"private"`. The upstream's `ttlMs`
 * stays: how long the answer is fresh is the upstream's to say.
 */
export function privateCacheScope(result: Record<string, unknown>): Record<string, unknown> {
  return 'cacheScope' in result && result.cacheScope !== 'private' ? { ...result, cacheScope: 'private' } : result;
}

/** Filter one message; returns the (possibly new) message. */
export async function filterMessage(ctx: FilterContext, message: unknown): Promise<unknown> {
  if (isNotification(message)) {
    if (message.method === 'notifications/tools/list_changed') ctx.onToolsChanged();
    return message;
  }
  if (!isResponse(message) || !isObject(message.result)) return message;
  const result = privateCacheScope(message.result);
  const method = ctx.methods.get(idKey(message.id));

  if (isObject(result.task) && typeof result.task.taskId === 'string') {
    await ctx.bindings.bindTask(ctx.app.slug, ctx.owner, result.task.taskId);
  }
  const filtered = await filterResult(ctx, method, result);
  return filtered === message.result ? message : { ...message, result: filtered };
}

/** The result of a list request, without what this caller may not see. */
async function filterResult(ctx: FilterContext, method: string | undefined, result: Record<string, unknown>): Promise<Record<string, unknown>> {
  switch (method) {
    case 'tools/list': {
      if (!Array.isArray(result.tools)) return result;
      await ctx.registry.observeTools(ctx.app, result.tools.filter(isListedTool));
      return { ...result, tools: visibleTools(ctx, result.tools) };
    }
    case 'resources/list': {
      if (!Array.isArray(result.resources)) return result;
      const resources = result.resources.filter(
        (r) => isObject(r) && typeof r.uri === 'string' && allowedBy(ctx.scopes, resourceScope(ctx.app, r.uri)),
      );
      return { ...result, resources };
    }
    case 'resources/templates/list': {
      if (!Array.isArray(result.resourceTemplates)) return result;
      const resourceTemplates = result.resourceTemplates.filter(
        (t) => isObject(t) && typeof t.uriTemplate === 'string' && allowedBy(ctx.scopes, resourceTemplateScope(ctx.app, t.uriTemplate)),
      );
      return { ...result, resourceTemplates };
    }
    case 'prompts/list': {
      if (!Array.isArray(result.prompts)) return result;
      const prompts = result.prompts.filter(
        (p) => isObject(p) && typeof p.name === 'string' && allowedBy(ctx.scopes, promptScope(ctx.app, p.name)),
      );
      return { ...result, prompts };
    }
    case 'tasks/list': {
      if (!Array.isArray(result.tasks)) return result;
      const mine: unknown[] = [];
      for (const task of result.tasks) {
        if (isObject(task) && typeof task.taskId === 'string' && (await ctx.bindings.taskOwner(ctx.app.slug, task.taskId)) === ctx.owner) mine.push(task);
      }
      return { ...result, tasks: mine };
    }
    default:
      return result;
  }
}

/** Filter a whole JSON body (a response or a batch of them). */
export async function filterJson(ctx: FilterContext, value: unknown): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((m) => filterMessage(ctx, m)));
  return filterMessage(ctx, value);
}
