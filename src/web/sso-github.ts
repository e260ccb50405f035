/**
 * Sign-in through a GitHub OAuth app (GitHub is not an OpenID provider): the authorization code
 * flow of RFC 6749 §4.1 with PKCE S256 (RFC 7636), then GitHub's REST API says who signed in —
 * the numeric user id (stable across renames), the primary e-mail only when GitHub verified it,
 * and, when the connection asks, active membership of an organization and its teams.
 * Hands back claims in the shape the OIDC relying party returns, so the same account rules apply.
 */
import { createHash } from 'node:crypto';
import type { GithubConnection } from '../core/identity-providers.ts';
import type { UpstreamVerdict } from '../identity/sso-recheck.ts';

/** A refused GitHub callback, with the audit reason. */
export class GithubCallbackError extends Error {
  readonly reason: string;
  constructor(reason: string, cause?: unknown) {
    super(`github sign-in refused: ${reason}`, { cause });
    this.reason = reason;
  }
}

/** What the login transaction carries for GitHub (a subset of sso-relying-party.ts's LoginChecks; no nonce without an ID token). */
export interface GithubChecks {
  state: string;
  verifier: string;
}

const TIMEOUT_MS = 10_000;
/** GitHub's REST API versioning header ("API versions" in GitHub's REST documentation). */
const API_HEADERS = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'Portcullis' };

const challenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** The scopes asked for: the profile and e-mail addresses, and the memberships when they matter. */
export function githubScopes(connection: GithubConnection): string {
  return connection.githubOrg ? 'read:user user:email read:org' : 'read:user user:email';
}

/** GitHub's authorize URL for this login transaction. */
export function githubAuthorizationUrl(connection: GithubConnection, redirectUri: string, checks: GithubChecks, loginHint?: string): URL {
  const url = new URL(`${connection.webUrl}/login/oauth/authorize`);
  url.search = new URLSearchParams({
    client_id: connection.clientId,
    redirect_uri: redirectUri,
    scope: githubScopes(connection),
    state: checks.state,
    code_challenge: challenge(checks.verifier),
    code_challenge_method: 'S256',
    allow_signup: 'false',
  }).toString();
  // GitHub's `login` parameter suggests an account; an e-mail is not a GitHub login.
  if (loginHint && !loginHint.includes('@')) url.searchParams.set('login', loginHint);
  return url;
}

/** A request to GitHub: timed out, never redirected; network failures are `idp_unavailable`. */
async function call(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new GithubCallbackError('idp_unavailable', err);
  }
}

async function json(response: Response, what: string): Promise<unknown> {
  if (response.status !== 200) throw new GithubCallbackError(response.status >= 500 || response.status === 429 ? 'idp_unavailable' : what, `HTTP ${response.status}`);
  try {
    return await response.json();
  } catch (err) {
    throw new GithubCallbackError(what, err);
  }
}

/** The code exchange: client_secret_post, JSON answer (GitHub answers errors with 200 and `error`). */
async function exchange(connection: GithubConnection, redirectUri: string, code: string, checks: GithubChecks): Promise<string> {
  const response = await call(`${connection.webUrl}/login/oauth/access_token`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Portcullis' },
    body: new URLSearchParams({ client_id: connection.clientId, client_secret: connection.clientSecret, code, redirect_uri: redirectUri, code_verifier: checks.verifier }),
  });
  const body = (await json(response, 'token_error')) as { access_token?: unknown; token_type?: unknown; error?: unknown };
  if (typeof body.access_token !== 'string' || !body.access_token || String(body.token_type).toLowerCase() !== 'bearer') {
    throw new GithubCallbackError('token_error', typeof body.error === 'string' ? body.error : 'no bearer access_token');
  }
  return body.access_token;
}

/** Active membership (`state: "active"`; "pending" is an invitation not yet accepted; 404: none). */
async function isActiveMember(url: string, headers: Record<string, string>): Promise<boolean> {
  const response = await call(url, { headers });
  // GitHub answers an exhausted rate limit with 403 too ("Rate limits for the REST API"): that
  // says nothing about the membership, and must not read as "not a member".
  if (response.status === 403 && response.headers.get('x-ratelimit-remaining') === '0') throw new GithubCallbackError('idp_unavailable', 'rate limited');
  if (response.status === 404 || response.status === 403) return false;
  const body = (await json(response, 'invalid_response')) as { state?: unknown };
  return body.state === 'active';
}

