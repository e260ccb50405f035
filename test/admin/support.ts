/**
 * What the admin tests share:
 * - `startToyMcp()`: a tiny MCP server of our own (v2 SDK, low-level `Server` behind
 *   `createMcpHandler`) whose tool catalogue a test changes while it runs, recording every
 *   request it receives (so a test sees exactly what reached the upstream);
 * - `adminClient()`: an administrator signed in through the real sign-in page, calling the admin
 *   API with the session cookie and the CSRF token from `GET /session`, as the console page would;
 * - `mcpCall()`: one JSON-RPC request to a gateway URL with a bearer token, the raw HTTP answer;
 * - `mint()`: an access token signed with the server's active key (the self-test's minting).
 */
import { startFixtureMcp, type FixtureMcp, type FixtureTool } from '../helpers/gateway.ts';
import type { User } from '../../src/store/users.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintSelfTestToken } from '../../src/applications/self-test.ts';
import { hashPassword } from '../../src/core/crypto.ts';
import { TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { UserAgent } from '../helpers/user-agent.ts';

// ---------------------------------------------------------------------------------------------
// A toy MCP server

export const READ_ONLY = { readOnlyHint: true };
export const DESTRUCTIVE = { readOnlyHint: false, destructiveHint: true };

/** The one fixture MCP server (test/helpers/gateway.ts), with a read-only and a destructive tool. */
export type ToyMcp = FixtureMcp;
export type ToyTool = FixtureTool;

export function startToyMcp(
  tools: ToyTool[] = [
    { name: 'lookup', description: 'Look something up', annotations: READ_ONLY },
    { name: 'erase', description: 'Erase everything', annotations: DESTRUCTIVE },
  ],
): Promise<ToyMcp> {
  return startFixtureMcp({ tools });
}

// ---------------------------------------------------------------------------------------------
// The admin API as the console page would call it

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export interface AdminClient {
  user: User;
  ua: UserAgent;
  csrfToken: string;
  /** Call `<base>/admin/api<path>`; JSON body; the CSRF header unless `csrf: null`; extra headers. */
  call(method: string, path: string, body?: unknown, options?: { csrf?: string | null; headers?: Record<string, string> }): Promise<ApiAnswer>;
}

export function apiUrl(server: TestServer, path: string): string {
  return `${server.url}/admin/api${path}`;
}

async function answer(response: { status: number; headers: Headers; body: string }): Promise<ApiAnswer> {
  let body: Record<string, unknown> = {};
  try {
    body = response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {};
  } catch {
    body = { unparsed: response.body };
  }
  return { status: response.status, headers: response.headers, body };
}

/** A browser signed in to Portcullis as `email` (created with `isAdmin` when it does not exist). */
export async function signedInBrowser(server: TestServer, email: string, options: { isAdmin: boolean }): Promise<{ ua: UserAgent; user: User }> {
  const user = (await server.store.users.findByEmail(email)) ?? (await server.store.users.create({ email, passwordHash: await hashPassword(TEST_PASSWORD), isAdmin: options.isAdmin }));
  const ua = new UserAgent();
  const login = await ua.request(`${server.url}/login`);
  const done = await ua.submit(login, '/login', { email, password: TEST_PASSWORD }, () => true);
  if (done.status !== 303) throw new Error(`sign-in failed: HTTP ${done.status}`);
  return { ua, user };
}

export async function adminClient(server: TestServer, email = 'root@example.com', isAdmin = true): Promise<AdminClient> {
  const { ua, user } = await signedInBrowser(server, email, { isAdmin });
  const session = await ua.request(apiUrl(server, '/session'));
  const csrfToken = session.status === 200 ? String((JSON.parse(session.body) as { csrfToken: string }).csrfToken) : '';
  const origin = new URL(server.url).origin;
  return {
    user,
    ua,
    csrfToken,
    async call(method, path, body, options = {}) {
      const headers: Record<string, string> = { origin, ...options.headers };
      const token = options.csrf === undefined ? csrfToken : options.csrf;
      if (token !== null) headers['x-csrf-token'] = token;
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      return answer(await ua.request(apiUrl(server, path), { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) }));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Tokens and MCP requests

export async function mint(server: Pick<TestServer, 'url' | 'engine'>, audience: string, scopes: string[], subject = 'user:test'): Promise<string> {
  return mintSelfTestToken({
    issuer: server.url,
    signingKey: () => server.engine.signingKey(),
    audience,
    scopes,
    now: Math.floor(Date.now() / 1000),
    subject,
    clientId: 'test-client',
  });
}

export interface McpAnswer {
  status: number;
  headers: Headers;
  /** The JSON-RPC message (from JSON or the first SSE data event). */
  message: Record<string, unknown> | undefined;
}

let nextId = 1;

/** One JSON-RPC request (stateless, as 2025 clients of a stateless server send them). */
export async function mcpCall(url: string, token: string | undefined, method: string, params: Record<string, unknown> = {}): Promise<McpAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }) });
  const text = await response.text();
  let message: Record<string, unknown> | undefined;
  const data = (response.headers.get('content-type') ?? '').startsWith('text/event-stream')
    ? text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim())[0]
    : text;
  try {
    message = data ? (JSON.parse(data) as Record<string, unknown>) : undefined;
  } catch {
    message = undefined;
  }
  return { status: response.status, headers: response.headers, message };
}

export function toolNames(answer: McpAnswer): string[] {
  const tools = (answer.message?.result as { tools?: { name: string }[] } | undefined)?.tools ?? [];
  return tools.map((t) => t.name).sort();
}

export function rpcErrorCode(answer: McpAnswer): string | undefined {
  return ((answer.message?.error as { data?: { code?: string } } | undefined)?.data?.code);
}

/** Poll `check` until it returns something other than undefined/false, or fail at the deadline. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** An application in front of `url`, as a definition the admin API accepts. */
export function httpDefinition(slug: string, url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { slug, name: `Toy ${slug}`, upstream: { url, timeoutMs: 5000 }, ...extra };
}
