import { ACR_MFA } from '../../shared/acr.ts';
import { ALLOW, deny, toolRule, type Rule } from '../rule.ts';

/**
 * A sensitive tool (`stepUp: { maxAge }`) needs a recent sign-in: the token must carry the
 * application's step-up scope — which the authorization server grants only after a sign-in within
 * the application's shortest step-up max age, in tokens that expire with it (authz/step-up.ts) — and
 * its `auth_time` must be within this tool's own maxAge (RFC 9470 §3 `max_age`). With `mfa: true`
 * the sign-in must also have proven a second factor: the token's `acr` is urn:portcullis:acr:mfa
 * (RFC 9470 §3 `acr_values`). Any of these failing is `step_up_required`; the gateway answers 403
 * `insufficient_scope` naming the step-up scope, plus the RFC 9470 `insufficient_user_authentication`
 * challenge with `max_age` (and `acr_values` when a second factor is required).
 *
 * An API key has no sign-in to refresh and can never get the step-up scope: a step-up tool called
 * with a key is `policy_denied` (a JSON-RPC error), not a challenge the caller cannot answer.
 */
export const stepUp: Rule = ({ app, target, caller, now }) => {
  if (target.method !== 'tools/call' || !target.name) return ALLOW;
  const rule = toolRule(app, target.name)?.stepUp;
  if (!rule || !app.stepUpScope) return ALLOW;
  if (caller.credential === 'key') return deny('policy_denied', 'step-up', { resource: `tool:${target.name}`, reason: 'api_key' });
  const fresh = caller.authTime !== undefined && now / 1000 - caller.authTime <= rule.maxAge;
  const factors = rule.mfa !== true || caller.acr === ACR_MFA;
  if (fresh && factors && caller.scopes.has(app.stepUpScope)) return ALLOW;
  const detail: Record<string, string> = { scope: app.stepUpScope, max_age: String(rule.maxAge), resource: `tool:${target.name}` };
  if (rule.mfa === true) detail.acr_values = ACR_MFA;
  return deny('step_up_required', 'step-up', detail);
};
