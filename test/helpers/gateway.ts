/**
 * Real MCP servers behind the gateway, for the gateway's tests:
 *
 * - `startEverything()`: `@modelcontextprotocol/server-everything` (written by others, installed
 *   from npm) over Streamable HTTP on a free port — sessions, the GET stream, resumability with an
 *   event store, progress, tasks; protocol up to 2025-11-25 (SDK v1).
 * - `startFixtureMcp()`: a tiny MCP server of our own on the v2 SDK (`createMcpHandler`, both
 *   protocol eras: 2025 stateless and 2026-07-28) whose catalogue a test changes while it runs:
 *   paginated `tools/list`, tools that report progress, a tool that changes the catalogue and says
 *   so with `notifications/tools/list_changed`. It records every HTTP request it receives
 *   (headers, body, and whether the request was abandoned before its answer finished), and a test
 *   can take over the answer to inject faults.
 * - Applications, tokens and raw Streamable HTTP exchanges against the gateway.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMcpHandler, Server } from '@modelcontextprotocol/server';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import type { ApplicationDefinition } from '../../src/core/application.ts';
import type { ConfigInput } from '../../src/core/config.ts';
import { signIn, type TokenSet } from '../guard/sign-in.ts';
import { createMcpClient, type McpClientOptions, type McpTestClient } from './mcp-clients.ts';
import type { ServerTarget } from './authz.ts';
import { startTestServer, type TestServer } from './server.ts';

// ---------------------------------------------------------------------------------------------
// Small things

/** Poll `check` until it returns a value other than undefined/false, or fail at the deadline. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function listenOnFreePort(server: HttpServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listenOnFreePort(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------
// server-everything

export interface SpawnedServer {
  /** The MCP endpoint, e.g. http://127.0.0.1:PORT/mcp */
  url: string;
  /** What it wrote to stderr and stdout so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

const everythingEntry = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');

/** `server-everything streamableHttp` on a free port (it takes the port from $PORT, logs to stderr). */
export async function startEverything(): Promise<SpawnedServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, [everythingEntry, 'streamableHttp'], {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ready = await new Promise<boolean>((resolve) => {
      const check = () => {
        if (/listening on port/i.test(output)) resolve(true);
      };
      child.stderr!.on('data', check);
      child.once('exit', () => resolve(false));
      setTimeout(() => resolve(false), 15_000).unref();
    });
    if (ready) {
      return {
        url: `http://127.0.0.1:${port}/mcp`,
        output: () => output,
        stop: () => stopChild(child),
      };
    }
    await stopChild(child);
    // Another process took the port between our probe and its listen: try another one.
    if (attempt >= 2 || !/EADDRINUSE|already in use/.test(output)) throw new Error(`server-everything did not start:\n${output}`);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
  await exited;
}

// ---------------------------------------------------------------------------------------------
// The fixture MCP server (our own, on the v2 SDK) that records what it receives

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Parsed JSON body, when it was JSON. */
  json: unknown;
  /** The JSON-RPC method(s) of a POST body. */
  rpc: string[];
  /** The JSON-RPC messages of a POST body (a batch's, or the one). */
  messages: Array<{ method?: string; params?: { name?: string } }>;
  /** True once the connection closed before the answer was complete (the gateway let go). */
  aborted: boolean;
  /** True once the answer was completely written. */
  finished: boolean;
}

export interface FixtureTool {
  name: string;
  title?: string;
  description?: string;
  annotations?: Record<string, unknown>;
  inputSchema?: Record<string, unknown>;
}

/** Takes over one request's answer (return true) or leaves it to the MCP server (false). */
export type Interceptor = (request: RecordedRequest, res: ServerResponse, req: IncomingMessage) => boolean | Promise<boolean>;

