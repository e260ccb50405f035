/**
 * Two Portcullis instances behind one URL, as a load balancer would put them: a small round-robin
 * HTTP proxy of the test's own (node:http, each request to the next instance in turn) and two
 * servers on one PostgreSQL schema — optionally one Redis — sharing the root secret, both with the
 * proxy's URL as their public URL. A request can be pinned to one instance with the header
 * `x-test-instance: a|b` (stripped before forwarding), and the proxy remembers which instance
 * answered each request, so a test can show that a flow really crossed from one to the other.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { dropSchema } from '../helpers/databases.ts';
import { loadConfig, type ConfigInput } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startPortcullis, type Running } from '../../src/server/app.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

export type InstanceName = 'a' | 'b';

export interface RoundRobinProxy {
  url: string;
  /** Which instance answered each request, in order, with its path. */
  served: { instance: InstanceName; path: string }[];
  setBackends(backends: Record<InstanceName, number>): void;
  stop(): Promise<void>;
}

export async function startRoundRobinProxy(): Promise<RoundRobinProxy> {
  let backends: Record<InstanceName, number> | undefined;
  let turn = 0;
  const served: RoundRobinProxy['served'] = [];
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const pinned = req.headers['x-test-instance'];
    const instance: InstanceName = pinned === 'a' || pinned === 'b' ? pinned : turn++ % 2 === 0 ? 'a' : 'b';
    if (!backends) return void res.writeHead(503).end();
    const headers = { ...req.headers };
    delete headers['x-test-instance'];
    served.push({ instance, path: req.url ?? '' });
    const upstream = httpRequest({ host: '127.0.0.1', port: backends[instance], method: req.method, path: req.url, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.on('error', () => res.destroy());
      answer.pipe(res);
    });
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    res.on('close', () => upstream.destroy());
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    served,
    setBackends: (next) => void (backends = next),
    async stop() {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Instance {
  name: InstanceName;
  running: Running;
  /** The instance itself, bypassing the proxy. */
  url: string;
}

export interface Pair {
  proxy: RoundRobinProxy;
  /** The first instance, with the test people (ada, owner of `acme`). */
  first: TestServer;
  a: Instance;
  b: Instance;
  schema: string;
  stop(): Promise<void>;
}


function direct(name: InstanceName, running: Running): Instance {
  return { name, running, url: `http://127.0.0.1:${(running.server.address() as AddressInfo).port}` };
}

/** Two instances on `databaseUrl` (a fresh schema), `redisUrl` when given, behind a round-robin proxy. */
export async function startPair(options: { databaseUrl: string; redisUrl?: string; overrides?: ConfigInput }): Promise<Pair> {
  const schema = `pct_inst_${randomBytes(5).toString('hex')}`;
  const proxy = await startRoundRobinProxy();
  const shared: ConfigInput = {
    ...options.overrides,
    databaseUrl: options.databaseUrl,
    publicUrl: proxy.url,
    ...(options.redisUrl ? { redisUrl: options.redisUrl, limits: { keyPrefix: `${schema}:` } } : {}),
  };
  let first: TestServer | undefined;
  try {
    first = await startTestServer(shared, { schema });
    const config = loadConfig({ env: {}, cwd: first.config.dataDir, overrides: { port: 0, dataDir: first.config.dataDir, logLevel: 'silent', ...shared } });
    const second = await startPortcullis(config, { log: silentLogger(), quiet: true, schema });
    const a = direct('a', first);
    const b = direct('b', second);
    proxy.setBackends({ a: Number(new URL(a.url).port), b: Number(new URL(b.url).port) });
    const started = first;
    return {
      proxy,
      first: started,
      a,
      b,
      schema,
      async stop() {
        await second.close();
        await started.stop();
        await proxy.stop();
        await dropSchema(options.databaseUrl, schema);
      },
    };
  } catch (err) {
    await first?.stop();
    await proxy.stop();
    await dropSchema(options.databaseUrl, schema);
    throw err;
  }
}

/**
 * How long until `check` holds, polling as fast as it answers (no fixed sleeps); fails at the
 * deadline. Returns the milliseconds it took.
 */
export async function timeUntil(check: () => Promise<boolean>, what: string, deadlineMs = 5000): Promise<number> {
  const began = performance.now();
  for (;;) {
    if (await check()) return performance.now() - began;
    if (performance.now() - began > deadlineMs) throw new Error(`${what}: not seen within ${deadlineMs} ms`);
    await sleep(5);
  }
}

/** The pin header: this request goes to that instance. */
export const on = (instance: InstanceName): Record<string, string> => ({ 'x-test-instance': instance });

/** A form POST (OAuth endpoints) through the proxy to one instance; a public client sends its id in the body. */
export async function formOn(pair: Pair, instance: InstanceName, path: string, params: Record<string, string | undefined>): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) body.set(name, value);
  const response = await fetch(`${pair.proxy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...on(instance) }, body });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { unparsed: text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export interface RpcAnswer {
  status: number;
  headers: Headers;
  /** `data.code` of a JSON-RPC error, if the answer is one. */
  code: string | undefined;
  result: Record<string, unknown> | undefined;
  text: string;
}

/** One stateless JSON-RPC request to an application path through one instance. */
export async function rpcOn(pair: Pair, instance: InstanceName, path: string, bearer: string, method: string, params: Record<string, unknown> = {}): Promise<RpcAnswer> {
  const response = await fetch(`${pair.proxy.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', authorization: `Bearer ${bearer}`, ...on(instance) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const text = await response.text();
  const data = (response.headers.get('content-type') ?? '').startsWith('text/event-stream') ? (text.split('\n').find((l) => l.startsWith('data:'))?.slice(5) ?? '') : text;
  let message: { result?: Record<string, unknown>; error?: { data?: { code?: string } } } = {};
  try {
    message = data ? (JSON.parse(data) as typeof message) : {};
  } catch {
    message = {};
  }
  return { status: response.status, headers: response.headers, code: message.error?.data?.code, result: message.result, text };
}

/** tools/call of the demo's `list_projects` (needs demo:read) through one instance. */
export function listProjectsOn(pair: Pair, instance: InstanceName, bearer: string): Promise<RpcAnswer> {
  return rpcOn(pair, instance, '/mcp', bearer, 'tools/call', { name: 'list_projects', arguments: {} });
}
