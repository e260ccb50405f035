/**
 * The OAuth exchanges of a device sign-in, each one request: the device authorization request
 * (RFC 8628 §3.1–3.2), one poll of the token endpoint (§3.4–3.5), a refresh (RFC 6749 §6), a
 * revocation (RFC 7009 §2), and who signed in, read from the ID token (OIDC Core §2).
 * Public client: the client is identified by `client_id` in the body, with no secret.
 */
import { decodeJwt } from 'jose';
import type { GuardFetch } from '../../shared/outbound.ts';
import type { LoginTarget } from './discovery.ts';
import { DeviceLoginError } from './errors.ts';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default." */
export const DEFAULT_INTERVAL = 5;
/** RFC 8628 §3.5: on `slow_down` "the interval MUST be increased by 5 seconds for this and all subsequent requests". */
export const SLOW_DOWN_STEP = 5;

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Seconds between polls. */
  interval: number;
}

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Epoch seconds. */
  expiresAt: number;
  scope?: string;
}

export interface Identity {
  sub: string;
  email?: string;
  name?: string;
  org?: { id: string; slug?: string; name?: string; role?: string };
  workspaces?: Array<{ id: string; name?: string }>;
}

/** One token-endpoint answer: tokens, or the RFC 6749 §5.2 error code. */
type TokenAnswer = { tokens: TokenSet } | { error: string; description?: string };

async function postForm(fetch: GuardFetch, url: string, form: Record<string, string | undefined>): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) if (value !== undefined && value !== '') body.set(key, value);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
  } catch (err) {
    throw new DeviceLoginError('server_error', `cannot reach ${url}: ${(err as Error).message}`, { cause: err });
  }
  const text = await response.text();
  let parsed: unknown = {};
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = {};
    }
  }
  return { status: response.status, body: parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {} };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

function tokenAnswer(status: number, body: Record<string, unknown>, now: number): TokenAnswer {
  const accessToken = str(body.access_token);
  if (status === 200 && accessToken) {
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    const tokens: TokenSet = { accessToken, expiresAt: Math.floor(now / 1000) + expiresIn };
    if (str(body.refresh_token)) tokens.refreshToken = str(body.refresh_token);
    if (str(body.id_token)) tokens.idToken = str(body.id_token);
    if (str(body.scope)) tokens.scope = str(body.scope);
    return { tokens };
  }
  return { error: str(body.error) ?? `http_${status}`, description: str(body.error_description) };
}

/** RFC 8628 §3.1: ask for a device code and a user code. */
export async function requestDeviceAuthorization(
  fetch: GuardFetch,
  target: LoginTarget,
  clientId: string,
  scope: string,
  now = Date.now(),
): Promise<DeviceAuthorization> {
  const { status, body } = await postForm(fetch, target.deviceAuthorizationEndpoint, { client_id: clientId, scope, resource: target.resource });
  const deviceCode = str(body.device_code);
  const userCode = str(body.user_code);
  const verificationUri = str(body.verification_uri);
  if (status !== 200 || !deviceCode || !userCode || !verificationUri) {
    const error = str(body.error) ?? `http_${status}`;
    throw new DeviceLoginError('server_error', `the authorization server refused to start a sign-in: ${error}${body.error_description ? ` (${String(body.error_description)})` : ''}`, { detail: { error } });
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 600;
  const interval = typeof body.interval === 'number' && body.interval > 0 ? body.interval : DEFAULT_INTERVAL;
  const authorization: DeviceAuthorization = { deviceCode, userCode, verificationUri, expiresAt: now + expiresIn * 1000, interval };
  if (str(body.verification_uri_complete)) authorization.verificationUriComplete = str(body.verification_uri_complete);
  return authorization;
}

export type PollResult = { status: 'approved'; tokens: TokenSet } | { status: 'pending' } | { status: 'slow_down' };

/**
 * One poll (RFC 8628 §3.4). `authorization_pending` and `slow_down` are answers, not failures;
 * `expired_token` and `access_denied` end the sign-in with that code.
 */
export async function pollDeviceToken(fetch: GuardFetch, target: LoginTarget, clientId: string, deviceCode: string, now = Date.now()): Promise<PollResult> {
  const { status, body } = await postForm(fetch, target.tokenEndpoint, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: clientId, resource: target.resource });
  const answer = tokenAnswer(status, body, now);
  if ('tokens' in answer) return { status: 'approved', tokens: answer.tokens };
  switch (answer.error) {
    case 'authorization_pending':
      return { status: 'pending' };
    case 'slow_down':
      return { status: 'slow_down' };
    case 'expired_token':
      throw new DeviceLoginError('expired_token', 'the sign-in code expired before it was approved; start again with auth_login');
    case 'access_denied':
      throw new DeviceLoginError('access_denied', 'the sign-in was denied in the browser');
    default:
      throw new DeviceLoginError('server_error', `the authorization server refused the sign-in: ${answer.error}${answer.description ? ` (${answer.description})` : ''}`, { detail: { error: answer.error } });
  }
}

