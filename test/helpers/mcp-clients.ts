/**
 * Real MCP SDK clients against a running Portcullis: the v1 SDK (`@modelcontextprotocol/sdk`,
 * 2025-era `initialize`) and the v2 SDK (`@modelcontextprotocol/client`, protocol 2026-07-28 with
 * its `server/discover` probe), each with an in-memory `OAuthClientProvider` such as a desktop
 * client would have. The SDKs do everything they do for real users — 401 → protected-resource
 * metadata → authorization-server metadata → registration → authorization URL; refresh on 401;
 * step-up on 403 — and the browser part (sign-in, consent) is driven by `authorizeInBrowser`.
 *
 * Every HTTP exchange the SDK makes goes through a recording `fetch`, so tests can assert what
 * the client actually did on the wire (which requests, in which order, with which answers).
 */
import { testClock, type TestClock } from './clock.ts';
import assert from 'node:assert/strict';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth as v1Auth, type OAuthClientProvider as V1OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { OAUTH_ERRORS, OAuthError as V1OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
  type OAuthClientProvider as V2OAuthClientProvider,
} from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { clientToRecord } from '../../src/authz/clients.ts';
import { CLOCK_SKEW } from '../../src/core/clock.ts';
import type { ServerTarget } from './authz.ts';
import { startHttpsFixture, type HttpsFixture } from './https-fixture.ts';
import { authorizeInBrowser, type BrowserResult, type BrowserStep } from './oauth-flow.ts';
import type { TestServer } from './server.ts';
import { UserAgent } from './user-agent.ts';

export type Sdk = 'v1' | 'v2';
export type Registration = 'pre-registered' | 'dynamic' | 'metadata-document';

export const REGISTRATIONS: readonly Registration[] = ['pre-registered', 'dynamic', 'metadata-document'];

/** One HTTP exchange made by the SDK client. */
export interface Exchange {
  method: string;
  url: URL;
  status: number;
  /** Scheme of the `Authorization` header sent, lowercased ('bearer', 'basic'), if any. */
  auth?: string;
  /** JSON-RPC method(s) of an MCP POST. */
  rpc?: string;
  /** `grant_type` of a token request. */
  grantType?: string;
  /** `scope` of a token request, when the client sent one. */
  scope?: string;
  /** The refresh token a refresh request presented. */
  refreshToken?: string;
  wwwAuthenticate?: string;
  /** The `error` code in the JSON body of an error answer (OAuth endpoints, the guard). */
  error?: string;
}

/** Parameters of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3), e.g. { error, scope, resource_metadata }. */
export function challengeParams(header: string | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header || !/^bearer\b/i.test(header)) return params;
  for (const match of header.matchAll(/([\w-]+)="((?:[^"\\]|\\.)*)"/g)) params[match[1]!] = match[2]!.replace(/\\(.)/g, '$1');
  return params;
}

/**
 * One line per exchange, e.g. `POST /mcp tools/call 401` or `POST /oauth/token refresh_token 200`,
 * for asserting what a client did in order. The standalone SSE stream (`GET /mcp`, opened in the
 * background by the v1 SDK after `initialize`) is left out: when it happens is not the story.
 */
export function wire(exchanges: readonly Exchange[]): string[] {
  return exchanges
    .filter((e) => !(e.method === 'GET' && e.url.pathname === '/mcp'))
    .map((e) => [e.method, e.url.pathname, e.rpc ?? e.grantType, e.status].filter((part) => part !== undefined).join(' '));
}

/** The `scope` an authorization URL asks for. */
export function requestedScope(authorizationUrl: URL | undefined): string | undefined {
  return authorizationUrl?.searchParams.get('scope') ?? undefined;
}

/** What a test reads back from the client's credential store. */
export interface StoredTokens {
  access_token: string;
  refresh_token?: string;
  scope?: string;
  token_type: string;
  expires_in?: number;
}

type StoredClientInformation = { client_id: string; client_secret?: string; issuer?: string } & Record<string, unknown>;

/**
 * An in-memory credential store, as a desktop MCP client keeps one. Implements the provider
 * interface of both SDK generations (v2 passes an extra `ctx` argument that v1 does not).
 */
export class MemoryOAuthProvider {
  readonly redirectUri: string;
  readonly clientMetadataUrl: string | undefined;
  readonly #metadata: Record<string, unknown>;
  #client: StoredClientInformation | undefined;
  #tokens: (StoredTokens & { issuer?: string }) | undefined;
  #verifier: string | undefined;
  #discovery: unknown;
  #state: string | undefined;
  /** Every authorization URL the SDK sent the user to, oldest first. */
  readonly authorizationUrls: URL[] = [];
  /** Every `invalidateCredentials` call, in order. */
  readonly invalidated: string[] = [];

