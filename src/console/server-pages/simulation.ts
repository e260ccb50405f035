/**
 * What the policy simulator decides, by the code the gateway runs: the gateway's rules in its order
 * (policy/index.ts GATEWAY_RULES, `evaluate`), on the manifest's record of the tool, with the
 * caller the gateway would have. Three kinds of caller:
 *
 * - a person's access token (policy/rule.ts Caller): their organization's role and resource
 *   memberships as the authorization server puts them in the token (identity/permissions.ts
 *   memberLevels), the organization's resource tree as the gateway loads it (identity/org-trees.ts).
 *   The administrator says what the token would carry that the server cannot know ahead: its
 *   scopes, how long ago the person signed in and whether with a second factor;
 * - an API key, picked by its id or prefix (never its secret): the stored record resolved by the
 *   function the gateway's key resolver runs (api-keys/resolver.ts resolveKeyRecord, its per-use
 *   checks, keyIdentity), then the token caller the gateway builds (policy/token-caller.ts). A key
 *   the gateway would refuse (revoked, expired, creator gone, another application) is refused here
 *   at the same step, with the same code and rule;
 * - a registered client acting for itself (client_credentials, RFC 6749 §4.4): the scopes the
 *   authorization server would issue it (clients/service-accounts.ts), no user, no organization.
 *
 * And the caller's address, for the application's network rules.
 */
import type { Application } from '../../core/application.ts';
import { isPortcullisError, PortcullisError } from '../../core/errors.ts';
import { memberLevels } from '../../identity/permissions.ts';
import { orgTreeOf } from '../../identity/org-trees.ts';
import { evaluate, GATEWAY_RULES, type Caller, type Decision } from '../../policy/index.ts';
import { callerOfToken } from '../../policy/token-caller.ts';
import { ACR_MFA } from '../../shared/acr.ts';
import { checkKeyAudience, checkKeyInForce, keyIdentity, resolveKeyRecord } from '../../api-keys/resolver.ts';
import { clientMayUse, serviceAccountScopes } from '../../clients/service-accounts.ts';
import type { ResourceTree } from '../../identity/permissions.ts';
import type { ServerPagesDeps } from './access.ts';

export type CallerKind = 'person' | 'key' | 'client';
export const CALLER_KINDS: readonly CallerKind[] = ['person', 'key', 'client'];

export interface SimulationInput {
  as: CallerKind;
  email: string;
  /** An API key's id or its prefix (`pcs_…`). */
  key: string;
  /** A registered client's id. */
  client: string;
  appSlug: string;
  tool: string;
  /** The call's `arguments`, JSON text (empty: none). */
  args: string;
  /** Space-separated; empty: every scope of the application the person's role (the client's allowance) allows. */
  scopes: string;
  signedInMinutesAgo: number;
  mfa: boolean;
  ip: string;
}

/** A refusal before policy runs: the credential itself (the gateway's authenticate step answers 401). */
export interface CredentialRefusal {
  allow: false;
  stage: 'authentication';
  code: string;
  rule: string;
  detail: Record<string, string>;
}

export interface Simulation {
  app: Application;
  caller?: Caller;
  decision: Decision | CredentialRefusal;
}

