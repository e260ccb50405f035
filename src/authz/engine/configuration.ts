/**
 * The engine's configuration (oidc-provider 9), assembled from its named parts: storage
 * (adapter.ts), registration rules, issuance and lifetimes, accounts, remembered consent, and our
 * pages in place of the engine's own.
 */
import type { Configuration } from 'oidc-provider';
import { CLOCK_SKEW } from '../../core/clock.ts';
import type { DerivedSecrets } from '../../core/crypto.ts';
import { contentSecurityPolicy } from '../../web/pages.ts';
import { createAdapterClass } from '../adapter.ts';
import { cliClient } from '../clients.ts';
import { createOutboundFetch } from '../outbound-fetch.ts';
import { stepUpInteractionPolicy } from '../step-up.ts';
import { renderEngineError, renderLogoutPage, renderLogoutSuccess } from '../views.ts';
import { CLAIMS, findAccount } from './accounts.ts';
import type { AuthzDeps } from './deps.ts';
import { extraTokenClaims, REFRESH_TOKEN_ISSUANCE, resourceIndicators, tokensDatedBy } from './issuance.ts';
import { lifetimes } from './lifetimes.ts';
import { clientMetadataRules, dynamicRegistration, metadataDocuments } from './registration.ts';
import { loadExistingGrant } from './remembered-grants.ts';
import { ACR_MFA, ACR_PASSWORD, OIDC_SCOPES, ROUTES } from '../protocol.ts';
import { OAUTH_ACR_PARAMS } from '../oauth-acr-params.ts';

export function engineConfiguration(deps: AuthzDeps): Configuration {
  const { config, store, resources, now } = deps;
  return {
    adapter: storage(deps),
    clients: [cliClient],
    jwks: { keys: deps.keyRing.privateJwks as never },
    cookies: cookies(deps.secrets),
    routes: ROUTES,
    scopes: OIDC_SCOPES,
    claims: CLAIMS,
    // The ACRs our sign-ins end in (authz/protocol.ts acrFor): advertised as acr_values_supported,
    // so an RFC 9470 client can ask for ACR_MFA with `acr_values` (authz/step-up.ts mfaLoginCheck).
    acrValues: [ACR_PASSWORD, ACR_MFA],
    // …also from a client without `openid` (RFC 9470 §4), under names of our own (authz/oauth-acr-params.ts).
    extraParams: OAUTH_ACR_PARAMS,
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
    extraClientMetadata: clientMetadataRules(resources),
    features: features(deps),
    ttl: lifetimes(config, resources, now),
    ...REFRESH_TOKEN_ISSUANCE,
    loadExistingGrant: loadExistingGrant(deps),
    extraTokenClaims,
    formats: tokensDatedBy(now),
    findAccount: findAccount(store, now, deps.upstreamRecheck),
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
}

/** The engine's storage on the Store (adapter.ts). */
function storage(deps: AuthzDeps): Configuration['adapter'] {
  const kinds = new Set(deps.config.clientKinds);
  return createAdapterClass({
    store: deps.store,
    secrets: deps.secrets,
    refreshGraceSeconds: deps.config.tokens.refreshGraceSeconds,
    revokeGrant: deps.revokeGrant,
    now: deps.now,
    // A kind an administrator switched off stops working at once, even for clients registered before.
    allowedClientKinds: new Set([...(kinds.has('pre-registered') ? ['static' as const] : []), ...(kinds.has('dynamic') ? ['dynamic' as const] : [])]),
  });
}

function cookies(secrets: DerivedSecrets): Configuration['cookies'] {
  return {
    keys: secrets.cookieKeys,
    // The session cookie is path=/ so it can carry the __Host- prefix; the engine's other two
    // cookies are path-scoped (to /interaction/<uid> and /oauth/authorize/<uid>): __Secure- only.
    names: { session: '__Host-pc_op_session', interaction: '__Secure-pc_interaction', resume: '__Secure-pc_resume' },
    long: { httpOnly: true, sameSite: 'lax', secure: true },
    short: { httpOnly: true, sameSite: 'lax', secure: true },
  };
}

function features(deps: AuthzDeps): Configuration['features'] {
  const metadataDocumentClients = new Set(deps.config.clientKinds).has('metadata-document');
  return {
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
    registration: dynamicRegistration(deps.config),
    registrationManagement: { enabled: false },
    clientIdMetadataDocument: metadataDocuments(metadataDocumentClients),
    resourceIndicators: resourceIndicators(deps),
  };
}
