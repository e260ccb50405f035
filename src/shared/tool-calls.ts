/**
 * Which scopes a JSON-RPC message needs, from a tool → scope map (MCP authorization, "Scope
 * Challenge Handling"). A batch needs the union of its requests' scopes, so a `tools/call` cannot
 * be smuggled past the check inside one.
 */

interface JsonRpcLike {
  method?: unknown;
  params?: { name?: unknown } | null;
}

export function toolCallsIn(message: unknown): string[] {
  const messages = Array.isArray(message) ? message : [message];
  const names: string[] = [];
  for (const entry of messages) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { method, params } = entry as JsonRpcLike;
    if (method === 'tools/call' && params && typeof params.name === 'string') names.push(params.name);
  }
  return names;
}

/** Scopes the message needs that the token does not hold. */
export function missingScopes(message: unknown, toolScopes: Readonly<Record<string, string>>, held: ReadonlySet<string>): string[] {
  const needed = new Set<string>();
  for (const tool of toolCallsIn(message)) {
    const scope = Object.hasOwn(toolScopes, tool) ? toolScopes[tool] : undefined;
    if (scope && !held.has(scope)) needed.add(scope);
  }
  return [...needed];
}
