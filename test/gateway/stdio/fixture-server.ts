/**
 * A tiny MCP server over stdio (newline-delimited JSON-RPC, MCP 2025-11-25 §stdio), written by
 * hand so tests control exactly what a process says and see exactly what it receives:
 *
 * - every line it reads is appended to $RECORD_FILE (when set), as received;
 * - it answers `initialize` with $FIXTURE_PROTOCOL (default: the version asked for);
 * - tools:
 *     whoami (read)        → JSON text: the `_meta["io.portcullis/caller"]` it was sent, its
 *                            PORTCULLIS_* environment, its pid, how many initialize /
 *                            notifications/initialized it has seen
 *     slow (read)          → waits `ms` (default 100) in `steps` steps (default 1), a progress
 *                            notification after each step when asked; answers `tag` back
 *     ask (write)          → sends the client the server request `method` with `params`, answers
 *                            with what the client answered (or the error)
 *     ask-later (write)    → answers at once, and `ms` later sends the server request `method`
 *     log (read)           → sends notifications/message `text`, then answers
 *     spam (read)          → writes `lines` lines of `text` to stderr, then answers
 *     changed (write)      → sends notifications/tools/list_changed and resources/updated `uri`
 *     crash (no hints)     → exits with status 3 before answering
 * - resources/subscribe, resources/unsubscribe, ping: `{}`; notifications/cancelled stops a slow call.
 */
import { appendFileSync } from 'node:fs';

const record = process.env.RECORD_FILE;
const counts = { initialize: 0, initialized: 0 };
const cancelled = new Set<unknown>();
const waiting = new Map<unknown, (message: any) => void>();
let nextId = 1;

const READ = { readOnlyHint: true };
const WRITE = { readOnlyHint: false, destructiveHint: false };
const TOOLS = [
  { name: 'whoami', description: 'Who am I serving?', annotations: READ },
  { name: 'slow', description: 'Take a while, with progress', annotations: READ },
  { name: 'ask', description: 'Ask the client something', annotations: WRITE },
  { name: 'ask-later', description: 'Ask the client something, later', annotations: WRITE },
  { name: 'log', description: 'Log a message', annotations: READ },
  { name: 'spam', description: 'Write to stderr', annotations: READ },
  { name: 'changed', description: 'Announce changes', annotations: WRITE },
  { name: 'crash', description: 'Exit without answering' },
].map((tool) => ({ inputSchema: { type: 'object', properties: {} }, ...tool }));

function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function text(value: unknown) {
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] };
}

function ask(method: string, params: unknown): Promise<any> {
  const id = `srv-${nextId++}`;
  send({ jsonrpc: '2.0', id, method, params });
  return new Promise((resolve) => waiting.set(id, resolve));
}

async function call(id: unknown, params: any): Promise<unknown> {
  const args = params?.arguments ?? {};
  const meta = params?._meta ?? {};
  switch (params?.name) {
    case 'whoami': {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PORTCULLIS_')));
      return text({ caller: meta['io.portcullis/caller'] ?? null, env, pid: process.pid, counts, tag: args.tag });
    }
    case 'slow': {
      const steps = Number(args.steps ?? 1);
      const ms = Number(args.ms ?? 100);
      for (let i = 1; i <= steps; i++) {
        await new Promise((r) => setTimeout(r, ms / steps));
        if (cancelled.has(id)) return undefined;
        if (meta.progressToken !== undefined) send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: meta.progressToken, progress: i, total: steps, message: String(args.tag ?? '') } });
      }
      return text(String(args.tag ?? 'done'));
    }
    case 'ask': {
      const answer = await ask(String(args.method), args.params ?? {});
      return text(answer);
    }
    case 'ask-later':
      // Answers at once, then asks `ms` later: a request that belongs to no request in flight.
      setTimeout(() => void ask(String(args.method), args.params ?? {}), Number(args.ms ?? 50));
      return text('will ask');
    case 'log':
      send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: String(args.text ?? '') } });
      return text('logged');
    case 'spam': {
      let lines = '';
      for (let i = 0; i < Number(args.lines ?? 1); i++) lines += `${args.text ?? 'line'} ${i}\n`;
      // Answer once it is all in the pipe, so nothing is lost if the process is stopped next.
      await new Promise((r) => process.stderr.write(lines, r));
      return text('spammed');
    }
    case 'changed':
      send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
      if (args.uri) send({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: args.uri } });
      return text('announced');
    case 'crash':
      process.exit(3);
    default:
      return { isError: true, ...text(`unknown tool ${params?.name}`) };
  }
}

async function handle(message: any): Promise<void> {
  if (message.method === undefined) {
    // A client's answer to one of our requests.
    const resolve = waiting.get(message.id);
    waiting.delete(message.id);
    resolve?.(message.error ? { error: message.error } : message.result);
    return;
  }
  if (!('id' in message)) {
    if (message.method === 'notifications/initialized') counts.initialized++;
    if (message.method === 'notifications/cancelled') cancelled.add(message.params?.requestId);
    return;
  }
  const { id, method, params } = message;
  let result: unknown;
  switch (method) {
    case 'initialize':
      counts.initialize++;
      result = {
        protocolVersion: process.env.FIXTURE_PROTOCOL ?? params.protocolVersion,
        capabilities: { tools: { listChanged: true }, resources: { subscribe: true }, logging: {} },
        serverInfo: { name: 'stdio-fixture', version: '1.0.0' },
        instructions: 'A fixture for the stdio bridge tests.',
      };
      break;
    case 'tools/list':
      result = { tools: TOOLS };
      break;
    case 'tools/call':
      result = await call(id, params);
      if (result === undefined) return; // cancelled: no answer (2025-11-25 cancellation)
      break;
    case 'ping':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      result = {};
      break;
    default:
      send({ jsonrpc: '2.0', id, error: { code: -32601, message: `no method ${method}` } });
      return;
  }
  send({ jsonrpc: '2.0', id, result });
}

let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffer += chunk;
  let newline: number;
  while ((newline = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, newline);
    buffer = buffer.slice(newline + 1);
    if (!line.trim()) continue;
    if (record) appendFileSync(record, `${line}\n`);
    void handle(JSON.parse(line));
  }
});
process.stdin.on('end', () => process.exit(0));
process.stderr.write('stdio fixture ready\n');
