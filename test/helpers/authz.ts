/**
 * Plain-HTTP helpers for protocol tests of the authorization server: register clients, run the
 * browser part of an authorization, call the token, introspection and revocation endpoints, and
 * call the demo MCP server with a token. Everything goes over real HTTP to a real server; nothing
 * here knows the server's internals except where a test must plant a pre-registered client.
 */
import type { TestClock } from './clock.ts';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { ConfigInput } from '../../src/core/config.ts';
import { randomToken } from '../../src/core/crypto.ts';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { clientToRecord } from '../../src/authz/clients.ts';
import { ROUTES } from '../../src/authz/provider.ts';
import { authorizeInBrowser, type BrowserResult } from './oauth-flow.ts';
import { startTestServer, type TestServer } from './server.ts';
import { databaseTargets, dropSchema, postgresUrl, type Dialect } from './databases.ts';
import type { UserAgent } from './user-agent.ts';

/** A loopback redirect URI as MCP clients register it (any port is accepted at authorization). */
export const LOOPBACK_REDIRECT = 'http://127.0.0.1/callback';
/** What the client actually listens on: the registered URI with an ephemeral port. */
export const LOOPBACK_REDIRECT_WITH_PORT = 'http://127.0.0.1:53682/callback';

/**
 * A server to sign in at: its issuer URL and the resource (MCP server) asked for — a TestServer,
 * or another instance known only by its URLs; its test user is the default person signing in.
 */
export type AuthServer = Pick<TestServer, 'url' | 'mcpUrl'> & Partial<Pick<TestServer, 'user' | 'password'>>;

export function endpoint(server: Pick<TestServer, 'url'>, route: keyof typeof ROUTES): string {
  return `${server.url}${ROUTES[route]}`;
}

// ---------------------------------------------------------------------------------------------
// Servers on every store

export interface ServerTarget {
  dialect: Dialect;
  /** `skip` for this target's describe (test/helpers/databases.ts). */
  skip: string | false;
  start(overrides?: ConfigInput, options?: { clock?: TestClock }): Promise<TestServer>;
}

/**
 * A server on every database of the one list (test/helpers/databases.ts): SQLite, and PostgreSQL
 * in a fresh schema dropped at stop — unreachable PostgreSQL fails the test, never skips it.
 */
export function serverTargets(): ServerTarget[] {
  return databaseTargets().map(({ dialect, skip }) => ({
    dialect,
    skip,
    start: dialect === 'sqlite' ? (overrides: ConfigInput = {}, options = {}) => startTestServer(overrides, options) : startOnPostgres,
  }));
}

async function startOnPostgres(overrides: ConfigInput = {}, options: { clock?: TestClock } = {}): Promise<TestServer> {
  const url = postgresUrl();
  const schema = `pct_${randomBytes(6).toString('hex')}`;
  const drop = () => dropSchema(url, schema);
  let server: TestServer;
  try {
    server = await startTestServer({ ...overrides, databaseUrl: url }, { schema, clock: options.clock });
  } catch (err) {
    await drop().catch(() => {});
    throw err;
  }
  const stop = server.stop;
  return {
    ...server,
    schema,
    async stop() {
      await stop();
      await drop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface OAuthResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body ({} when the body is empty or not JSON). */
  body: Record<string, unknown>;
}

async function toOAuthResponse(response: Response): Promise<OAuthResponse> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    body = {};
  }
  return { status: response.status, headers: response.headers, body };
}

/** A client as the token endpoint sees it: its id, its secret if any, and how it authenticates. */
export interface ClientCredentials {
  client_id: string;
  client_secret?: string;
  token_endpoint_auth_method?: string;
}

const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

/** POST a form, authenticating as `client` with the method it registered (RFC 6749 §2.3.1). */
export async function postForm(url: string, params: Record<string, string | undefined>, client?: ClientCredentials): Promise<OAuthResponse> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) body.set(name, value);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client) {
    const method = client.token_endpoint_auth_method ?? (client.client_secret ? 'client_secret_basic' : 'none');
    if (method === 'client_secret_basic') {
      const pair = `${formEncode(client.client_id)}:${formEncode(client.client_secret ?? '')}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    } else if (method === 'client_secret_post') {
      body.set('client_id', client.client_id);
      body.set('client_secret', client.client_secret ?? '');
    } else {
      body.set('client_id', client.client_id);
    }
  }
  return toOAuthResponse(await fetch(url, { method: 'POST', headers, body, redirect: 'manual' }));
}

/** The response is the OAuth error `code` — never a 5xx. */
export function assertOAuthError(res: OAuthResponse, code: string, status?: number): void {
  assert.ok(res.status < 500, `expected ${code}, got HTTP ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error, code, `expected ${code}, got HTTP ${res.status} ${JSON.stringify(res.body)}`);
  if (status !== undefined) assert.equal(res.status, status);
}

