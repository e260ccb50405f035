/**
 * The protocol engine (oidc-provider 9), configured — not forked. Everything Portcullis decides
 * about OAuth lives in this configuration and in a few small koa middlewares installed here; the
 * known engine gaps (DESIGN.md "Known engine gaps") are each closed at the place named below.
 */
import type { Store } from '../store/store.ts';
import { CLOCK_SKEW } from '../core/clock.ts';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { contentSecurityPolicy } from '../web/pages.ts';
import type { Config } from '../core/config.ts';
import { randomBase62, randomToken, type DerivedSecrets, type SecretKey } from '../core/crypto.ts';
import type { KeyRing } from '../signing-keys/key-ring.ts';
import { allowedScopesOf, userActive } from '../identity/token-permissions.ts';
import { levelOn, reaches, treeOf } from '../identity/permissions.ts';
import { createAdapterClass } from './adapter.ts';
import { GRANT_ORG_REFUSALS, resolveGrantOrg, type GrantOrg } from './grant-org.ts';
import type { GrantRevoker } from '../revocation/grant-revoker.ts';
import { cliClient, compareHashedSecret, identityProven, insecureRedirectUri, redirectUriAllowed } from './clients.ts';
import { devicePolling } from './device-polling.ts';
import { answerOutagesWith503 } from './outage.ts';
import { createOutboundFetch } from './outbound-fetch.ts';
import { withRefreshScope } from './refresh-family.ts';
import { assertMetadataTypes } from './registration-metadata.ts';
import type { ResourceRegistry } from '../applications/protected-resources.ts';
import { accessTokenTtl, stepUpInteractionPolicy, tokenEndpointScopes } from './step-up.ts';
import { renderEngineError, renderLogoutPage, renderLogoutSuccess } from './views.ts';

export interface AuthzDeps {
  config: Config;
  store: Store;
  secrets: DerivedSecrets;
  resources: ResourceRegistry;
  /** Audience for requests that name no resource (the demo, else the first application). */
  defaultResource: () => string | undefined;
  keyRing: KeyRing;
  log: Logger;
  now: () => number;
  revokeGrant: GrantRevoker;
}

/** Engine routes, relative to the issuer. Our own pages live outside /oauth. */
export const ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  jwks: '/oauth/jwks',
  registration: '/oauth/register',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  device_authorization: '/oauth/device/authorize',
  code_verification: '/device',
  end_session: '/oauth/logout',
  userinfo: '/oauth/userinfo',
  pushed_authorization_request: '/oauth/par',
} as const;

export const OIDC_SCOPES = ['openid', 'offline_access', 'email', 'profile'];

/** Clock skew tolerated on token times everywhere (seconds). */

export const ACR_PASSWORD = 'urn:portcullis:acr:pwd';

/** When the user signed in, for the token being issued: the code's (or device code's) auth_time. */
function signInTime(ctx: KoaContextWithOIDC): number | undefined {
  const { entities } = ctx.oidc;
  return ((entities.AuthorizationCode ?? entities.DeviceCode) as { authTime?: number } | undefined)?.authTime;
}

/** Scopes an administrator allowed a service account (`portcullis_scopes` in its stored metadata). */
function serviceAccountScopes(metadata: Record<string, unknown>, fallback: string[]): Set<string> {
  const listed = metadata.portcullis_scopes;
  return new Set(Array.isArray(listed) ? listed.map(String) : fallback);
}

function refreshTtl(config: Config, now: () => number) {
  // Idle lifetime, capped by what is left of the absolute lifetime counted from the first issue
  // (iiat) — the server's, or the grant's organization's `sessionMaxTtl` when shorter.
  return (ctx: KoaContextWithOIDC | undefined, token: { iiat?: number; iat?: number }) => {
    const started = token.iiat ?? token.iat ?? now();
    const orgMax = (ctx && grantOrgOf(ctx)?.org.settings.sessionMaxTtl) ?? Infinity;
    const left = started + Math.min(config.tokens.refreshTokenTtl, orgMax) - now();
    return Math.max(1, Math.min(config.tokens.refreshTokenIdleTtl, left));
  };
}

type BoundGrant = Extract<GrantOrg, { ok: true }> & { grantId: string };

/**
 * The organization the grant being used acts for, resolved once per engine request (by findAccount,
 * which the engine calls before it issues anything) and read by the scope, claim and lifetime
 * decisions that follow in the same request.
 */
const grantOrgs = new WeakMap<object, BoundGrant>();

