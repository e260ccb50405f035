/**
 * The relying-party side of an OpenID Connect connection, entirely through openid-client (never
 * hand-written token validation): discovery, the authorization request with PKCE (RFC 7636),
 * state and nonce, and the callback — RFC 9207 `iss` (when the IdP advertises it), state, the
 * code exchange, ID token signature and claims (OpenID Connect Core §3.1.3.7), nonce, then userinfo.
 */
import * as oidc from 'openid-client';
import type { GithubConnection, OidcConnection, SsoConnection } from '../core/identity-providers.ts';

/** The connections this module signs in through (SAML's are web/sso-saml.ts's). */
export type OAuthConnection = OidcConnection | GithubConnection;
import { completeGithub, GithubCallbackError, githubAuthorizationUrl } from './sso-github.ts';
import { isLoopbackUrl } from '../shared/net.ts';
import { entraFetch } from './sso-entra.ts';

/** What the browser's login transaction must carry from the start to the callback. */
export interface LoginChecks {
  state: string;
  nonce: string;
  verifier: string;
  /** A step-up's fresh sign-in: the ID token's `auth_time` must be within this many seconds (OIDC Core §3.1.2.1). */
  maxAge?: number;
}

/** A step-up asks the IdP for a fresh sign-in (`prompt=login`, `max_age`), and a second factor when `mfa`. */
export interface AuthorizationOptions {
  maxAge?: number;
  mfa?: boolean;
}

/** A refused callback, with the audit reason (`state`, `nonce`, `iss`, `idp_error`, …). */
export class SsoCallbackError extends Error {
  readonly reason: string;
  constructor(reason: string, cause: unknown) {
    super(`sso callback refused: ${reason}`, { cause });
    this.reason = reason;
  }
}

const TIMEOUT_SECONDS = 10;

/**
 * What a connection that re-checks accounts (`recheck`) asks for so that the IdP issues a refresh
 * token. OpenID Connect Core §11: the `offline_access` scope, with `prompt=consent` (the spec's
 * condition; oidc-provider, Keycloak and others drop the scope without it). Google takes no
 * `offline_access` but `access_type=offline`, and issues a refresh token again only with
 * `prompt=consent` (Google's "Using OAuth 2.0 for Web Server Applications", refresh tokens).
 * Entra ID and Okta issue one for `offline_access` alone; forcing their consent screen would stop
 * people whose tenant lets only administrators consent, so they get no `prompt`.
 */
function offlineAccess(connection: OidcConnection): { scopes: string[]; params: Record<string, string> } {
  if (!connection.recheck) return { scopes: connection.scopes, params: {} };
  if (connection.preset === 'google') return { scopes: connection.scopes, params: { access_type: 'offline', prompt: 'consent' } };
  const scopes = [...new Set([...connection.scopes, 'offline_access'])];
  return { scopes, params: connection.preset === 'entra' || connection.preset === 'okta' ? {} : { prompt: 'consent' } };
}

/** The IdP's credential a completed callback brought (sso-routes.ts keeps it with the account link). */
const credentials = new WeakMap<object, string>();

/** The refresh token (OIDC) or access token (GitHub) that came with these claims, if any. */
export function credentialOf(claims: object): string | undefined {
  return credentials.get(claims);
}

/** Private JWK → the key openid-client signs its client assertions with (RFC 7523 §2.2). */
async function assertionKey(settings: NonNullable<OidcConnection['privateKeyJwt']>): Promise<oidc.ClientAuth> {
  const jwk = settings.jwk as JsonWebKey & { kid?: string };
  const alg = settings.alg ?? (jwk.kty === 'EC' ? 'ES256' : 'RS256');
  const algorithm =
    alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: alg === 'PS256' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const key = await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['sign']);
  return oidc.PrivateKeyJwt({ key, kid: typeof jwk.kid === 'string' ? jwk.kid : undefined });
}

/** One discovered configuration per connection, fetched on first use (and again after a failure). */
export class RelyingParties {
  /** By connection id, with the definition it was discovered for (a changed connection is discovered again). */
  readonly #configs = new Map<string, { definition: string; pending: Promise<oidc.Configuration> }>();
  readonly #callbackBase: () => string;

  /** `callbackBase`: `<publicUrl>/sso` (read late: a test server learns its port after binding). */
  constructor(callbackBase: () => string) {
    this.#callbackBase = callbackBase;
  }

  /** The redirect URI to register at the IdP: `<publicUrl>/sso/<id>/callback`. */
  redirectUri(connection: SsoConnection): string {
    return `${this.#callbackBase()}/${connection.id}/callback`;
  }

  #config(connection: OidcConnection): Promise<oidc.Configuration> {
    // An organization's owner may change a connection (issuer, client, secret) while we run.
    const definition = JSON.stringify(connection);
    const cached = this.#configs.get(connection.id);
    if (cached?.definition === definition) return cached.pending;
    const entry = { definition, pending: this.#discover(connection) };
    entry.pending.catch(() => this.#configs.get(connection.id) === entry && this.#configs.delete(connection.id));
    this.#configs.set(connection.id, entry);
    return entry.pending;
  }

  async #discover(connection: OidcConnection): Promise<oidc.Configuration> {
    const issuer = new URL(connection.issuer);
    // Plain http only to a loopback IdP or Entra stand-in (config refuses it elsewhere): development and tests.
    const reached = new URL(connection.authority ?? connection.issuer);
    const execute = reached.protocol === 'http:' && isLoopbackUrl(reached) ? [oidc.allowInsecureRequests] : [];
    const reroute = entraFetch(connection);
    // client_secret_basic: the method every authorization server must support (RFC 6749 §2.3.1).
    const auth = connection.privateKeyJwt ? await assertionKey(connection.privateKeyJwt) : oidc.ClientSecretBasic(connection.clientSecret);
    const options = { execute, timeout: TIMEOUT_SECONDS, ...(reroute ? { [oidc.customFetch]: reroute } : {}) };
    // Entra's `organizations` endpoint: openid-client checks each token's `iss` against its `tid` (sso-entra.ts).
    const config = await oidc.discovery(issuer, connection.clientId, { redirect_uris: [this.redirectUri(connection)] }, auth, options);
    config.timeout = TIMEOUT_SECONDS;
    return config;
  }

