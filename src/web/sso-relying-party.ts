/**
 * The relying-party side of an OpenID Connect connection, entirely through openid-client (never
 * hand-written token validation): discovery, the authorization request with PKCE (RFC 7636),
 * state and nonce, and the callback — RFC 9207 `iss` (when the IdP advertises it), state, the
 * code exchange, ID token signature and claims (OpenID Connect Core §3.1.3.7), nonce, then userinfo.
 */
import * as oidc from 'openid-client';
import type { OidcConnection, SsoConnection } from '../core/identity-providers.ts';
import { completeGithub, GithubCallbackError, githubAuthorizationUrl } from './sso-github.ts';
import { isLoopbackUrl } from '../shared/net.ts';

/** What the browser's login transaction must carry from the start to the callback. */
export interface LoginChecks {
  state: string;
  nonce: string;
  verifier: string;
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
  readonly #configs = new Map<string, Promise<oidc.Configuration>>();
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
    let pending = this.#configs.get(connection.id);
    if (!pending) {
      pending = this.#discover(connection);
      pending.catch(() => this.#configs.delete(connection.id));
      this.#configs.set(connection.id, pending);
    }
    return pending;
  }

  async #discover(connection: OidcConnection): Promise<oidc.Configuration> {
    const issuer = new URL(connection.issuer);
    // Plain http only to a loopback IdP (config refuses it elsewhere): development and tests.
    const execute = issuer.protocol === 'http:' && isLoopbackUrl(issuer) ? [oidc.allowInsecureRequests] : [];
    // client_secret_basic: the method every authorization server must support (RFC 6749 §2.3.1).
    const auth = connection.privateKeyJwt ? await assertionKey(connection.privateKeyJwt) : oidc.ClientSecretBasic(connection.clientSecret);
    const config = await oidc.discovery(issuer, connection.clientId, { redirect_uris: [this.redirectUri(connection)] }, auth, { execute, timeout: TIMEOUT_SECONDS });
    config.timeout = TIMEOUT_SECONDS;
    return config;
  }

  /** New random checks for one login transaction. */
  static newChecks(): LoginChecks {
    return { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
  }

  /** The IdP's authorization URL for this transaction (code flow, S256 PKCE). */
  async authorizationUrl(connection: SsoConnection, checks: LoginChecks, loginHint?: string): Promise<URL> {
    // GitHub is an OAuth app, not an OpenID provider: no discovery, its own callback (sso-github.ts).
    if (connection.type === 'github') return githubAuthorizationUrl(connection, this.redirectUri(connection), checks, loginHint);
    const config = await this.#config(connection);
    const params: Record<string, string> = {
      redirect_uri: this.redirectUri(connection),
      response_type: 'code',
      scope: connection.scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.verifier),
      code_challenge_method: 'S256',
    };
    if (loginHint) params.login_hint = loginHint;
    // Google shows only accounts of the Workspace domain (the `hd` claim is still checked after).
    if (connection.preset === 'google' && connection.domains.length === 1) params.hd = connection.domains[0]!;
    return oidc.buildAuthorizationUrl(config, params);
  }

  /**
   * Complete the callback: every check is openid-client's. Returns the ID token's claims, with
   * what userinfo adds (OpenID Connect Core §5.3.2: userinfo's `sub` must match the ID token's).
   */
  async complete(connection: SsoConnection, callbackUrl: URL, checks: LoginChecks): Promise<Record<string, unknown> & { iss: string; sub: string }> {
    if (connection.type === 'github') {
      try {
        return await completeGithub(connection, this.redirectUri(connection), callbackUrl, checks);
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
    return { ...extra, ...idToken, iss: idToken.iss, sub: idToken.sub };
  }
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