/** The groups ("<org>/<team>", then "<org>") this user actively belongs to; `not_member` when the required ones are missing. */
async function memberships(connection: GithubConnection, headers: Record<string, string>, login: string): Promise<string[]> {
  const org = connection.githubOrg;
  if (!org) return [];
  const api = connection.apiUrl;
  if (!(await isActiveMember(`${api}/user/memberships/orgs/${encodeURIComponent(org)}`, headers))) throw new GithubCallbackError('not_member');
  const teams = new Set(connection.githubTeam ? [connection.githubTeam] : []);
  for (const key of Object.keys(connection.roles.map)) if (key.startsWith(`${org}/`)) teams.add(key.slice(org.length + 1));
  const groups: string[] = [];
  for (const team of teams) {
    const url = `${api}/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(team)}/memberships/${encodeURIComponent(login)}`;
    if (await isActiveMember(url, headers)) groups.push(`${org}/${team}`);
    else if (team === connection.githubTeam) throw new GithubCallbackError('not_member');
  }
  return [...groups, org];
}

/**
 * Complete the callback (state already matched by the caller's single-use transaction): exchange
 * the code, then read the user, the verified primary address and the memberships.
 */
export async function completeGithub(
  connection: GithubConnection,
  redirectUri: string,
  callbackUrl: URL,
  checks: GithubChecks,
): Promise<{ claims: Record<string, unknown> & { iss: string; sub: string }; token: string }> {
  const params = callbackUrl.searchParams;
  if (params.get('state') !== checks.state) throw new GithubCallbackError('state');
  if (params.get('error')) throw new GithubCallbackError('idp_error', params.get('error'));
  const code = params.get('code');
  if (!code) throw new GithubCallbackError('idp_error', 'no code');
  const token = await exchange(connection, redirectUri, code, checks);
  const headers = { ...API_HEADERS, authorization: `Bearer ${token}` };
  const user = (await json(await call(`${connection.apiUrl}/user`, { headers }), 'invalid_response')) as { id?: unknown; login?: unknown; name?: unknown };
  if (!Number.isSafeInteger(user.id) || typeof user.login !== 'string') throw new GithubCallbackError('invalid_response', 'user without id or login');
  const emails = await json(await call(`${connection.apiUrl}/user/emails`, { headers }), 'invalid_response');
  // Only the primary address, and only when GitHub verified it: /user's `email` is whatever
  // public address the person typed, and an unverified address proves nothing.
  const primary = Array.isArray(emails) ? (emails as { email?: unknown; primary?: unknown; verified?: unknown }[]).find((e) => e.primary === true) : undefined;
  if (!primary || primary.verified !== true || typeof primary.email !== 'string') throw new GithubCallbackError('github_unverified_email');
  const groups = await memberships(connection, headers, user.login);
  const claims = {
    iss: connection.issuer,
    sub: String(user.id),
    email: primary.email,
    email_verified: true,
    name: typeof user.name === 'string' && user.name.trim() ? user.name : user.login,
    groups,
  };
  // The token too: an OAuth app's token does not expire, so it is what re-checks the account later.
  return { claims, token };
}

/**
 * Is the account behind `token` still one this connection signs in (identity/sso-recheck.ts)?
 * `gone`: GitHub refuses the token (401: the person revoked the app, or the account was deleted
 * or suspended), the token now names another account, or the required organization or team
 * membership has ended. `unavailable`: GitHub did not say (network, 5xx, rate limit, an answer
 * we cannot read) — never taken as a leaver.
 */
export async function githubAccountStatus(connection: GithubConnection, token: string, subject: string): Promise<UpstreamVerdict> {
  const headers = { ...API_HEADERS, authorization: `Bearer ${token}` };
  try {
    const response = await call(`${connection.apiUrl}/user`, { headers });
    if (response.status === 401) return { verdict: 'gone', reason: 'token_refused' };
    const user = (await json(response, 'invalid_response')) as { id?: unknown; login?: unknown };
    if (String(user.id) !== subject || typeof user.login !== 'string') return { verdict: 'gone', reason: 'other_account' };
    await memberships(connection, headers, user.login);
    return { verdict: 'ok' };
  } catch (err) {
    if (err instanceof GithubCallbackError && err.reason === 'not_member') return { verdict: 'gone', reason: 'not_member' };
    return { verdict: 'unavailable', reason: err instanceof GithubCallbackError ? err.reason : 'invalid_response' };
  }
}
