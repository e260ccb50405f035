/**
 * What the guard SDK tests share: a real Portcullis with a "notes" application (its resource URL
 * is the audience of the tokens the tests get), a pre-registered resource-server client (for the
 * revocation stream and introspection), real sign-ins, raw MCP requests, a TCP proxy that a test
 * can cut (to take the revocation stream down without stopping the authorization server), and a
 * poll-with-deadline helper.
 */
import assert from 'node:assert/strict';
import { createConnection, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ConfigInput } from '../../../src/core/config.ts';
import { addStaticClient, registerPublic, revoke, signIn, type ClientCredentials, type RegisteredClient, type ServerTarget } from '../../helpers/authz.ts';
import { challengeParams } from '../../helpers/mcp-clients.ts';
import type { TestServer } from '../../helpers/server.ts';

export { challengeParams };

export const NOTES_SCOPES = ['notes:read', 'notes:write', 'notes:delete'];

export interface GuardWorld {
  server: TestServer;
  /** The notes application's resource URL: the audience of the tokens. */
  resource: string;
  /** A confidential client registered as the notes resource server. */
  resourceServer: ClientCredentials & { client_id: string; client_secret: string };
  streamUrl: string;
  /** Sign ada in (a fresh public client) and get tokens for `scope` on `resource` (default: the notes app). */
  tokens(scope: string, resource?: string): Promise<Tokens>;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
  client: RegisteredClient;
}

/**
 * A notes application whose upstream is `upstreamUrl` (the gateway is not what these tests call,
 * except the one that puts a guarded server behind it).
 */
export function notesApplication(upstreamUrl = 'http://127.0.0.1:9/mcp', tools: Record<string, { scope: string }> = {}) {
  return { slug: 'notes', name: 'Notes', upstream: { url: upstreamUrl }, tools, autoApprove: true };
}

export async function startWorld(target: Pick<ServerTarget, 'start'>, overrides: ConfigInput = {}): Promise<GuardWorld> {
  const server = await target.start({ applications: [notesApplication()], ...overrides });
  const resource = `${server.url}/mcp/notes`;
  const resourceServer = await addStaticClient(server, { portcullis_resources: [resource], client_name: 'Notes resource server' });
  return {
    server,
    resource,
    resourceServer,
    streamUrl: `${server.url}/oauth/revocations`,
    async tokens(scope, forResource = resource) {
      const client = await registerPublic(server);
      const set = await signIn(server, client, { resource: forResource, scope });
      assert.ok(set.refresh_token, 'interactive clients get a refresh token');
      return { access_token: set.access_token, refresh_token: set.refresh_token, scope: set.scope, client };
    },
  };
}

/** Revoke the grant behind `tokens` at the revocation endpoint (RFC 7009), as the client that holds it. */
export async function revokeGrant(world: GuardWorld, tokens: Tokens): Promise<void> {
  const res = await revoke(world.server, tokens.client, tokens.refresh_token);
  assert.equal(res.status, 200);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it returns a value other than undefined, or fail after `timeoutMs`. Returns the value and how long it took. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what = 'condition'): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return { value, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

/** One JSON-RPC POST (or batch) with an optional bearer token; SSE answers are reduced to their first message. */
export async function rpc(url: string, message: unknown, token?: string, extraHeaders: Record<string, string> = {}): Promise<RawAnswer> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-06-18',
    ...extraHeaders,
  };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(message) });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  const json = (response.headers.get('content-type') ?? '').startsWith('text/event-stream') ? /^data: (.*)$/m.exec(text)?.[1] : text;
  try {
    body = json ? (JSON.parse(json) as Record<string, unknown>) : {};
  } catch {
    body = {};
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** The challenge of a 401/403 answer, asserting it is not a 5xx. */
export function challengeOf(answer: RawAnswer): Record<string, string> {
  assert.ok(answer.status < 500, `expected a challenge, got HTTP ${answer.status}: ${answer.text}`);
  return challengeParams(answer.headers.get('www-authenticate') ?? undefined);
}

/**
 * A TCP proxy in front of `port`: the revocation stream goes through it, so a test can take the
 * stream down (`cut()`: close every connection and stop listening) while the authorization server,
 * its JWKS and its introspection endpoint stay up.
 */
export interface CuttableProxy {
  url(path: string): string;
  /** Close every connection and stop listening: connecting now fails (ECONNREFUSED). */
  cut(): Promise<void>;
  /** Listen again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((client) => {
    const upstream = createConnection(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  let open = true;
  const cut = async () => {
    if (!open) return;
    open = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    cut,
    async restore() {
      if (open) return;
      await listen(port);
      open = true;
    },
    close: cut,
  };
}