  constructor(options: { redirectUri: string; clientMetadataUrl?: string; preRegistered?: StoredClientInformation; metadata: Record<string, unknown> }) {
    this.redirectUri = options.redirectUri;
    this.clientMetadataUrl = options.clientMetadataUrl;
    this.#metadata = options.metadata;
    this.#client = options.preRegistered;
  }

  get redirectUrl(): string {
    return this.redirectUri;
  }

  get clientMetadata() {
    return this.#metadata as { redirect_uris: string[] } & Record<string, unknown>;
  }

  state(): string {
    this.#state = crypto.randomUUID();
    return this.#state;
  }

  get lastState(): string | undefined {
    return this.#state;
  }

  clientInformation() {
    return this.#client;
  }

  saveClientInformation(info: StoredClientInformation): void {
    this.#client = info;
  }

  tokens() {
    return this.#tokens;
  }

  saveTokens(tokens: StoredTokens & { issuer?: string }): void {
    this.#tokens = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrls.push(url);
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.#verifier) throw new Error('no code verifier saved');
    return this.#verifier;
  }

  saveDiscoveryState(state: unknown): void {
    this.#discovery = state;
  }

  discoveryState() {
    return this.#discovery as never;
  }

  /** The authorization-server metadata the SDK discovered (and validated, for v2). */
  get authorizationServerMetadata(): Record<string, unknown> | undefined {
    return (this.#discovery as { authorizationServerMetadata?: Record<string, unknown> } | undefined)?.authorizationServerMetadata;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    this.invalidated.push(scope);
    if (scope === 'all' || scope === 'client') this.#client = undefined;
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
    if (scope === 'all' || scope === 'discovery') this.#discovery = undefined;
  }

  /** The client's registered identity (client_id, and the rest of a registration response). */
  get client(): StoredClientInformation | undefined {
    return this.#client;
  }

  get currentTokens(): StoredTokens | undefined {
    return this.#tokens;
  }

  get pendingAuthorization(): URL | undefined {
    return this.authorizationUrls.at(-1);
  }
}

/** The result of a tool call, as both SDK generations shape it. */
export interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: any;
}

export interface McpTestClient {
  readonly sdk: Sdk;
  readonly registration: Registration;
  readonly provider: MemoryOAuthProvider;
  /** Every HTTP exchange the SDK made, in order. */
  readonly exchanges: Exchange[];
  /** Exchanges from `mark()` on. */
  since(mark: number): Exchange[];
  mark(): number;
  /** Hold the next refresh requests until `count` of them are on their way, then send them together. */
  holdRefreshesUntil(count: number): void;
  /**
   * Connect a fresh transport. 'connected' when the stored tokens were enough; 'redirected' when the
   * SDK sent the user to the authorization server (it threw its UnauthorizedError).
   */
  connect(): Promise<'connected' | 'redirected'>;
  /**
   * The browser part of the pending authorization, then `finishAuth` on the transport that started
   * it and a reconnect on a fresh transport (as both SDKs' documentation says to do).
   */
  authorize(step?: Partial<BrowserStep>): Promise<BrowserResult>;
  toolNames(): Promise<string[]>;
  call(name: string, args?: Record<string, unknown>): Promise<ToolResult>;
  /**
   * Re-authorize with `scope` the way an application must when its SDK does not step up by itself:
   * forget the tokens and run the SDK's own `auth()` with the larger scope (→ 'REDIRECT').
   */
  requestScope(scope: string): Promise<string>;
  /**
   * What "Disconnect" in a client does: revoke the stored refresh token at the revocation endpoint
   * named in the AS metadata the SDK discovered (RFC 7009), authenticating as the client. Returns the status.
   */
  revokeRefreshToken(): Promise<number>;
  close(): Promise<void>;
}

export interface McpClientOptions {
  sdk: Sdk;
  registration: Registration;
  /** Loopback redirect URI the client listens on (any port matches a registered loopback URI). */
  redirectUri?: string;
  /** Set for 'metadata-document': the document's URL, which is the client_id. */
  clientMetadataUrl?: string;
  /** Set for 'pre-registered': the client_id inserted into the store (default: a fresh one). */
  clientId?: string;
  clientName?: string;
  /** Replace the registered / published metadata (default: `desktopClientMetadata`). */
  metadata?: (redirectUri: string, name: string) => Record<string, unknown>;
}

