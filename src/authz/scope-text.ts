/**
 * Permissions in plain English, as people see them before they approve a client: the text of each
 * scope and the tools it enables. Shared by the pages that ask for approval (the device
 * confirmation page; the consent page can use it too).
 */
import type { ProtectedResource } from '../core/protected-resource.ts';
import { describeStepUp } from './step-up.ts';

/** The OpenID scopes, as a person reads them. */
export const OIDC_SCOPE_TEXT: Readonly<Record<string, string>> = {
  openid: 'Know who you are (your account id)',
  email: 'See your e-mail address',
  profile: 'See your name',
  offline_access: 'Stay connected while you are away (keep access without asking you again)',
};

/** The tools of a resource that need exactly this scope. */
export function toolsNeeding(resource: Pick<ProtectedResource, 'toolScopes'>, scope: string): string[] {
  return Object.entries(resource.toolScopes)
    .filter(([, needed]) => needed === scope)
    .map(([tool]) => tool);
}

/** What a scope of a resource lets a client do; the step-up scope also says how long it lasts. */
export function scopeText(resource: ProtectedResource, scope: string): string {
  const description = resource.scopes.find((s) => s.name === scope)?.description;
  if (scope === resource.stepUpScope) return describeStepUp(resource, description);
  return description ?? scope;
}