export interface FixtureMcp {
  url: string;
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[];
  /** Requests carrying the JSON-RPC `method`. */
  received(method: string): RecordedRequest[];
  /** Names of the tools called so far, in order. */
  toolCalls(): string[];
  /** The catalogue (change it freely; the next request sees the change). */
  tools: FixtureTool[];
  /** Tools per tools/list page (undefined: one page). */
  pageSize: number | undefined;
  /** Set (or clear) a fault injector. */
  intercept(interceptor: Interceptor | undefined): void;
  stop(): Promise<void>;
}

const OBJECT_SCHEMA = { type: 'object', properties: {} };

export const READ = { readOnlyHint: true };
export const WRITE = { readOnlyHint: false, destructiveHint: false };
export const DESTRUCTIVE = { readOnlyHint: false, destructiveHint: true };

/**
 * The default catalogue: one tool per default scope (annotation rules), a tool without
 * annotations (destructive by default), and the behaviour tools.
 *  - `echo` (read): echoes `arguments.text`.
 *  - `count` (read): sends `steps` progress notifications `delayMs` apart, then answers.
 *  - `save` (write), `purge` (destructive), `legacy` (no annotations → delete).
 *  - `change-tools` (write): adds `arguments.add` ({name, description}) or re-describes
 *    `arguments.describe` ({name, description}), then sends notifications/tools/list_changed.
 */
export function defaultFixtureTools(): FixtureTool[] {
  return [
    { name: 'echo', description: 'Echo the text back', annotations: READ, inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
    { name: 'count', description: 'Count to steps, reporting progress', annotations: READ, inputSchema: { type: 'object', properties: { steps: { type: 'number' }, delayMs: { type: 'number' } } } },
    { name: 'save', description: 'Save something', annotations: WRITE },
    { name: 'purge', description: 'Delete everything', annotations: DESTRUCTIVE },
    { name: 'legacy', description: 'A tool that says nothing about itself' },
    { name: 'change-tools', description: 'Change the tool catalogue', annotations: WRITE },
  ];
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function rpcMethods(json: unknown): string[] {
  return [json]
    .flat()
    .map((m) => (m && typeof m === 'object' && typeof (m as { method?: unknown }).method === 'string' ? (m as { method: string }).method : undefined))
    .filter((m): m is string => m !== undefined);
}

export async function startFixtureMcp(options: { tools?: FixtureTool[]; pageSize?: number } = {}): Promise<FixtureMcp> {
  let interceptor: Interceptor | undefined;
  const requests: RecordedRequest[] = [];
  const state = { tools: options.tools ?? defaultFixtureTools(), pageSize: options.pageSize };

  const factory = () => {
    const server = new Server({ name: 'portcullis-fixture', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler('tools/list', async (request) => {
      const start = Number(request.params?.cursor ?? 0) || 0;
      const size = state.pageSize ?? state.tools.length;
      const page = state.tools.slice(start, start + size).map((t) => ({ inputSchema: OBJECT_SCHEMA, ...t }));
      const next = start + size < state.tools.length ? String(start + size) : undefined;
      // The catalogue is test data in the wire shape; the SDK's result type is stricter than it needs to be.
      return (next === undefined ? { tools: page } : { tools: page, nextCursor: next }) as never;
    });
    server.setRequestHandler('tools/call', async (request, ctx) => {
      const { name } = request.params;
      const args = (request.params.arguments ?? {}) as Record<string, unknown>;
      if (!state.tools.some((t) => t.name === name)) return { isError: true, content: [{ type: 'text', text: `unknown tool ${name}` }] };
      if (name === 'count') {
        const steps = Number(args.steps ?? 3);
        const delayMs = Number(args.delayMs ?? 0);
        const progressToken = ctx.mcpReq._meta?.progressToken;
        for (let i = 1; i <= steps; i++) {
          await sleep(delayMs, undefined, { signal: ctx.mcpReq.signal }).catch(() => {});
          if (ctx.mcpReq.signal.aborted) break;
          if (progressToken !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: i, total: steps } });
        }
        return { content: [{ type: 'text', text: `counted to ${steps}` }] };
      }
      if (name === 'change-tools') {
        const add = args.add as FixtureTool | undefined;
        const describe = args.describe as { name: string; description: string } | undefined;
        if (add) state.tools.push(add);
        if (describe) state.tools = state.tools.map((t) => (t.name === describe.name ? { ...t, description: describe.description } : t));
        await ctx.mcpReq.notify({ method: 'notifications/tools/list_changed' });
        return { content: [{ type: 'text', text: 'changed' }] };
      }
      return { content: [{ type: 'text', text: name === 'echo' ? String(args.text ?? '') : `${name} done` }] };
    });
    return server;
  };
  const handler = createMcpHandler(factory, { keepAliveMs: 0 });

  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const json = parseJson(body);
    const messages = json === undefined ? [] : ([json].flat() as RecordedRequest['messages']);
    const record: RecordedRequest = { method: req.method!, url: req.url!, headers: req.headers, body, json, rpc: rpcMethods(json), messages, aborted: false, finished: false };
    requests.push(record);
    const abort = new AbortController();
    res.on('finish', () => (record.finished = true));
    res.on('close', () => {
      if (!record.finished) {
        record.aborted = true;
        abort.abort();
      }
    });
    try {
      if (interceptor && (await interceptor(record, res, req))) return;
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      const response = await handler.fetch(
        new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: req.method === 'POST' ? body : undefined, signal: abort.signal }),
      );
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.flushHeaders();
      if (!response.body) return void res.end();
      Readable.fromWeb(response.body as never)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  });
  const port = await listenOnFreePort(http);
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    received: (method) => requests.filter((r) => r.rpc.includes(method)),
    toolCalls: () => requests.flatMap((r) => r.messages.filter((m) => m.method === 'tools/call').map((m) => m.params?.name ?? '')),
    get tools() {
      return state.tools;
    },
    set tools(tools) {
      state.tools = tools;
    },
    get pageSize() {
      return state.pageSize;
    },
    set pageSize(size) {
      state.pageSize = size;
    },
    intercept(next) {
      interceptor = next;
    },
    async stop() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await handler.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Applications and the gateway

