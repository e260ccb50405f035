/**
 * For the stdio bridge's tests: the real stdio MCP servers (server-everything, server-memory, and
 * our recording fixture), applications around them, the processes the gateway runs (found by
 * their environment in /proc, as an operator would), captured logs, and MCP SDK clients that talk
 * to a bridge directly or to the gateway with a token.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { pino, type Logger } from 'pino';
import type { ApplicationDefinition, StdioUpstream } from '../../../src/core/application.ts';
import { loadConfig, type ConfigInput } from '../../../src/core/config.ts';
import type { CallerIdentity } from '../../../src/gateway/caller.ts';
import type { Upstream } from '../../../src/gateway/upstreams/upstream.ts';
import { startPortcullis } from '../../../src/server/app.ts';
import { testPeople, type TestServer } from '../../helpers/server.ts';

const resolve = createRequire(import.meta.url).resolve;
export const EVERYTHING = resolve('@modelcontextprotocol/server-everything/dist/index.js');
export const MEMORY = resolve('@modelcontextprotocol/server-memory/dist/index.js');
export const FIXTURE = join(import.meta.dirname, 'fixture-server.ts');

/** A stdio upstream definition run by this Node (24: it runs the .ts fixture directly). */
export function stdioUpstream(args: string[], extra: Partial<StdioUpstream> = {}): StdioUpstream {
  return { command: process.execPath, args, env: {}, isolation: 'per-user', idleTimeout: 600, maxProcesses: 50, timeoutMs: 10_000, ...extra };
}

/** An application in front of a stdio server; tools auto-approved unless `extra.autoApprove` is false. */
export function stdioApp(slug: string, upstream: Partial<StdioUpstream> & { args: string[] }, extra: Partial<ApplicationDefinition> = {}): ApplicationDefinition {
  return {
    slug,
    name: `Test ${slug}`,
    upstream: { command: process.execPath, ...upstream },
    autoApprove: true,
    ...extra,
  } as ApplicationDefinition;
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'portcullis-stdio-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------
// Processes, as /proc shows them

export interface ServerProcess {
  pid: number;
  env: Record<string, string>;
}

/** Live processes (not zombies) started for application `slug` (PORTCULLIS_APPLICATION in their environment). */
export function serverProcesses(slug: string): ServerProcess[] {
  const found: ServerProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const raw = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (!raw.includes(`PORTCULLIS_APPLICATION=${slug}\0`)) continue;
      if (!isAlive(Number(entry))) continue;
      const env = Object.fromEntries(raw.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      found.push({ pid: Number(entry), env });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** Running (a zombie is not running: it has exited and waits to be reaped). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** What the recording fixture received, one parsed message per line. */
export function recorded(file: string): any[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Logs

export interface CapturedLog {
  log: Logger;
  lines: Record<string, any>[];
}

export function captureLog(): CapturedLog {
  const lines: Record<string, any>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

/**
 * Portcullis protecting `applications`, like test/helpers/server.ts startTestServer, but logging
 * into `captured` (the gateway's log is where a stdio server's stderr goes).
 */
export async function startGatewayLogged(applications: ApplicationDefinition[], captured: CapturedLog, overrides: ConfigInput = {}): Promise<TestServer> {
  const data = tempDir();
  const config = loadConfig({ env: {}, cwd: data.path, overrides: { port: 0, dataDir: data.path, logLevel: 'debug', applications, ...overrides } as ConfigInput });
  const running = await startPortcullis(config, { log: captured.log, quiet: true });
  // The same people as startTestServer (organization acme, ada its owner).
  return {
    ...running,
    ...(await testPeople(running)),
    async stop() {
      await running.close();
      data.remove();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Clients

export function caller(subject: string, clientId = 'client-a', scopes = ['app:read', 'app:write']): CallerIdentity {
  return { subject, clientId, scopes, authTime: undefined, grantId: undefined, ip: '127.0.0.1' };
}

/**
 * The v2 SDK client talking to a bridge directly (as the gateway's probe does), as `who`.
 * `era`: 'legacy' (initialize, 2025-11-25) or 'modern' (server/discover, 2026-07-28).
 */
export async function bridgeClient(upstream: Upstream, who: CallerIdentity, era: 'legacy' | 'modern' = 'legacy', capabilities: Record<string, unknown> = {}): Promise<V2Client> {
  const transport = new V2Transport(new URL('http://bridge.test/mcp'), {
    fetch: async (url, init) => {
      const headers = new Headers(init?.headers);
      const body = typeof init?.body === 'string' ? new TextEncoder().encode(init.body) : undefined;
      const signal = init?.signal ?? new AbortController().signal;
      // The stdio bridge answers with web Responses.
      return (await upstream.send({ method: init?.method ?? 'GET', headers, body, signal, caller: who, messages: body ? [JSON.parse(init!.body as string)].flat() : undefined })) as Response;
    },
  });
  const client = new V2Client({ name: 'stdio-test', version: '1.0.0' }, { capabilities, ...(era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {}) } as never);
  await client.connect(transport);
  return client;
}

/** The v2 SDK client against the gateway with a token in hand, on protocol 2026-07-28 (server/discover first). */
export async function connectModern(url: string, token: string, capabilities: Record<string, unknown> = {}): Promise<V2Client> {
  const transport = new V2Transport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new V2Client({ name: 'stdio-test', version: '1.0.0' }, { capabilities, versionNegotiation: { mode: 'auto' } } as never);
  await client.connect(transport);
  if (client.getProtocolEra() !== 'modern') throw new Error(`the v2 client fell back to the ${client.getProtocolEra()} era`);
  return client;
}

/** The text of a tool result's first content block. */
export function textOf(result: unknown): string {
  return ((result as { content: { text?: string }[] }).content[0]?.text ?? '') as string;
}

export type { V1Client, V2Client };
