import { parseAnnotations, promptScope, resourceScope, toolScope } from '../scopes.ts';
import { ALLOW, deny, type PolicyInput, type Rule } from '../rule.ts';

/** The scope this request needs, if any. */
export function neededScope({ app, target, tool }: PolicyInput): string | undefined {
  switch (target.method) {
    case 'tools/call':
      return target.name === undefined ? undefined : toolScope(app, target.name, parseAnnotations(tool?.annotations));
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return target.uri === undefined ? undefined : resourceScope(app, target.uri);
    case 'prompts/get':
      return target.name === undefined ? undefined : promptScope(app, target.name);
    default:
      return undefined;
  }
}

/** The request's scope must be in the token (MCP authorization, "Scope Challenge Handling"). */
export const requiredScope: Rule = (input) => {
  const needed = neededScope(input);
  if (needed === undefined || input.caller.scopes.has(needed)) return ALLOW;
  return deny('insufficient_scope', 'required-scope', { scope: needed });
};
