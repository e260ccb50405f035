/**
 * Per-tool scopes: which scope each tool needs (the server author's map or function, else the
 * tool's own `_meta["dev.portcullis/scope"]`), whether an identity may call a tool or every tool
 * of a JSON-RPC message, and which tools `tools/list` shows it. A refusal is 403
 * insufficient_scope naming every scope needed in one challenge (RFC 6750 §3.1), so a client asks
 * for the union at once.
 */
import { insufficientScope, type Challenge } from '../../shared/challenge.ts';
import { toolCallsIn } from '../../shared/tool-calls.ts';
import { GuardError } from './errors.ts';
import type { GuardIdentity } from './identity.ts';
import type { GuardOptions } from './options.ts';

/** `_meta` key under which a tool may declare the scope it needs, beside its definition (see adapters/mcp.ts `toolScope`). */
export const TOOL_SCOPE_META = 'dev.portcullis/scope';

export interface ListedTool {
  name: string;
  _meta?: Record<string, unknown> | null;
}

export type ToolDecision = { ok: true } | { ok: false; error: GuardError; challenge: Challenge; scope: string };

export interface ToolScopes {
  /** The scope a tool needs, if any. */
  scopeFor(tool: string | ListedTool): string | undefined;
  /** May this identity call this tool? */
  authorizeTool(identity: GuardIdentity, tool: string | ListedTool): ToolDecision;
  /** Every `tools/call` in a JSON-RPC message or batch, judged at once (a batch cannot smuggle one past). */
  authorizeMessage(identity: GuardIdentity, message: unknown): ToolDecision;
  /** Only the tools this identity may call. */
  filterTools<T extends ListedTool>(tools: readonly T[], identity: GuardIdentity): T[];
}

type Challenger = (error: GuardError, tokenPresented: boolean, scope: string) => Challenge;

export function createToolScopes(toolScopes: GuardOptions['toolScopes'], challenge: Challenger): ToolScopes {
  function scopeFor(tool: string | ListedTool): string | undefined {
    const name = typeof tool === 'string' ? tool : tool.name;
    const declared = typeof toolScopes === 'function' ? toolScopes(name) : Object.hasOwn(toolScopes, name) ? toolScopes[name] : undefined;
    if (declared) return declared;
    const meta = typeof tool === 'string' ? undefined : tool._meta?.[TOOL_SCOPE_META];
    return typeof meta === 'string' && meta ? meta : undefined;
  }

  function decide(identity: GuardIdentity, needed: Iterable<string | undefined>): ToolDecision {
    const missing = [...new Set([...needed].filter((s): s is string => s !== undefined && !identity.scopes.has(s)))];
    if (missing.length === 0) return { ok: true };
    const { denial, scope } = insufficientScope(missing, identity.scopes);
    const error = GuardError.from(denial);
    return { ok: false, error, scope, challenge: challenge(error, true, scope) };
  }

  return {
    scopeFor,
    authorizeTool: (identity, tool) => decide(identity, [scopeFor(tool)]),
    authorizeMessage: (identity, message) => decide(identity, toolCallsIn(message).map((name) => scopeFor(name))),
    filterTools: (tools, identity) =>
      tools.filter((tool) => {
        const scope = scopeFor(tool);
        return scope === undefined || identity.scopes.has(scope);
      }),
  };
}
