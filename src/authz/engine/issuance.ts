/**
 * What goes into the tokens the engine issues: which resource a token is for and which of its
 * scopes it carries (RFC 8707 resource indicators, the engine's getResourceServerInfo), the claims
 * every access token adds, and when a client gets a refresh token. Lifetimes: lifetimes.ts.
 */
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Store } from '../../store/store.ts';
import type { ProtectedResource } from '../../core/protected-resource.ts';
import { allowedScopesOf } from '../../identity/token-permissions.ts';
import { clientLimits, serviceAccountScopes } from '../../clients/service-accounts.ts';
import { GRANT_ORG_REFUSALS } from '../grant-org.ts';
import { tokenEndpointScopes } from '../step-up.ts';
import { grantOrgOf } from './bound-grant.ts';
import type { AuthzDeps } from './deps.ts';

type Features = NonNullable<Configuration['features']>;
type Client = Parameters<NonNullable<NonNullable<Features['resourceIndicators']>['getResourceServerInfo']>>[2];

/** When the user signed in, for the token being issued: the code's (or device code's) auth_time. */
export function signInTime(ctx: KoaContextWithOIDC): number | undefined {
  const { entities } = ctx.oidc;
  return ((entities.AuthorizationCode ?? entities.DeviceCode) as { authTime?: number } | undefined)?.authTime;
}

/** How that sign-in was made: the code's (or device code's) `acr` (a step-up with `mfa` needs ACR_MFA). */
export function signInAcr(ctx: KoaContextWithOIDC): string | undefined {
  const { entities } = ctx.oidc;
  return ((entities.AuthorizationCode ?? entities.DeviceCode) as { acr?: string } | undefined)?.acr;
}

/** The stored client's limits (clients/service-accounts.ts clientLimits: the one reading of them). */
async function storedClientLimits(store: Store, clientId: string): Promise<ReturnType<typeof clientLimits>> {
  return clientLimits((await store.clients.find(clientId))?.metadata);
}

export function resourceIndicators(deps: Pick<AuthzDeps, 'config' | 'store' | 'resources' | 'defaultResource' | 'now'>): Features['resourceIndicators'] {
  return {
    enabled: true,
    // A client limited to some applications gets its first one when it names none (RFC 8707 §2: the AS may pick a default).
    defaultResource: async (_ctx, client, oneOf) => oneOf ?? (await storedClientLimits(deps.store, client.clientId)).applications?.[0] ?? deps.defaultResource(),
    // The token endpoint may omit `resource`: use what was granted at the authorization endpoint.
    useGrantedResource: async () => true,
    getResourceServerInfo: async (ctx, resourceIndicator, client) => {
      const resource = deps.resources.get(resourceIndicator);
      if (!resource) throw new errors.InvalidTarget('the requested resource is not known to this server');
      const limits = await storedClientLimits(deps.store, client.clientId);
      if (limits.applications && !limits.applications.includes(resource.url)) throw new errors.InvalidTarget('this client may not be given tokens for this application');
      const accessTtl = deps.config.tokens.accessTokenTtl;
      let scopes = resource.scopes.map((s) => s.name);
      let ttl = accessTtl;
      if (ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials') {
        scopes = await serviceAccountLimits(deps.store, client, resource, scopes);
      } else if (ctx.oidc.route === 'token') {
        ({ scopes, ttl } = userTokenLimits(ctx, resource, scopes, accessTtl));
        if (limits.scopes) scopes = scopes.filter((scope) => limits.scopes!.has(scope));
      }
      // Step-up (authz/step-up.ts): the step-up scope only in a token straight from a fresh sign-in;
      // dropped at a refresh (the engine then leaves it out of the token and of the response's scope).
      if (ctx.oidc.route === 'token') {
        scopes = tokenEndpointScopes(resource, scopes, {
          grantType: ctx.oidc.params?.grant_type as string | undefined,
          authTime: signInTime(ctx),
          acr: signInAcr(ctx),
          now: deps.now(),
        });
      }
      return {
        scope: scopes.join(' '),
        audience: resource.url,
        accessTokenTTL: ttl,
        // RFC 9068 JWT access tokens: the guard verifies them offline, with the issuer's JWKS.
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      };
    },
  };
}

/**
 * A token with no user behind it only for clients an administrator registered: dynamically
 * registered and metadata-document clients (which may use private_key_jwt) never get one.
 */
async function serviceAccountLimits(store: Store, client: Client, resource: ProtectedResource, scopes: string[]): Promise<string[]> {
  const record = await store.clients.find(client.clientId);
  if (record?.kind !== 'static') throw new errors.UnauthorizedClient('client_credentials is available to pre-registered clients only');
  // A service account gets at most the scopes its administrator allowed it (least
  // privilege): `portcullis_scopes` in its stored record, else the resource's defaults.
  const allowed = new Set(serviceAccountScopes(record.metadata, resource));
  return scopes.filter((scope) => allowed.has(scope));
}

/**
 * A user's token: what they consented (the engine intersects with the grant) ∩ what their
 * role in the grant's organization allows now (docs/design/identity.md), with the org's
 * access-token lifetime when shorter. The org was resolved by findAccount just before.
 */
function userTokenLimits(ctx: KoaContextWithOIDC, resource: ProtectedResource, scopes: string[], accessTtl: number): { scopes: string[]; ttl: number } {
  const bound = grantOrgOf(ctx);
  if (!bound) throw new errors.InvalidGrant(GRANT_ORG_REFUSALS.no_org);
  const allowed = new Set(allowedScopesOf(resource, bound.access.levels));
  return {
    scopes: scopes.filter((scope) => allowed.has(scope)),
    ttl: Math.min(accessTtl, bound.org.settings.accessTokenTtl ?? accessTtl),
  };
}

/** Claims every access token carries besides the engine's own. */
export const extraTokenClaims: NonNullable<Configuration['extraTokenClaims']> = async (ctx, token) => {
  const { entities } = ctx.oidc;
  const source = (entities.AuthorizationCode ?? entities.RotatedRefreshToken ?? entities.RefreshToken ?? entities.DeviceCode) as
    | { authTime?: number; acr?: string; amr?: string[] }
    | undefined;
  const bound = grantOrgOf(ctx);
  return {
    grant_id: (token as { grantId?: string }).grantId,
    auth_time: source?.authTime,
    acr: source?.acr,
    amr: source?.amr,
    // The organization and the resource constraints (docs/design/identity.md): the gateway
    // checks mapped tool arguments against `res`, applying inheritance with the org's tree.
    ...(bound ? { org_id: bound.org.id, res: bound.access.levels } : {}),
  };
};

/** Refresh tokens do not die with the browser session, and do not depend on offline_access. */
export const REFRESH_TOKEN_ISSUANCE = {
  expiresWithSession: async () => false,
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  revokeGrantPolicy: () => true,
} satisfies Configuration;

/**
 * JWT access tokens dated by the server's clock, not the engine's: the engine reads Date.now() and
 * takes no clock, so a token's `iat` and `exp` would disagree with everything else Portcullis
 * decides by time — the gateway checks `exp` against this same clock. In production both are the
 * system clock and nothing changes; tests move the server's clock instead of sleeping.
 */
export function tokensDatedBy(now: () => number): NonNullable<Configuration['formats']> {
  return {
    customizers: {
      jwt: async (_ctx, _token, jwt) => {
        const { iat, exp } = jwt.payload as { iat?: number; exp?: number };
        if (typeof iat !== 'number' || typeof exp !== 'number') return;
        const issued = now();
        Object.assign(jwt.payload, { iat: issued, exp: issued + (exp - iat) });
      },
    },
  };
}
