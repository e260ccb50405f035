/**
 * A small, fast MCP server for the gateway benchmark: the v2 SDK's stateless handler (2025-era
 * requests are answered as one SSE event), with one `echo` tool (read-only) plus TOOLS-1 filler tools for tools/list.
 * Run: node bench/upstream-server.ts <port> [tools]; prints "ready" when listening.
 */
import { createServer } from 'node:http';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';

const port = Number(process.argv[2] ?? 4200);
const toolCount = Number(process.argv[3] ?? 1);

const handler = createMcpHandler(
  () => {
    const server = new McpServer({ name: 'bench-upstream', version: '1' });
    server.registerTool(
      'echo',
      { description: 'Echo the message', inputSchema: z.object({ message: z.string() }), annotations: { readOnlyHint: true } },
      async ({ message }) => ({ content: [{ type: 'text', text: message }] }),
    );
    for (let i = 1; i < toolCount; i++) {
      server.registerTool(
        `tool_${i}`,
        { description: `Filler tool number ${i}`, inputSchema: z.object({ value: z.string() }), annotations: { readOnlyHint: i % 3 === 0, destructiveHint: i % 3 === 1 } },
        async () => ({ content: [{ type: 'text', text: 'ok' }] }),
      );
    }
    return server;
  },
);

createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
  const response = await handler.fetch(
    new Request(`http://127.0.0.1:${port}${req.url}`, { method: req.method, headers, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined }),
  );
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}).listen(port, '127.0.0.1', () => console.log('ready'));