/** The error code the engine's error page shows (views.ts renderEngineError). */
export function engineErrorCode(html: string): string | undefined {
  return /Error code: <code>([a-z_]+)<\/code>/.exec(html)?.[1];
}

// ---------------------------------------------------------------------------------------------
// Clients

export interface RegisteredClient extends ClientCredentials {
  redirect_uris: string[];
  [key: string]: unknown;
}

/** RFC 7591 dynamic registration; returns the raw answer. */
export async function registerRaw(server: TestServer, metadata: Record<string, unknown>): Promise<OAuthResponse> {
  const response = await fetch(endpoint(server, 'registration'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  return toOAuthResponse(response);
}

export async function register(server: TestServer, metadata: Record<string, unknown>): Promise<RegisteredClient> {
  const res = await registerRaw(server, metadata);
  assert.equal(res.status, 201, `registration failed: ${JSON.stringify(res.body)}`);
  return res.body as RegisteredClient;
}

/** A public client (no secret) with a loopback redirect, as MCP desktop clients register. */
export function registerPublic(server: TestServer, metadata: Record<string, unknown> = {}): Promise<RegisteredClient> {
  return register(server, { redirect_uris: [LOOPBACK_REDIRECT], token_endpoint_auth_method: 'none', ...metadata });
}

/** A confidential web client (client_secret_basic) with an https redirect. */
export function registerConfidential(server: TestServer, metadata: Record<string, unknown> = {}): Promise<RegisteredClient> {
  return register(server, { redirect_uris: ['https://app.example.com/callback'], token_endpoint_auth_method: 'client_secret_basic', ...metadata });
}

/**
 * Plant a pre-registered (static) confidential client in the store, as an administrator would:
 * its secret hashed with the server's pepper. Returns the plaintext secret.
 */
export async function addStaticClient(server: TestServer, metadata: Record<string, unknown>): Promise<ClientCredentials & { client_id: string; client_secret: string }> {
  const clientId = String(metadata.client_id ?? `static_${randomBytes(6).toString('hex')}`);
  const secret = randomToken(32);
  const { pepper } = loadRootSecret({ secretKey: server.config.secretKey, dataDir: server.config.dataDir }).secrets;
  await server.store.clients.upsert(
    clientToRecord(
      {
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        ...metadata,
        client_id: clientId,
        client_secret: secret,
      },
      pepper,
      'static',
    ),
  );
  return { client_id: clientId, client_secret: secret, token_endpoint_auth_method: String(metadata.token_endpoint_auth_method ?? 'client_secret_basic') };
}

// ---------------------------------------------------------------------------------------------
// Authorization code flow

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeOptions {
  redirectUri?: string;
  /** Omitted when undefined; `null` leaves out `resource` too (the default resource applies). */
  scope?: string;
  resource?: string | null;
  state?: string;
  pkce?: Pkce;
  /** Extra or overriding query parameters; `undefined` removes one. */
  params?: Record<string, string | undefined>;
}

export function authorizationUrl(server: AuthServer, client: { client_id: string }, options: AuthorizeOptions = {}): { url: string; pkce: Pkce; state: string; redirectUri: string } {
  const pkce = options.pkce ?? newPkce();
  const state = options.state ?? randomBytes(12).toString('base64url');
  const redirectUri = options.redirectUri ?? LOOPBACK_REDIRECT_WITH_PORT;
  const url = new URL(endpoint(server, 'authorization'));
  const params: Record<string, string | undefined> = {
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: 'code',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state,
    resource: options.resource === null ? undefined : (options.resource ?? server.mcpUrl),
    scope: options.scope,
    ...options.params,
  };
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return { url: url.href, pkce, state, redirectUri };
}

/** Who signs in (default: the server's test user) and what the browser does. */
export type SignInOptions = AuthorizeOptions & { ua?: UserAgent; email?: string; password?: string; untick?: string[] };

export interface CodeResult extends BrowserResult {
  code: string;
  pkce: Pkce;
  state: string;
  redirectUri: string;
}

/** Sign in and approve in a (simulated) browser; returns the code from the callback. */
export async function obtainCode(
  server: AuthServer,
  client: { client_id: string },
  options: SignInOptions = {},
): Promise<CodeResult> {
  const { url, pkce, state, redirectUri } = authorizationUrl(server, client, options);
  const email = options.email ?? server.user?.email;
  const password = options.password ?? server.password;
  assert.ok(email && password, 'who signs in: the server has no test user, give email and password');
  const result = await authorizeInBrowser(url, {
    email,
    password,
    redirectUri,
    ua: options.ua,
    untick: options.untick,
  });
  const code = result.callback.searchParams.get('code');
  assert.ok(code, `no code at the callback: ${result.callback.href}`);
  return { ...result, code, pkce, state, redirectUri };
}

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  [key: string]: unknown;
}

export function redeemCode(
  server: Pick<TestServer, 'url'>,
  client: ClientCredentials,
  grant: { code: string; pkce: Pkce; redirectUri: string },
  extra: Record<string, string | undefined> = {},
): Promise<OAuthResponse> {
  return postForm(
    endpoint(server, 'token'),
    { grant_type: 'authorization_code', code: grant.code, code_verifier: grant.pkce.verifier, redirect_uri: grant.redirectUri, ...extra },
    client,
  );
}

export function refresh(server: Pick<TestServer, 'url'>, client: ClientCredentials, refreshToken: string, extra: Record<string, string | undefined> = {}): Promise<OAuthResponse> {
  return postForm(endpoint(server, 'token'), { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, client);
}

/** The response is a token set (200, token_type, scope, access_token). */
export function assertTokens(res: OAuthResponse): TokenSet {
  assert.equal(res.status, 200, `expected tokens, got HTTP ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(typeof res.body.access_token, 'string');
  assert.equal(String(res.body.token_type).toLowerCase(), 'bearer');
  assert.equal(typeof res.body.scope, 'string', 'token responses carry scope');
  return res.body as TokenSet;
}

/**
 * The whole authorization code flow, as an MCP client runs it: sign in, approve, redeem (the
 * resource named again at the token endpoint, RFC 8707 §2.2). The one sign-in every test uses.
 */
export async function signIn(server: AuthServer, client: ClientCredentials, options: SignInOptions = {}): Promise<TokenSet & { code: CodeResult }> {
  const code = await obtainCode(server, client, options);
  const resource = options.resource === null ? undefined : (options.resource ?? server.mcpUrl);
  const tokens = assertTokens(await redeemCode(server, client, code, { resource }));
  return { ...tokens, code };
}

// ---------------------------------------------------------------------------------------------
// The protected resource

/** tools/list on the demo MCP server with `token`: the HTTP status (200 or 401 matter here). */
export async function mcpStatus(server: TestServer, token: string): Promise<number> {
  const response = await fetch(server.mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  await response.body?.cancel();
  return response.status;
}

export function introspect(server: TestServer, caller: ClientCredentials | undefined, token: string, extra: Record<string, string> = {}): Promise<OAuthResponse> {
  return postForm(endpoint(server, 'introspection'), { token, ...extra }, caller);
}

export function revoke(server: TestServer, caller: ClientCredentials | undefined, token: string, extra: Record<string, string> = {}): Promise<OAuthResponse> {
  return postForm(endpoint(server, 'revocation'), { token, ...extra }, caller);
}

export interface AuthorizeAnswer {
  status: number;
  /** Where the server sends the browser, if anywhere. */
  location: URL | undefined;
  body: string;
}

/** One GET of the authorization endpoint, without following redirects or signing in. */
export async function authorizeOnce(url: string): Promise<AuthorizeAnswer> {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  return { status: response.status, location: location ? new URL(location, url) : undefined, body: await response.text() };
}

/**
 * Open `count` keep-alive connections to the server first, so that `count` requests fired next
 * reach it together instead of being staggered by connection set-up (races need real overlap).
 */
export async function warmConnections(server: TestServer, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(`${server.url}/.well-known/openid-configuration`);
      await response.arrayBuffer();
    }),
  );
}
