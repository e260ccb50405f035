/**
 * Helpers for Client ID Metadata Document tests: build an authorization request for a client
 * identified by a URL, drive it through sign-in and consent, redeem the code (public client or
 * private_key_jwt), and read the error code of a refused request.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import { authorizeInBrowser, type BrowserResult } from '../helpers/oauth-flow.ts';
import type { TestServer } from '../helpers/server.ts';
import type { UserAgent } from '../helpers/user-agent.ts';

export interface PendingAuthorization {
  url: string;
  verifier: string;
  state: string;
  clientId: string;
  redirectUri: string;
}

export function authorizationRequest(server: TestServer, clientId: string, redirectUri: string, scope?: string): PendingAuthorization {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const url = new URL(`${server.url}/oauth/authorize`);
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  url.searchParams.set('resource', server.mcpUrl);
  if (scope) url.searchParams.set('scope', scope);
  return { url: url.href, verifier, state, clientId, redirectUri };
}

/** Sign in and approve; returns the code and the pages seen (consent page included). */
export async function approve(server: TestServer, pending: PendingAuthorization, ua?: UserAgent): Promise<BrowserResult & { code: string }> {
  const result = await authorizeInBrowser(pending.url, { email: server.user.email, password: server.password, redirectUri: pending.redirectUri, ua });
  assert.equal(result.callback.searchParams.get('state'), pending.state);
  assert.equal(result.callback.searchParams.get('iss'), server.url, 'RFC 9207 iss in the authorization response');
  const code = result.callback.searchParams.get('code');
  assert.ok(code, `no code in ${result.callback.href}`);
  return { ...result, code };
}

export interface TokenAnswer {
  status: number;
  body: { access_token?: string; refresh_token?: string; scope?: string; token_type?: string; error?: string };
}

/** POST to the token endpoint with a form; `auth` adds the client's authentication. */
export async function tokenRequest(server: TestServer, form: Record<string, string>): Promise<TokenAnswer> {
  const response = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as TokenAnswer['body'] };
}

export function codeGrant(server: TestServer, pending: PendingAuthorization, code: string): Record<string, string> {
  return { grant_type: 'authorization_code', code, code_verifier: pending.verifier, redirect_uri: pending.redirectUri, resource: server.mcpUrl };
}

/** An RFC 7523 §3 client assertion, as a private_key_jwt client (ChatGPT) sends it. */
export async function clientAssertion(clientId: string, audience: string, key: CryptoKey, kid: string, alg = 'RS256'): Promise<Record<string, string>> {
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(key);
  return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
}

export async function callMcp(server: TestServer, accessToken: string, method = 'tools/list'): Promise<number> {
  const response = await fetch(server.mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: {} }),
  });
  await response.body?.cancel();
  return response.status;
}

export interface Refusal {
  status: number;
  /** The OAuth error code the engine's error page names. */
  error: string | undefined;
  location: string | null;
}

/** Open the authorization URL as a browser would (no redirects followed) and read the refusal. */
export async function openAuthorization(pending: PendingAuthorization): Promise<Refusal> {
  const response = await fetch(pending.url, { redirect: 'manual' });
  const body = await response.text();
  return { status: response.status, error: /Error code: <code>([a-z_]+)<\/code>/.exec(body)?.[1], location: response.headers.get('location') };
}

/** The request is refused with one of `codes`, as a 4xx page, and nothing is sent to the redirect URI. */
export async function assertRefused(pending: PendingAuthorization, codes: string[]): Promise<Refusal> {
  const refusal = await openAuthorization(pending);
  assert.ok(refusal.status < 500, `5xx (${refusal.status})`);
  assert.ok(refusal.status >= 400, `expected a refusal, got ${refusal.status} → ${refusal.location}`);
  assert.ok(refusal.error && codes.includes(refusal.error), `error ${refusal.error}, expected one of ${codes.join(', ')}`);
  assert.equal(refusal.location, null, 'a refused client is never redirected to');
  return refusal;
}
