import { ALLOW, deny, type Rule } from '../rule.ts';

/**
 * A sensitive tool needs a recent sign-in: the token must carry the application's step-up scope
 * (granted only after a sign-in within maxAge, see authz/step-up.ts) and an auth_time within the
 * tool's maxAge (RFC 9470 §3). Either failing is `step_up_required`.
 */
export const stepUp: Rule = ({ app, target, caller, now }) => {
  if (target.method !== 'tools/call' || !target.name) return ALLOW;
  const rule = app.tools[target.name]?.stepUp;
  if (!rule || !app.stepUpScope) return ALLOW;
  const fresh = caller.authTime !== undefined && now / 1000 - caller.authTime <= rule.maxAge;
  if (fresh && caller.scopes.has(app.stepUpScope)) return ALLOW;
  return deny('step_up_required', 'step-up', { scope: app.stepUpScope, max_age: String(rule.maxAge), resource: `tool:${target.name}` });
};