/**
 * RFC 6749 §6. A refusal (`invalid_grant`: revoked, expired, reused) means the user is signed out;
 * a server that cannot be reached is only a `server_error` (the tokens may still be good later).
 */
export async function refreshTokens(fetch: GuardFetch, tokenEndpoint: string, clientId: string, refreshToken: string, resource: string | undefined, now = Date.now()): Promise<TokenSet> {
  const { status, body } = await postForm(fetch, tokenEndpoint, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, resource });
  const answer = tokenAnswer(status, body, now);
  if ('tokens' in answer) return answer.tokens;
  if (status >= 500) throw new DeviceLoginError('server_error', `the authorization server could not refresh the sign-in (${status}); try again`);
  throw new DeviceLoginError('signed_out', `you have been signed out (the server refused to renew the sign-in: ${answer.error}); sign in again with auth_login`, { detail: { error: answer.error } });
}

/** RFC 7009 §2.1. Best effort by design: a token the server no longer knows is already as good as revoked (§2.2). */
export async function revokeToken(fetch: GuardFetch, revocationEndpoint: string, clientId: string, token: string, hint: 'refresh_token' | 'access_token'): Promise<boolean> {
  try {
    const { status } = await postForm(fetch, revocationEndpoint, { token, token_type_hint: hint, client_id: clientId });
    return status === 200;
  } catch {
    return false;
  }
}

/**
 * Who signed in, from the ID token's claims. It came straight from the token endpoint over TLS,
 * which OIDC Core §3.1.3.7 (6) lets a client trust without checking the signature; issuer and
 * audience are still checked so a token for another client is never taken for ours. Claims the
 * server does not send (`org_*`, `workspaces`) are simply absent.
 */
export function identityFrom(idToken: string | undefined, issuer: string, clientId: string): Identity | undefined {
  if (!idToken) return undefined;
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(idToken) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== issuer || !audience.includes(clientId) || typeof claims.sub !== 'string') return undefined;
  const identity: Identity = { sub: claims.sub };
  if (str(claims.email)) identity.email = str(claims.email);
  if (str(claims.name)) identity.name = str(claims.name);
  if (str(claims.org_id)) {
    identity.org = { id: str(claims.org_id)! };
    if (str(claims.org_slug)) identity.org.slug = str(claims.org_slug);
    if (str(claims.org_name)) identity.org.name = str(claims.org_name);
    if (str(claims.org_role)) identity.org.role = str(claims.org_role);
  }
  if (Array.isArray(claims.workspaces)) {
    identity.workspaces = claims.workspaces
      .filter((w): w is { id: string; name?: unknown } => Boolean(w) && typeof (w as { id?: unknown }).id === 'string')
      .map((w) => (typeof w.name === 'string' ? { id: w.id, name: w.name } : { id: w.id }));
  }
  return identity;
}

/** When the ID token says nothing usable, the access token's `sub` (a JWT here) at least tells accounts apart. */
export function subjectOfAccessToken(accessToken: string): string | undefined {
  try {
    const claims = decodeJwt(accessToken);
    return typeof claims.sub === 'string' ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}