function grantOrgOf(ctx: KoaContextWithOIDC): BoundGrant | undefined {
  return grantOrgs.get(ctx);
}

/** Claims about the organization a grant acts for: the ID token and userinfo (`openid` scope). */
async function orgClaims(store: Store, bound: BoundGrant): Promise<Record<string, unknown>> {
  const { org, access } = bound;
  const resources = await store.orgs.resources(org.id);
  const tree = treeOf(resources);
  // Workspaces the user can read: their level on the workspace itself (memberships lower down
  // give access inside it, not to it).
  const workspaces = resources
    .filter((r) => r.kind === 'workspace' && reaches(levelOn(access.levels, r.id, tree), 'read'))
    .map((r) => ({ id: r.id, name: r.name }));
  return { org_id: org.id, org_slug: org.slug, org_name: org.name, org_role: access.role, workspaces };
}

/** Claims the `openid` scope releases (ID token, userinfo): who the user is, and for which org. */
const OPENID_CLAIMS = ['sub', 'org_id', 'org_slug', 'org_name', 'org_role', 'workspaces'];

export function buildProvider(deps: AuthzDeps): Provider {
  const { config, store, secrets, resources, log, now } = deps;
  const kinds = new Set(config.clientKinds);
  const accessTtl = config.tokens.accessTokenTtl;

  /**
   * At the token endpoint (code, device code, refresh) and userinfo: the org the grant acts for,
   * checked now. A refusal at the token endpoint is `invalid_grant` (refresh included: a removed
   * member, a disabled user, an org that stopped allowing the client); at userinfo the token is
   * refused (null). undefined when no grant is involved (sign-in pages).
   */
  async function bindGrantOrg(ctx: KoaContextWithOIDC | undefined, userId: string, token: unknown): Promise<BoundGrant | null | undefined> {
    const route = ctx?.oidc?.route;
    const source = token as { grantId?: string; clientId?: string; iiat?: number; kind?: string } | undefined;
    if (!ctx || (route !== 'token' && route !== 'userinfo') || !source?.grantId || !source.clientId) return undefined;
    const cached = grantOrgOf(ctx);
    if (cached?.grantId === source.grantId) return cached;
    const resolved = await resolveGrantOrg(
      store,
      {
        grantId: source.grantId,
        userId,
        clientId: source.clientId,
        // The session maximum counts from the first refresh token of the grant.
        firstIssuedAt: source.kind === 'RefreshToken' ? source.iiat : undefined,
      },
      now(),
    );
    if (!resolved.ok) {
      if (route === 'token') throw new errors.InvalidGrant(GRANT_ORG_REFUSALS[resolved.reason]);
      return null;
    }
    const bound: BoundGrant = { ...resolved, grantId: source.grantId };
    grantOrgs.set(ctx, bound);
    // Last used (connected apps): every issuance from the grant.
    if (route === 'token') await store.grantContexts.touch(source.grantId, now());
    return bound;
  }

  const configuration: Configuration = {
    adapter: createAdapterClass({
      store,
      secrets,
      refreshGraceSeconds: config.tokens.refreshGraceSeconds,
      revokeGrant: deps.revokeGrant,
      now,
      // A kind an administrator switched off stops working at once, even for clients registered before.
      allowedClientKinds: new Set([...(kinds.has('pre-registered') ? ['static' as const] : []), ...(kinds.has('dynamic') ? ['dynamic' as const] : [])]),
    }),
    clients: [cliClient],
    jwks: { keys: deps.keyRing.privateJwks as never },
    cookies: {
      keys: secrets.cookieKeys,
      // The session cookie is path=/ so it can carry the __Host- prefix; the engine's other two
      // cookies are path-scoped (to /interaction/<uid> and /oauth/authorize/<uid>): __Secure- only.
      names: { session: '__Host-pc_op_session', interaction: '__Secure-pc_interaction', resume: '__Secure-pc_resume' },
      long: { httpOnly: true, sameSite: 'lax', secure: true },
      short: { httpOnly: true, sameSite: 'lax', secure: true },
    },
    routes: ROUTES,
    scopes: OIDC_SCOPES,
    claims: { openid: OPENID_CLAIMS, email: ['email', 'email_verified'], profile: ['name'] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256'],
      userinfoSigningAlgValues: ['ES256'],
      clientAuthSigningAlgValues: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'],
    },
    clientDefaults: {
      // Interactive clients get refresh tokens without asking for offline_access (§4 of the issue).
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
    allowOmittingSingleRegisteredRedirectUri: false,
    clockTolerance: CLOCK_SKEW,
    extraClientMetadata: {
      properties: ['software_id', 'software_version'],
      validator(ctx, key, _value, metadata) {
        // Runs on every registration; used here to refuse non-loopback http redirects (OAuth 2.1 §2.3.1).
        if (key !== 'software_id') return;
        // Wrong JSON types are refused before any rule below reads a field (RFC 7591 §3.2.2).
        assertMetadataTypes(metadata);
        const bad = insecureRedirectUri((metadata.redirect_uris as string[] | undefined) ?? []);
        if (bad) throw new errors.InvalidRedirectUri('redirect_uris using http must use a loopback address (localhost, 127.0.0.1, [::1])');
        // client_credentials tokens have no user behind them: with open registration, anyone could
        // register such a client and call every tool (found by test/authz/client-credentials.test.ts).
        // Only administrators register those (see the token-endpoint check in getResourceServerInfo).
        const grantTypes = (metadata.grant_types as string[] | undefined) ?? [];
        if (ctx?.oidc?.route === 'registration' && grantTypes.includes('client_credentials')) {
          throw new errors.InvalidClientMetadata('client_credentials is available to pre-registered clients only');
        }
        // MCP SDK clients (v1 and v2) register with `scope` set to the resource's scopes (SEP-835),
        // but the engine checks a client's `scope` against its OpenID scopes only and would answer
        // invalid_client_metadata. The engine uses `scope` only as an allow-list of OpenID scopes, so
        // the resource scopes we serve are dropped from it; unknown scopes are still refused.
        if (typeof metadata.scope === 'string') {
          const served = new Set(resources.allScopes());
          const kept = metadata.scope.split(' ').filter((s) => s && !served.has(s));
          if (kept.length) metadata.scope = kept.join(' ');
          else delete metadata.scope;
        }
      },
    },
    features: {
      devInteractions: { enabled: false },
      rpMetadataChoices: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      deviceFlow: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = renderLogoutPage(form);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = renderLogoutSuccess();
        },
      },
      registration: {
        enabled: config.registration.policy !== 'off',
        initialAccessToken: config.registration.policy === 'initial-access-token' ? config.registration.initialAccessToken! : false,
        // Never derived from the request: a new registrant never receives an existing client_id.
        idFactory: () => `dyn_${randomBase62(24)}`,
        secretFactory: async () => randomToken(32),
        // RFC 7592 (read/update/delete a registration) is off: no registration access token.
        issueRegistrationAccessToken: false,
      },
      registrationManagement: { enabled: false },
      clientIdMetadataDocument: {
        enabled: kinds.has('metadata-document'),
        ack: 'draft-02',
        cacheDuration: { min: 60, max: 3600 },
        allowFetch: async () => kinds.has('metadata-document'),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? deps.defaultResource(),
        // The token endpoint may omit `resource`: use what was granted at the authorization endpoint.
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resourceIndicator, client) => {
          const resource = resources.get(resourceIndicator);
          if (!resource) throw new errors.InvalidTarget('the requested resource is not known to this server');
          // A token with no user behind it only for clients an administrator registered: dynamically
          // registered and metadata-document clients (which may use private_key_jwt) never get one.
          let scopes = resource.scopes.map((s) => s.name);
          if (ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials') {
            const record = await store.clients.find(client.clientId);
            if (record?.kind !== 'static') throw new errors.UnauthorizedClient('client_credentials is available to pre-registered clients only');
            // A service account gets at most the scopes its administrator allowed it (least
            // privilege): `portcullis_scopes` in its stored record, else the resource's defaults.
            const allowed = serviceAccountScopes(record.metadata, resource.defaultScopes);
            scopes = scopes.filter((scope) => allowed.has(scope));
          }
          // A user's token: what they consented (the engine intersects with the grant) ∩ what their
          // role in the grant's organization allows now (docs/design/identity.md), with the org's
          // access-token lifetime when shorter. The org was resolved by findAccount just before.
          let ttl = accessTtl;
          if (ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type !== 'client_credentials') {
            const bound = grantOrgOf(ctx);
            if (!bound) throw new errors.InvalidGrant(GRANT_ORG_REFUSALS.no_org);
            const allowed = new Set(allowedScopesOf(resource, bound.access.levels));
            scopes = scopes.filter((scope) => allowed.has(scope));
            ttl = Math.min(accessTtl, bound.org.settings.accessTokenTtl ?? accessTtl);
          }
          // Step-up (authz/step-up.ts): the step-up scope only in a token straight from a fresh sign-in;
          // dropped at a refresh (the engine then leaves it out of the token and of the response's scope).
          if (ctx.oidc.route === 'token') {
            scopes = tokenEndpointScopes(resource, scopes, {
              grantType: ctx.oidc.params?.grant_type as string | undefined,
              authTime: signInTime(ctx),
              now: now(),
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
      },
    },
    ttl: {
      // A token carrying a step-up scope expires with the step-up (authz/step-up.ts).
      // The base lifetime is the resource server info's (the org's, when shorter; see getResourceServerInfo).
      AccessToken: ((ctx: KoaContextWithOIDC | undefined, token: { scope?: string; resourceServer?: { audience?: string; accessTokenTTL?: number } }) => {
        const audience = token.resourceServer?.audience;
        const base = token.resourceServer?.accessTokenTTL ?? accessTtl;
        return accessTokenTtl(audience ? resources.get(audience) : undefined, token.scope, ctx ? signInTime(ctx) : undefined, now(), base);
      }) as never,
      ClientCredentials: accessTtl,
      AuthorizationCode: config.tokens.authorizationCodeTtl,
      IdToken: accessTtl,
      DeviceCode: config.tokens.deviceCodeTtl,
      Interaction: 60 * 60,
      Session: config.tokens.sessionTtl,
      Grant: config.tokens.refreshTokenTtl,
      RefreshToken: refreshTtl(config, now) as never,
    },
    // Refresh tokens do not die with the browser session, and do not depend on offline_access.
    expiresWithSession: async () => false,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    revokeGrantPolicy: () => true,
    loadExistingGrant: async (ctx) => {
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
    },
    extraTokenClaims: async (ctx, token) => {
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
    },
    findAccount: async (ctx, sub, token) => {
      const user = await store.users.findById(sub);
      if (!user || !userActive(user)) return undefined;
      const bound = await bindGrantOrg(ctx, sub, token);
      if (bound === null) return undefined;
      return {
        accountId: user.id,
        claims: async (_use, scope) => ({
          sub: user.id,
          email: user.email,
          email_verified: false,
          name: user.name ?? undefined,
          ...(bound && (scope ?? '').split(' ').includes('openid') ? await orgClaims(store, bound) : {}),
        }),
      };
    },
    interactions: {
      // The default prompts, plus a fresh sign-in when a step-up scope is asked for (authz/step-up.ts).
      policy: stepUpInteractionPolicy(resources, now),
      url: async (_ctx, interaction) => `${new URL(config.publicUrl).pathname.replace(/\/$/, '')}/interaction/${interaction.uid}`,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      // Engine routes bypass our pages' securityHeaders(); this page is our markup (no script,
      // no inline style, no form), so it gets the same strict CSP as every other page of ours.
      ctx.set('content-security-policy', contentSecurityPolicy());
      ctx.body = renderEngineError({ ...out });
    },
    fetch: createOutboundFetch({ allowPrivateAddresses: config.cimd.allowPrivateAddresses }) as never,
    fetchResponseBodyLimits: {
      'client_id metadata document': 5 * 1024,
      jwks_uri: 64 * 1024,
      sector_identifier_uri: 16 * 1024,
    },
  };

  const provider = new Provider(config.publicUrl, configuration);
  provider.proxy = config.trustProxy;
  patchClientModel(provider, secrets.pepper);
  memoizeClientLookups(provider);
  // Outermost: sees the answer every other step and the engine built (authz/outage.ts).
  answerOutagesWith503(provider, log);
  installMiddleware(provider, deps);
  provider.on('authorization.success', (ctx) => {
    const clientId = ctx.oidc.client?.clientId;
    if (clientId) void store.clients.markUsed(clientId, now()).catch((err) => log.warn({ err }, 'could not mark client used'));
  });
  return provider;
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

/** Engine gaps closed on the per-provider Client class. */
function patchClientModel(provider: Provider, pepper: SecretKey): void {
  const proto = provider.Client.prototype as unknown as {
    clientSecret?: string;
    redirectUris: string[];
    compareClientSecret(actual: string): Promise<boolean> | boolean;
    redirectUriAllowed(value: string): boolean;
  };
  // Secrets are stored as keyed hashes; the engine would compare them in plaintext.
  proto.compareClientSecret = function compareClientSecret(this: typeof proto, actual: string) {
    return compareHashedSecret(pepper, this.clientSecret, actual);
  };
  // Loopback redirect URIs match on any port for every client type (RFC 8252 §7.3).
  proto.redirectUriAllowed = function allowed(this: typeof proto, value: string) {
    return redirectUriAllowed(this.redirectUris, value);
  };
}

/** Client lookups of the engine request being served (see memoizeClientLookups). */
const clientLookups = new AsyncLocalStorage<Map<string, Promise<unknown>>>();

/**
 * Engine gap (found by test/cimd/ssrf.test.ts): when a client cannot be resolved at the
 * authorization endpoint, the engine's error handler looks it up a second time. Failed Client ID
 * Metadata Document fetches are (rightly) not cached, so every refused request fetched the
 * document twice, and a document server that never answers held the request for two fetch
 * timeouts (5 s instead of 2.5 s). Within one request the first lookup's outcome is reused;
 * across requests nothing is remembered, so a fixed document works on the next try.
 */
function memoizeClientLookups(provider: Provider): void {
  const Client = provider.Client as unknown as { find(id: unknown, ...rest: unknown[]): Promise<unknown> };
  const find = Client.find.bind(Client);
  Client.find = (id, ...rest) => {
    const memo = clientLookups.getStore();
    if (!memo || typeof id !== 'string' || !/^https:\/\//i.test(id)) return find(id, ...rest);
    let lookup = memo.get(id);
    if (!lookup) {
      lookup = find(id, ...rest);
      memo.set(id, lookup);
    }
    return lookup;
  };
}

function installMiddleware(provider: Provider, deps: AuthzDeps): void {
  const { resources } = deps;
  // The engine sees paths relative to its mount (the router strips the issuer's path prefix).
  const authorizePath = ROUTES.authorization;
  const mount = new URL(deps.config.publicUrl).pathname.replace(/\/$/, '');

  // Our cookies are always Secure: the issuer is https, or loopback (which browsers treat as a
  // secure context). koa would otherwise refuse to send a Secure cookie over http://localhost.
  Object.defineProperty(provider.request, 'secure', { get: () => true });
  // Every URL the engine builds (endpoints in discovery, redirects to interactions) starts from the
  // configured public origin, never from the request's Host header or scheme: behind a proxy the
  // process sees http, and a forged Host must not steer discovery elsewhere.
  const publicOrigin = new URL(deps.config.publicUrl);
  Object.defineProperty(provider.request, 'protocol', { get: () => publicOrigin.protocol.slice(0, -1) });
  Object.defineProperty(provider.request, 'host', { get: () => publicOrigin.host });
  Object.defineProperty(provider.request, 'hostname', { get: () => publicOrigin.hostname });

  provider.use(async (ctx, next) => withRefreshScope(next));
  provider.use(async (_ctx, next) => clientLookups.run(new Map(), next));
  // RFC 8628: the polling interval, slow_down and expired_token (authz/device-polling.ts).
  provider.use(devicePolling({ store: deps.store, pepper: deps.secrets.pepper, now: deps.now }));

  // An authorization request that names no scope of its resource gets the resource's default
  // scopes: MCP clients omit `scope` when none is advertised, and the engine would otherwise
  // end such a request in access_denied.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === authorizePath) {
      const query = new URLSearchParams(ctx.querystring);
      const named = query.get('resource') ?? deps.defaultResource();
      const resource = named ? resources.get(named) : undefined;
      if (resource) {
        const requested = (query.get('scope') ?? '').split(' ').filter(Boolean);
        const own = new Set(resource.scopes.map((s) => s.name));
        if (!requested.some((s) => own.has(s))) {
          query.set('scope', [...requested, ...resource.defaultScopes].join(' '));
          ctx.querystring = query.toString();
          // The engine derives its mount path from originalUrl minus url: keep the two in step.
          (ctx.req as { originalUrl?: string }).originalUrl = `${mount}${ctx.url}`;
        }
      }
    }
    await next();
  });

  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body && typeof ctx.body === 'object' ? (ctx.body as Record<string, unknown>) : undefined;
    if (!body) return;
    // Discovery: advertise the resource scopes next to the OpenID ones.
    if (ctx.oidc?.route === 'discovery') body.scopes_supported = [...OIDC_SCOPES, ...resources.allScopes()];
    // Token responses always say which scopes were granted, even none (the MCP SDK v2 client turns
    // a missing `scope` into a full re-authorization at every step-up).
    if (ctx.oidc?.route === 'token' && ctx.status === 200 && 'access_token' in body && body.scope === undefined) body.scope = '';
  });
}
