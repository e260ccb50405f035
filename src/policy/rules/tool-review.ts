import { ALLOW, deny, type Rule } from '../rule.ts';

/**
 * A tool is callable only once reviewed: new tools and tools whose description, schema or
 * annotations changed since approval are `needs_review` (silent tool changes never reach users).
 */
export const toolReviewed: Rule = ({ target, tool }) => {
  if (target.method !== 'tools/call') return ALLOW;
  if (tool?.status === 'approved') return ALLOW;
  return deny('policy_denied', 'tool-review', { resource: `tool:${target.name ?? ''}`, reason: tool ? 'needs_review' : 'unknown_tool' });
};