/** The metadata an MCP desktop client would register or publish: a public client (no secret). */
export function desktopClientMetadata(redirectUri: string, name: string): Record<string, unknown> {
  return {
    client_name: name,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

/**
 * The least an application may give the SDK: a name and a redirect URI. Without
 * `token_endpoint_auth_method` it registers as a confidential client (client_secret_basic, the
 * RFC 7591 default), and the SDK authenticates with the secret it is given.
 */
export function minimalClientMetadata(redirectUri: string, name: string): Record<string, unknown> {
  return { client_name: name, redirect_uris: [redirectUri] };
}

/** Insert a pre-registered public client, as an administrator would. */
export async function preRegister(server: TestServer, clientId: string, redirectUris: string[]): Promise<void> {
  await server.store.clients.upsert(
    clientToRecord(
      {
        client_id: clientId,
        client_name: 'Pre-registered MCP client',
        redirect_uris: redirectUris,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      Buffer.alloc(32),
      'static',
    ),
  );
}

let counter = 0;

/**
 * Refresh requests held back until `count` of them are on their way, then sent together: racing
 * refreshes then really race, however loaded the machine (otherwise the first may finish before
 * the last starts, and the race under test never happens). Released anyway after 5 s.
 */
interface RefreshBarrier {
  count: number;
  waiting: (() => void)[];
}

function atBarrier(gate: { barrier?: RefreshBarrier }): Promise<void> {
  const barrier = gate.barrier!;
  return new Promise<void>((resolve) => {
    const timer = setTimeout(release, 5000);
    barrier.waiting.push(resolve);
    if (barrier.waiting.length >= barrier.count) release();
    function release() {
      clearTimeout(timer);
      if (gate.barrier === barrier) gate.barrier = undefined;
      for (const go of barrier.waiting.splice(0)) go();
    }
  });
}

function recordingFetch(exchanges: Exchange[], gate: { barrier?: RefreshBarrier } = {}): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const exchange: Exchange = { method: request.method, url: new URL(request.url), status: 0 };
    const scheme = /^(\S+) /.exec(request.headers.get('authorization') ?? '')?.[1];
    if (scheme) exchange.auth = scheme.toLowerCase();
    const body = init?.body;
    const text = typeof body === 'string' ? body : body instanceof URLSearchParams ? body.toString() : undefined;
    if (text !== undefined) {
      const type = request.headers.get('content-type') ?? '';
      if (type.startsWith('application/json')) {
        try {
          const parsed = [JSON.parse(text) as { jsonrpc?: string; method?: string }].flat();
          if (parsed.every((m) => m.jsonrpc === '2.0')) exchange.rpc = parsed.map((m) => m.method ?? '(response)').join(',');
        } catch {
          // not JSON-RPC
        }
      } else if (type.startsWith('application/x-www-form-urlencoded')) {
        const form = new URLSearchParams(text);
        exchange.grantType = form.get('grant_type') ?? undefined;
        exchange.scope = form.get('scope') ?? undefined;
        exchange.refreshToken = form.get('refresh_token') ?? undefined;
      }
    }
    exchanges.push(exchange);
    if (exchange.grantType === 'refresh_token' && gate.barrier) await atBarrier(gate);
    const response = await fetch(input, init);
    exchange.status = response.status;
    exchange.wwwAuthenticate = response.headers.get('www-authenticate') ?? undefined;
    if (response.status >= 400 && (response.headers.get('content-type') ?? '').startsWith('application/json')) {
      try {
        const parsed = (await response.clone().json()) as { error?: unknown };
        if (typeof parsed.error === 'string') exchange.error = parsed.error;
      } catch {
        // not JSON after all
      }
    }
    return response;
  };
}

/** Is `err` the SDK's own "the user has been sent to the browser" signal? */
function isUnauthorized(err: unknown): boolean {
  return err instanceof Error && (err.name === 'UnauthorizedError' || err.constructor.name === 'UnauthorizedError');
}

export async function createMcpClient(server: TestServer, options: McpClientOptions): Promise<McpTestClient> {
  const { sdk, registration } = options;
  const name = options.clientName ?? `Test MCP client (${sdk}, ${registration})`;
  const redirectUri = options.redirectUri ?? `http://127.0.0.1:${40000 + (++counter % 20000)}/callback`;
  let clientMetadataUrl: string | undefined;
  let preRegistered: StoredClientInformation | undefined;
  if (registration === 'pre-registered') {
    const clientId = options.clientId ?? `mcp-test-${sdk}-${++counter}`;
    // Registered without a port: a loopback client listens wherever it can (RFC 8252 §7.3).
    await preRegister(server, clientId, [redirectUri.replace(/:\d+(?=\/)/, '')]);
    preRegistered = { client_id: clientId, issuer: server.url };
  } else if (registration === 'metadata-document') {
    if (!options.clientMetadataUrl) throw new Error('a metadata-document client needs options.clientMetadataUrl');
    clientMetadataUrl = options.clientMetadataUrl;
  }
  const provider = new MemoryOAuthProvider({ redirectUri, clientMetadataUrl, preRegistered, metadata: (options.metadata ?? desktopClientMetadata)(redirectUri, name) });
  const exchanges: Exchange[] = [];
  const gate: { barrier?: RefreshBarrier } = {};
  const fetchFn = recordingFetch(exchanges, gate);
  const url = new URL(server.mcpUrl);
  // The user's browser: it keeps the Portcullis sign-in between authorizations, as a real one does.
  const ua = new UserAgent();

  interface Connection {
    transport: { finishAuth(params: never): Promise<void>; close(): Promise<void> };
    finish(callback: URL): Promise<void>;
    listTools(): Promise<{ tools: Array<{ name: string }> }>;
    callTool(name: string, args: Record<string, unknown>): Promise<ToolResult>;
    close(): Promise<void>;
  }

  const open = async (): Promise<{ connection: Connection; redirected: boolean }> => {
    if (sdk === 'v1') {
      const transport = new V1Transport(url, { authProvider: provider as unknown as V1OAuthClientProvider, fetch: fetchFn });
      const client = new V1Client({ name, version: '1.0.0' });
      const connection: Connection = {
        transport: transport as never,
        finish: async (callback) => {
          // The v1 SDK takes only the code: an application reads an error callback itself, and
          // raises the SDK's own OAuth error class for it.
          const code = callback.searchParams.get('code');
          if (code) return transport.finishAuth(code);
          const error = callback.searchParams.get('error') ?? 'invalid_request';
          const ErrorClass = OAUTH_ERRORS[error] ?? V1OAuthError;
          throw new ErrorClass(callback.searchParams.get('error_description') ?? error);
        },
        listTools: () => client.listTools(),
        callTool: async (tool, args) => (await client.callTool({ name: tool, arguments: args })) as ToolResult,
        close: () => client.close(),
      };
      try {
        await client.connect(transport);
        return { connection, redirected: false };
      } catch (err) {
        if (isUnauthorized(err)) return { connection, redirected: true };
        throw err;
      }
    }
    const transport = new V2Transport(url, { authProvider: provider as unknown as V2OAuthClientProvider, fetch: fetchFn });
    // 'auto': probe with an unauthenticated `server/discover` first, as the SDK does by default for 2026 clients.
    const client = new V2Client({ name, version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    const connection: Connection = {
      transport: transport as never,
      // The whole query: the SDK checks `iss` (RFC 9207) before redeeming the code.
      finish: (callback) => transport.finishAuth(callback.searchParams),
      listTools: () => client.listTools(),
      callTool: async (tool, args) => (await client.callTool({ name: tool, arguments: args })) as ToolResult,
      close: () => client.close(),
    };
    try {
      await client.connect(transport);
      if (client.getProtocolEra() !== 'modern') throw new Error(`the v2 client fell back to the ${client.getProtocolEra()} protocol era`);
      return { connection, redirected: false };
    } catch (err) {
      if (isUnauthorized(err)) return { connection, redirected: true };
      throw err;
    }
  };

  let current: Connection | undefined;
  /** The connection whose transport started the pending authorization (finishAuth goes there). */
  let authorizing: Connection | undefined;

  const guard = async <T>(work: (connection: Connection) => Promise<T>): Promise<T> => {
    if (!current) throw new Error('not connected');
    try {
      return await work(current);
    } catch (err) {
      if (isUnauthorized(err)) authorizing = current;
      throw err;
    }
  };

  const self: McpTestClient = {
    sdk,
    registration,
    provider,
    exchanges,
    mark: () => exchanges.length,
    holdRefreshesUntil: (count) => {
      gate.barrier = { count, waiting: [] };
    },
    since: (mark) => exchanges.slice(mark),
    async connect() {
      await current?.close().catch(() => {});
      const { connection, redirected } = await open();
      if (redirected) {
        authorizing = connection;
        current = undefined;
        return 'redirected';
      }
      current = connection;
      return 'connected';
    },
    async authorize(step = {}) {
      const pending = provider.pendingAuthorization;
      if (!pending || !authorizing) throw new Error('no authorization is pending');
      const result = await authorizeInBrowser(pending.href, {
        email: server.user.email,
        password: server.password,
        redirectUri,
        ua,
        ...step,
      });
      if (result.callback.searchParams.get('state') !== provider.lastState) throw new Error('state mismatch in the callback');
      const finishing = authorizing;
      authorizing = undefined;
      provider.authorizationUrls.length = 0;
      try {
        await finishing.finish(result.callback);
      } finally {
        await finishing.close().catch(() => {});
      }
      const reconnected = await self.connect();
      if (reconnected !== 'connected') throw new Error('still not authorized after finishAuth');
      return result;
    },
    toolNames: () => guard(async (c) => (await c.listTools()).tools.map((t) => t.name)),
    call: (tool, args = {}) => guard((c) => c.callTool(tool, args)),
    async requestScope(scope) {
      provider.invalidateCredentials('tokens');
      const result =
        sdk === 'v1'
          ? await v1Auth(provider as unknown as V1OAuthClientProvider, { serverUrl: url, scope, fetchFn })
          : await (await import('@modelcontextprotocol/client')).auth(provider as unknown as V2OAuthClientProvider, { serverUrl: url, scope, fetchFn });
      if (result === 'REDIRECT') authorizing = current;
      return result;
    },
    async revokeRefreshToken() {
      const endpoint = provider.authorizationServerMetadata?.revocation_endpoint as string | undefined;
      const info = provider.client;
      const token = provider.currentTokens?.refresh_token;
      if (!endpoint || !info || !token) throw new Error('nothing to revoke: no discovered revocation endpoint, client or refresh token');
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      const body = new URLSearchParams({ token, token_type_hint: 'refresh_token' });
      if (info.client_secret) headers.authorization = `Basic ${btoa(`${encodeURIComponent(info.client_id)}:${encodeURIComponent(info.client_secret)}`)}`;
      else body.set('client_id', info.client_id);
      const response = await fetchFn(endpoint, { method: 'POST', headers, body });
      await response.body?.cancel();
      return response.status;
    },
    async close() {
      await current?.close().catch(() => {});
      await authorizing?.close().catch(() => {});
      current = undefined;
      authorizing = undefined;
    },
  };
  return self;
}

/** Move the server's clock until the gateway refuses `accessToken`: past its `exp` and the skew it tolerates. */
export function passExpiry(clock: TestClock, accessToken: string): void {
  const exp = decodeJwt(accessToken).exp!;
  clock.advance(Math.max(0, exp + CLOCK_SKEW + 1 - clock.now()));
}

/** No request the client made ended in a 5xx. */
export function assertNoServerErrors(client: McpTestClient): void {
  const failures = client.exchanges.filter((e) => e.status >= 500).map((e) => `${e.method} ${e.url.pathname} ${e.status}`);
  assert.deepEqual(failures, [], 'no request the client made may end in a 5xx');
}

export const METADATA_DOCUMENT_PATH = '/oauth/client-metadata.json';

export interface ClientStory {
  server: TestServer;
  client: McpTestClient;
  /** The server's clock: move it past a token's expiry instead of waiting for it. */
  clock: TestClock;
  /** For metadata-document clients: the https server publishing the document. */
  documentHost: HttpsFixture | undefined;
  stop(): Promise<void>;
}

/**
 * A server on `target`, with a clock the test moves, that accepts metadata documents from
 * loopback, and an SDK client of the given kind pointed at its demo MCP server.
 */
export async function startClientStory(
  target: ServerTarget,
  sdk: Sdk,
  registration: Registration,
  options: Pick<McpClientOptions, 'metadata'> = {},
): Promise<ClientStory> {
  const clock = testClock();
  const server = await target.start({ cimd: { allowPrivateAddresses: true } }, { clock });
  let documentHost: HttpsFixture | undefined;
  let clientMetadataUrl: string | undefined;
  if (registration === 'metadata-document') {
    documentHost = await startHttpsFixture();
    clientMetadataUrl = documentHost.url(METADATA_DOCUMENT_PATH);
    documentHost.route(METADATA_DOCUMENT_PATH, {
      client_id: clientMetadataUrl,
      // Registered without a port, like every loopback client: the one it listens on varies.
      ...desktopClientMetadata('http://127.0.0.1/callback', `Metadata-document MCP client (${sdk})`),
    });
  }
  const client = await createMcpClient(server, { sdk, registration, clientMetadataUrl, ...options });
  return {
    server,
    client,
    clock,
    documentHost,
    async stop() {
      await client.close();
      await documentHost?.close();
      await server.stop();
    },
  };
}
