/**
 * Remembered consent: which existing Grant an authorization request reuses (the engine's
 * loadExistingGrant), and what on it is asked for again.
 */
import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { allowedScopesOf } from '../../identity/token-permissions.ts';
import { identityProven } from '../clients.ts';
import { resolveGrantOrg } from '../grant-org.ts';
import type { AuthzDeps } from './deps.ts';

export function loadExistingGrant(deps: Pick<AuthzDeps, 'store' | 'resources' | 'now'>): NonNullable<Configuration['loadExistingGrant']> {
  const { store, resources, now } = deps;
  return async (ctx) => {
    const fromConsent = ctx.oidc.result?.consent?.grantId;
    if (fromConsent) return ctx.oidc.provider.Grant.find(fromConsent);
    // Remembered consent only for clients whose identity is proven (RFC 8252 §8.6).
    const client = ctx.oidc.client!;
    if (!identityProven(client as never)) return undefined;
    const grantId = ctx.oidc.session?.grantIdFor(client.clientId);
    const grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    if (!grant) return undefined;
    // A remembered grant whose organization no longer takes it (the user left, the org stopped
    // allowing the client) is not reused: the user is asked again and picks an org.
    const bound = await resolveGrantOrg(store, { grantId: grant.jti, userId: grant.accountId!, clientId: client.clientId }, now());
    if (!bound.ok) return undefined;
    // Only what the user's role there allows is worth asking for again.
    const mayHold = (indicator: string, scope: string) => {
      const resource = resources.get(indicator);
      return resource !== undefined && allowedScopesOf(resource, bound.access.levels).includes(scope);
    };
    await askAgainForRefused(grant, ctx.oidc.requestParamScopes, mayHold);
    return grant;
  };
}

/**
 * A scope the user refused on a remembered grant (partial consent records refusals so the engine
 * does not ask again within that request) is asked for again when the client asks for it again —
 * a step-up after a 403. Otherwise a client whose consent is remembered could never be given it:
 * found with real MCP SDK clients, which re-authorized, got no consent prompt and the same 403.
 * A scope the user's role in the grant's organization does not allow stays refused: asking again
 * would show a consent page with nothing to grant at every authorization.
 */
async function askAgainForRefused(
  grant: InstanceType<Provider['Grant']>,
  requested: ReadonlySet<string>,
  mayHold: (resource: string, scope: string) => boolean,
): Promise<void> {
  const refused = (grant as { rejected?: { resources?: Record<string, string> } }).rejected?.resources;
  if (!refused) return;
  let changed = false;
  for (const [resource, scopes] of Object.entries(refused)) {
    const kept = scopes.split(' ').filter((scope) => scope && !(requested.has(scope) && mayHold(resource, scope)));
    if (kept.join(' ') === scopes) continue;
    refused[resource] = kept.join(' ');
    changed = true;
  }
  if (changed) await grant.save();
}