  /** New random checks for one login transaction. */
  static newChecks(): LoginChecks {
    return { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
  }

  /** The IdP's authorization URL for this transaction (code flow, S256 PKCE). */
  async authorizationUrl(connection: OAuthConnection, checks: LoginChecks, loginHint?: string, options: AuthorizationOptions = {}): Promise<URL> {
    // GitHub is an OAuth app, not an OpenID provider: no discovery, its own callback (sso-github.ts).
    if (connection.type === 'github') return githubAuthorizationUrl(connection, this.redirectUri(connection), checks, loginHint);
    const config = await this.#config(connection);
    const offline = offlineAccess(connection);
    const params: Record<string, string> = {
      ...offline.params,
      redirect_uri: this.redirectUri(connection),
      response_type: 'code',
      scope: offline.scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.verifier),
      code_challenge_method: 'S256',
    };
    if (loginHint) params.login_hint = loginHint;
    // Google shows only accounts of the Workspace domain (the `hd` claim is still checked after).
    if (connection.preset === 'google' && connection.domains.length === 1) params.hd = connection.domains[0]!;
    if (options.maxAge !== undefined) Object.assign(params, stepUpParams(connection, params.prompt, options));
    return oidc.buildAuthorizationUrl(config, params);
  }

  /**
   * Complete the callback: every check is openid-client's. Returns the ID token's claims, with
   * what userinfo adds (OpenID Connect Core §5.3.2: userinfo's `sub` must match the ID token's).
   */
  async complete(connection: OAuthConnection, callbackUrl: URL, checks: LoginChecks): Promise<Record<string, unknown> & { iss: string; sub: string }> {
    if (connection.type === 'github') {
      try {
        const { claims, token } = await completeGithub(connection, this.redirectUri(connection), callbackUrl, checks);
        if (connection.recheck) credentials.set(claims, token);
        return claims;
      } catch (err) {
        throw err instanceof GithubCallbackError ? new SsoCallbackError(err.reason, err.cause) : err;
      }
    }
    const config = await this.#config(connection);
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.verifier,
        idTokenExpected: true,
        // A step-up's sign-in: openid-client requires `auth_time` and checks it against max_age.
        ...(checks.maxAge !== undefined ? { maxAge: checks.maxAge } : {}),
      });
    } catch (err) {
      throw new SsoCallbackError(failureReason(err), err);
    }
    const idToken = tokens.claims()!;
    let extra: Record<string, unknown> = {};
    // The ID token is enough when the IdP has no userinfo endpoint.
    if (config.serverMetadata().userinfo_endpoint) {
      try {
        extra = { ...(await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub)) };
      } catch (err) {
        throw new SsoCallbackError('userinfo', err);
      }
    }
    // The ID token's validated claims win over userinfo's.
    const claims = { ...extra, ...idToken, iss: idToken.iss, sub: idToken.sub };
    if (connection.recheck && tokens.refresh_token) credentials.set(claims, tokens.refresh_token);
    return claims;
  }

  /**
   * Refresh at the IdP (RFC 6749 §6, through openid-client): the account is still signed in
   * there. Throws as openid-client does; the caller (sso-upstream-check.ts) reads the error.
   * Returns the rotated refresh token, when the IdP rotates them.
   */
  async refresh(connection: OidcConnection, refreshToken: string): Promise<string | undefined> {
    const config = await this.#config(connection);
    const tokens = await oidc.refreshTokenGrant(config, refreshToken);
    return tokens.refresh_token;
  }
}

/**
 * A step-up at the IdP (OpenID Connect Core §3.1.2.1): `prompt=login` (kept with any other prompt
 * value asked for, the values are space-separated), `max_age`, and — when the step-up needs a
 * second factor — the `acr_values` the connection names for one (`stepUpAcrValues`); whether the
 * IdP's answer counts as a second factor is still decided by its `amr` and `trustAmr`.
 */
function stepUpParams(connection: OidcConnection, prompt: string | undefined, options: AuthorizationOptions): Record<string, string> {
  const params: Record<string, string> = {
    prompt: [...new Set(['login', ...(prompt ? prompt.split(' ') : [])])].join(' '),
    max_age: String(options.maxAge),
  };
  if (options.mfa && connection.stepUpAcrValues) params.acr_values = connection.stepUpAcrValues.join(' ');
  return params;
}

/**
 * A short, stable audit reason for a refused callback. openid-client wraps oauth4webapi's error
 * (whose message and `cause.claim` say which check failed) in its own: read the whole chain.
 */
function failureReason(err: unknown): string {
  if (err instanceof oidc.AuthorizationResponseError) return 'idp_error';
  if (err instanceof oidc.ResponseBodyError) return 'token_error';
  for (let at: unknown = err, depth = 0; at instanceof Error && depth < 4; at = at.cause, depth++) {
    const claim = (at.cause as { claim?: unknown } | undefined)?.claim;
    if (typeof claim === 'string') return claim;
    for (const check of ['iss', 'state', 'nonce', 'aud', 'azp']) if (at.message.includes(`"${check}"`)) return check;
  }
  return 'invalid_response';
}
