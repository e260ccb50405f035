/**
 * Argument-level constraints (docs/design/identity.md): an application tool may map arguments to
 * resources of the organization (`tools.<name>.arguments: { "projectId": "project" }`). On
 * `tools/call`, each mapped argument present must name a resource of that kind in the caller's
 * organization, and the caller's level on it — from the token's `res` (or the API key's levels),
 * inherited down the organization's tree — must reach the level of the scope the tool needs (its
 * minimum role's level). Otherwise `policy_denied`, naming the resource as `<kind>:<id>`.
 *
 * Decisions where the model is silent:
 * - an absent mapped argument passes (the tool may not need it; the upstream refuses a call that
 *   lacks a required one), but one that is present and not a string (a number, null, an object) is
 *   refused: the gateway cannot tell which resource it names, and the upstream might;
 * - a caller with no organization (a token from before organizations) reaches no resource;
 * - an id of another organization, or of another kind, is refused exactly like an unknown one.
 */
import { levelOn, reaches, scopeLevel } from '../../identity/permissions.ts';
import { ALLOW, deny, toolRule, type Rule } from '../rule.ts';
import { neededScope } from './required-scope.ts';

/** Ids are short; a huge value is cut in the denial (it goes to logs and back to the client). */
const shown = (value: string) => (value.length > 100 ? `${value.slice(0, 100)}…` : value);

export const resourceAccess: Rule = (input) => {
  const { app, target, caller, tree } = input;
  if (target.method !== 'tools/call' || !target.name) return ALLOW;
  const mapped = toolRule(app, target.name)?.arguments;
  if (!mapped) return ALLOW;
  const scope = neededScope(input);
  const declared = app.scopes.find((s) => s.name === scope);
  const need = scopeLevel(declared ?? { name: scope ?? '' });
  for (const [argument, kind] of Object.entries(mapped)) {
    const value = target.arguments && Object.hasOwn(target.arguments, argument) ? target.arguments[argument] : undefined;
    if (value === undefined) continue;
    if (typeof value !== 'string') return deny('policy_denied', 'resource-access', { resource: `${kind}:`, argument, reason: 'not_an_id' });
    const resource = `${kind}:${shown(value)}`;
    if (caller.orgId === undefined || !tree || tree.kindOf(value) !== kind) {
      return deny('policy_denied', 'resource-access', { resource, argument, reason: 'unknown_resource' });
    }
    if (!reaches(levelOn(caller.levels ?? {}, value, tree), need)) {
      return deny('policy_denied', 'resource-access', { resource, argument, reason: 'insufficient_level', level: need });
    }
  }
  return ALLOW;
};
