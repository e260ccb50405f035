/**
 * For the condition and step-up tests: a WWW-Authenticate parser for several challenges, and a tiny MCP server of our own on the v2 SDK
 * (`createMcpHandler`, both protocol eras) over real HTTP, which records every request it receives
 * — so a test can assert that a denied call never reached it and an allowed one did — and an
 * application definition in front of it.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';

export interface FixtureTool {
  name: string;
  annotations: { readOnlyHint?: boolean; destructiveHint?: boolean };
}

/** A read-only, a writing and a destructive tool: scopes <slug>:read, :write, :delete by default. */
export const FIXTURE_TOOLS: FixtureTool[] = [
  { name: 'read_balance', annotations: { readOnlyHint: true } },
  { name: 'move_money', annotations: { readOnlyHint: false, destructiveHint: false } },
  { name: 'close_account', annotations: { readOnlyHint: false, destructiveHint: true } },
];

export interface RecordedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  /** JSON-RPC messages of a POST body. */
  messages: Array<{ method?: string; params?: { name?: string } }>;
}

export interface RecordingUpstream {
  url: string;
  requests: RecordedRequest[];
  /** Names of the tools called so far, in order. */
  toolCalls(): string[];
  close(): Promise<void>;
}

export async function startRecordingUpstream(tools: FixtureTool[] = FIXTURE_TOOLS): Promise<RecordingUpstream> {
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: 'recording-fixture', version: '1.0.0' }, { capabilities: { tools: { listChanged: false } } });
    for (const tool of tools) {
      server.registerTool(
        tool.name,
        { description: `The ${tool.name} fixture tool`, annotations: tool.annotations, inputSchema: z.object({ note: z.string().optional() }) },
        async () => ({ content: [{ type: 'text', text: `${tool.name} done` }] }),
      );
    }
    return server;
  });
  const requests: RecordedRequest[] = [];
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    let messages: RecordedRequest['messages'] = [];
    try {
      messages = body.length ? [JSON.parse(body.toString('utf8'))].flat() : [];
    } catch {
      // not JSON: recorded without messages
    }
    requests.push({ method: req.method ?? 'GET', headers: req.headers, messages });
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
    const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body: body.length ? body : undefined });
    const response = await handler.fetch(request);
    res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
    if (!response.body) return void res.end();
    Readable.fromWeb(response.body as never).pipe(res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    toolCalls: () => requests.flatMap((r) => r.messages.filter((m) => m.method === 'tools/call').map((m) => m.params?.name ?? '')),
    async close() {
      await handler.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parse a WWW-Authenticate value that may hold several challenges (RFC 9110 §11.6.1), each
 * `scheme param="value", …` with quoted-string values (the only form the gateway sends).
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const token = /\s*,?\s*(?:([A-Za-z][\w!#$%&'*+.^`|~-]*)="((?:[^"\\]|\\.)*)"|([A-Za-z][\w!#$%&'*+.^`|~-]*))/gy;
  let match: RegExpExecArray | null;
  while ((match = token.exec(header)) !== null) {
    if (match[3] !== undefined) challenges.push({ scheme: match[3], params: {} });
    else {
      const current = challenges.at(-1);
      assert.ok(current, `auth-param before any scheme in ${header}`);
      current.params[match[1]!] = match[2]!.replace(/\\(.)/g, '$1');
    }
    if (token.lastIndex === header.length) break;
  }
  assert.equal(token.lastIndex, header.length, `unparsable WWW-Authenticate: ${header}`);
  return challenges;
}