interface Judged {
  caller: Caller;
  tree?: ResourceTree;
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

const requestedScopes = (input: SimulationInput) => (input.scopes.trim() ? input.scopes.trim().split(/\s+/) : undefined);

async function personCaller(deps: ServerPagesDeps, input: SimulationInput, app: Application): Promise<Judged> {
  const user = await deps.store.users.findByEmail(input.email.trim().toLowerCase());
  if (!user) throw new PortcullisError('not_found', 'No one has this e-mail address.', { rule: 'simulator-person' });
  const org = (await deps.store.orgs.forUser(user.id))[0];
  const levels = org ? memberLevels(org.role, await deps.store.orgs.resourceMembers(org.id, user.id)) : undefined;
  const tree = org ? orgTreeOf(await deps.store.orgs.resources(org.id)) : undefined;
  const caller: Caller = {
    subject: user.id,
    clientId: 'policy-simulator',
    scopes: new Set(requestedScopes(input) ?? app.scopes.map((s) => s.name)),
    authTime: deps.now() - input.signedInMinutesAgo * 60,
    acr: input.mfa ? ACR_MFA : undefined,
    ip: input.ip,
    orgId: org?.id,
    levels,
    credential: 'token',
  };
  return { caller, tree };
}

/** The stored key by its id, or by its prefix (what the key lists show). */
async function findKey(deps: ServerPagesDeps, idOrPrefix: string) {
  const wanted = idOrPrefix.trim();
  const byId = wanted ? await deps.store.apiKeys.get(wanted) : undefined;
  if (byId) return byId;
  const matches = wanted ? (await deps.store.apiKeys.list({})).filter((k) => k.prefix === wanted) : [];
  if (matches.length !== 1) throw new PortcullisError('not_found', matches.length ? 'Several keys have this prefix: give the key’s id.' : 'There is no API key with this id or prefix.', { rule: 'simulator-key' });
  return matches[0]!;
}

/** The caller the gateway builds for the key (api-keys/resolver.ts, policy/token-caller.ts); a PortcullisError where the gateway refuses the key. */
async function keyCaller(deps: ServerPagesDeps, input: SimulationInput, app: Application): Promise<Judged> {
  const record = await findKey(deps, input.key);
  const tree = orgTreeOf(await deps.store.orgs.resources(record.orgId));
  const resolved = await resolveKeyRecord({ store: deps.store, trees: { get: async () => tree }, now: deps.now }, record);
  checkKeyInForce(resolved, deps.revocations, deps.now());
  checkKeyAudience(resolved, app);
  // The secret is never needed: the identity carries it only to re-check it later (gateway steps/filter-answer.ts).
  return { caller: callerOfToken(keyIdentity('', resolved, app), input.ip), tree };
}

/** A client_credentials token's caller: subject and client are the client (RFC 9068 §2.2), the scopes it would be issued. */
async function clientCaller(deps: ServerPagesDeps, input: SimulationInput, app: Application): Promise<Judged> {
  const record = await deps.store.clients.find(input.client.trim());
  if (!record) throw new PortcullisError('not_found', 'There is no client with this id.', { rule: 'simulator-client' });
  const grants = record.metadata.grant_types;
  if (record.kind !== 'static' || !Array.isArray(grants) || !grants.includes('client_credentials')) {
    throw new PortcullisError('unauthorized_client', 'This client cannot act for itself (it has no client_credentials grant).', { rule: 'simulator-client-grant' });
  }
  if (!clientMayUse(record.metadata, app.resource)) throw new PortcullisError('unauthorized_client', 'This client may not be given tokens for this application.', { rule: 'simulator-client-application' });
  const allowed = serviceAccountScopes(record.metadata, app);
  const asked = requestedScopes(input);
  const scopes = asked ? allowed.filter((s) => asked.includes(s)) : allowed;
  const caller: Caller = { subject: record.clientId, clientId: record.clientId, scopes: new Set(scopes), authTime: undefined, acr: undefined, ip: input.ip, credential: 'token' };
  return { caller };
}

const CALLERS: Record<CallerKind, (deps: ServerPagesDeps, input: SimulationInput, app: Application) => Promise<Judged>> = {
  person: personCaller,
  key: keyCaller,
  client: clientCaller,
};

/** The key refusals the gateway answers at authentication (api-keys/resolver.ts: invalid_token, token_revoked, invalid_audience). */
const AUTHENTICATION_CODES = new Set(['invalid_token', 'token_revoked', 'invalid_audience']);

export async function simulate(deps: ServerPagesDeps, input: SimulationInput): Promise<Simulation> {
  const app = deps.gateway.registry.list().find((a) => a.slug === input.appSlug);
  if (!app) throw new PortcullisError('not_found', 'There is no such application.', { rule: 'simulator-app' });
  const args = parseArguments(input.args);
  let judged: Judged;
  try {
    judged = await CALLERS[input.as](deps, input, app);
  } catch (err) {
    if (!isPortcullisError(err) || !AUTHENTICATION_CODES.has(err.code)) throw err;
    return { app, decision: { allow: false, stage: 'authentication', code: err.code, rule: err.rule, detail: {} } };
  }
  const { caller, tree } = judged;
  const tool = deps.gateway.registry.tool(app.slug, input.tool);
  const decision = evaluate(GATEWAY_RULES, { app, caller, target: { method: 'tools/call', name: input.tool, arguments: args }, tool, now: deps.now() * 1000, tree });
  return { app, caller, decision };
}
