/**
 * What the policy simulator decides, by the code the gateway runs: the gateway's rules in its order
 * (policy/index.ts GATEWAY_RULES, `evaluate`), on the manifest's record of the tool, with the
 * caller a person's access token would make (policy/rule.ts Caller) — their organization's role and
 * resource memberships as the authorization server puts them in the token (identity/permissions.ts
 * memberLevels), the organization's resource tree as the gateway loads it (identity/org-trees.ts).
 * The administrator says what the token would carry that the server cannot know ahead: its scopes,
 * how long ago the person signed in and whether with a second factor, and the caller's address.
 */
import type { Application } from '../../core/application.ts';
import { PortcullisError } from '../../core/errors.ts';
import { memberLevels } from '../../identity/permissions.ts';
import { orgTreeOf } from '../../identity/org-trees.ts';
import { evaluate, GATEWAY_RULES, type Caller, type Decision } from '../../policy/index.ts';
import { ACR_MFA } from '../../shared/acr.ts';
import type { ServerPagesDeps } from './access.ts';

export interface SimulationInput {
  email: string;
  appSlug: string;
  tool: string;
  /** The call's `arguments`, JSON text (empty: none). */
  args: string;
  /** Space-separated; empty: every scope of the application the person's role allows. */
  scopes: string;
  signedInMinutesAgo: number;
  mfa: boolean;
  ip: string;
}

export interface Simulation {
  app: Application;
  caller: Caller;
  decision: Decision;
}

function parseArguments(text: string): Record<string, unknown> | undefined {
  if (!text.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new PortcullisError('invalid_request', 'The arguments must be a JSON object.', { rule: 'simulator-arguments' });
  return value as Record<string, unknown>;
}

async function personCaller(deps: ServerPagesDeps, input: SimulationInput, app: Application) {
  const user = await deps.store.users.findByEmail(input.email.trim().toLowerCase());
  if (!user) throw new PortcullisError('not_found', 'No one has this e-mail address.', { rule: 'simulator-person' });
  const org = (await deps.store.orgs.forUser(user.id))[0];
  const levels = org ? memberLevels(org.role, await deps.store.orgs.resourceMembers(org.id, user.id)) : undefined;
  const tree = org ? orgTreeOf(await deps.store.orgs.resources(org.id)) : undefined;
  const scopes = input.scopes.trim() ? input.scopes.trim().split(/\s+/) : app.scopes.map((s) => s.name);
  const caller: Caller = {
    subject: user.id,
    clientId: 'policy-simulator',
    scopes: new Set(scopes),
    authTime: deps.now() - input.signedInMinutesAgo * 60,
    acr: input.mfa ? ACR_MFA : undefined,
    ip: input.ip,
    orgId: org?.id,
    levels,
    credential: 'token',
  };
  return { caller, tree };
}

export async function simulate(deps: ServerPagesDeps, input: SimulationInput): Promise<Simulation> {
  const app = deps.gateway.registry.list().find((a) => a.slug === input.appSlug);
  if (!app) throw new PortcullisError('not_found', 'There is no such application.', { rule: 'simulator-app' });
  const args = parseArguments(input.args);
  const { caller, tree } = await personCaller(deps, input, app);
  const tool = deps.gateway.registry.tool(app.slug, input.tool);
  const decision = evaluate(GATEWAY_RULES, { app, caller, target: { method: 'tools/call', name: input.tool, arguments: args }, tool, now: deps.now() * 1000, tree });
  return { app, caller, decision };
}