/** An application in front of an HTTP MCP server; tools auto-approved unless `autoApprove: false`. */
export function httpApp(slug: string, url: string, extra: Partial<ApplicationDefinition> = {}): ApplicationDefinition {
  return {
    slug,
    name: `Test ${slug}`,
    upstream: { url, timeoutMs: 10_000 },
    autoApprove: true,
    ...extra,
  } as ApplicationDefinition;
}

/** Start Portcullis (on `target`, default SQLite) protecting `applications`. */
export function startGateway(applications: ApplicationDefinition[], overrides: ConfigInput = {}, target?: ServerTarget): Promise<TestServer> {
  const all = { applications, ...overrides } as ConfigInput;
  return target ? target.start(all) : startTestServer(all);
}

export function appUrl(server: TestServer, slug: string): string {
  const app = server.config.applications.find((a) => a.slug === slug);
  return `${server.url}${app?.path ?? `/mcp/${slug}`}`;
}

/** The protected-resource metadata URL the gateway names for an application (RFC 9728 §3.1). */
export function prmUrl(server: TestServer, slug: string): string {
  const url = new URL(appUrl(server, slug));
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname}`;
}

/**
 * Sign `email` in through a fresh dynamically registered public client and get a token for the
 * application (its default scopes unless `scope` says otherwise).
 */
export async function tokenFor(server: TestServer, slug: string, options: { scope?: string; email?: string; clientId?: string } = {}): Promise<TokenSet> {
  return signIn(
    { url: server.url, mcpUrl: appUrl(server, slug), email: options.email ?? server.user.email, password: server.password },
    { scope: options.scope, clientId: options.clientId },
  );
}

/** Approve every tool of an application that waits for review, as an administrator would. */
export async function approveAll(server: TestServer, slug: string): Promise<string[]> {
  const approved: string[] = [];
  for (const tool of await server.store.tools.list(slug)) {
    if (tool.status === 'needs_review' && (await server.store.tools.review(slug, tool.name, 'approved', 'admin@example.com', Math.floor(Date.now() / 1000)))) approved.push(tool.name);
  }
  return approved;
}

/** The real SDK client (v1 or v2) pointed at an application instead of the demo. */
export function sdkClientFor(server: TestServer, slug: string, options: McpClientOptions): Promise<McpTestClient> {
  return createMcpClient({ ...server, mcpUrl: appUrl(server, slug) }, options);
}

// ---------------------------------------------------------------------------------------------
// Raw Streamable HTTP

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Parse a complete SSE body into events (data lines joined, comments dropped). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    const event: SseEvent = { data: '' };
    const data: string[] = [];
    let any = false;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'id') event.id = value;
      else if (field === 'event') event.event = value;
      else continue;
      any = true;
    }
    if (!any) continue;
    event.data = data.join('\n');
    events.push(event);
  }
  return events;
}

export interface Exchange {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON-RPC messages of the answer: the JSON body, or each SSE event's data. */
  messages: any[];
  /** The SSE events, when the answer was a stream. */
  events: SseEvent[];
}

export interface RawOptions {
  token?: string;
  headers?: Record<string, string>;
  sessionId?: string;
  protocolVersion?: string;
  method?: string;
  /** Send this text as the body instead of JSON.stringify(body). */
  raw?: string;
  /** Give up after this long (default 15 s), so a wrongly open stream fails the test instead of hanging it. */
  timeoutMs?: number;
}

/** One complete HTTP exchange with an MCP endpoint (reads the whole answer). */
export async function exchange(url: string, body: unknown, options: RawOptions = {}): Promise<Exchange> {
  const response = await send(url, body, options);
  const text = await response.text();
  return toExchange(response, text);
}

export function send(url: string, body: unknown, options: RawOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.sessionId !== undefined) headers['mcp-session-id'] = options.sessionId;
  if (options.protocolVersion !== undefined) headers['mcp-protocol-version'] = options.protocolVersion;
  const method = options.method ?? 'POST';
  return fetch(url, { method, headers, body: method === 'POST' ? (options.raw ?? JSON.stringify(body)) : undefined, signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) });
}

export function toExchange(response: Response, text: string): Exchange {
  const type = response.headers.get('content-type') ?? '';
  const events = type.startsWith('text/event-stream') ? parseSse(text) : [];
  let messages: any[] = [];
  if (type.startsWith('text/event-stream')) messages = events.filter((e) => e.data).map((e) => JSON.parse(e.data));
  else {
    const json = parseJson(text);
    if (json !== undefined) messages = [json].flat();
  }
  return { status: response.status, headers: response.headers, text, messages, events };
}

/** The answer (result or error) to request `id` in an exchange. */
export function answerTo(ex: Exchange, id: number | string): any {
  const found = ex.messages.find((m) => m && m.id === id && ('result' in m || 'error' in m));
  assert.ok(found, `no answer to ${id} in HTTP ${ex.status}: ${ex.text.slice(0, 500)}`);
  return found;
}

/**
 * Read an SSE response event by event as it arrives. `next()` resolves with the next event (with
 * the time it arrived), or undefined at the end of the stream.
 */
export function sseReader(response: Response) {
  assert.ok(response.body, 'no body');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queue: (SseEvent & { at: number })[] = [];
  let done = false;
  return {
    async next(): Promise<(SseEvent & { at: number }) | undefined> {
      for (;;) {
        if (queue.length) return queue.shift();
        if (done) return undefined;
        const chunk = await reader.read();
        if (chunk.done) {
          done = true;
          buffer += decoder.decode();
        } else buffer += decoder.decode(chunk.value, { stream: true });
        const parts = buffer.split(/\r?\n\r?\n/);
        buffer = done ? '' : parts.pop()!;
        for (const part of parts) for (const event of parseSse(`${part}\n\n`)) queue.push({ ...event, at: Date.now() });
      }
    },
    async cancel(): Promise<void> {
      await reader.cancel().catch(() => {});
    },
  };
}

// JSON-RPC bodies

export const INIT_PARAMS = (protocolVersion: string) => ({
  protocolVersion,
  capabilities: {},
  clientInfo: { name: 'portcullis-gateway-test', version: '1.0.0' },
});

export function initialize(protocolVersion = '2025-11-25', id: number | string = 0) {
  return { jsonrpc: '2.0', id, method: 'initialize', params: INIT_PARAMS(protocolVersion) };
}

export const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };

export function request(method: string, params: Record<string, unknown> = {}, id: number | string = 1) {
  return { jsonrpc: '2.0', id, method, params };
}

export function callTool(name: string, args: Record<string, unknown> = {}, id: number | string = 1, meta?: Record<string, unknown>) {
  return request('tools/call', { name, arguments: args, ...(meta ? { _meta: meta } : {}) }, id);
}

/**
 * A 2025-era session through the gateway: initialize + initialized. Returns the session id the
 * gateway handed out and the negotiated version.
 */
export async function openSession(url: string, token: string, protocolVersion = '2025-11-25'): Promise<{ sessionId: string; protocolVersion: string; init: Exchange }> {
  const init = await exchange(url, initialize(protocolVersion), { token });
  assert.equal(init.status, 200, init.text);
  const sessionId = init.headers.get('mcp-session-id');
  assert.ok(sessionId, 'the gateway returns a session id');
  const negotiated = answerTo(init, 0).result.protocolVersion as string;
  const ack = await exchange(url, initialized, { token, sessionId, protocolVersion: negotiated });
  assert.equal(ack.status, 202, ack.text);
  return { sessionId, protocolVersion: negotiated, init };
}

// ---------------------------------------------------------------------------------------------
// The v1 SDK client with a token in hand (the OAuth dance is proven by the sdkClientFor stories)

export interface V1Connection {
  client: V1Client;
  transport: V1Transport;
  close(): Promise<void>;
}

/**
 * Connect the MCP SDK v1 client to `url` with a bearer token. `protocolVersion` makes it offer an
 * older revision in `initialize` (the SDK itself always offers its latest, 2025-11-25); the
 * server's answer then decides, as it would for an older client. `sessionId` resumes a session
 * (no initialize).
 */
export async function connectV1(url: string, token: string, options: { protocolVersion?: string; sessionId?: string; capabilities?: Record<string, unknown> } = {}): Promise<V1Connection> {
  const transport = new V1Transport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } }, sessionId: options.sessionId });
  if (options.protocolVersion) {
    const send = transport.send.bind(transport);
    transport.send = (message, sendOptions) => {
      const m = message as { method?: string; params?: Record<string, unknown> };
      if (m.method === 'initialize') return send({ ...message, params: { ...m.params, protocolVersion: options.protocolVersion } } as never, sendOptions);
      return send(message, sendOptions);
    };
  }
  const client = new V1Client({ name: 'portcullis-gateway-test', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  await client.connect(transport);
  return {
    client,
    transport,
    close: async () => {
      await client.close().catch(() => {});
    },
  };
}

export interface V2Connection {
  client: V2Client;
  close(): Promise<void>;
}

/** Connect the MCP SDK v2 client to `url` with a bearer token, pinned to protocol 2026-07-28. */
export async function connectV2(url: string, token: string): Promise<V2Connection> {
  const transport = new V2Transport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new V2Client({ name: 'portcullis-gateway-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(transport);
  return {
    client,
    close: async () => {
      await client.close().catch(() => {});
    },
  };
}
