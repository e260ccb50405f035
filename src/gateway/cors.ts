/**
 * CORS for the MCP endpoint: browser-based MCP clients call it from any origin with a bearer
 * token (never cookies), so every answer — allowed, refused or failed — carries these headers, and
 * a preflight is answered before authentication.
 */
import type { ServerResponse } from 'node:http';

export const CORS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers':
    'authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, mcp-method, mcp-name',
  'access-control-expose-headers': 'www-authenticate, mcp-session-id, mcp-protocol-version, retry-after, ratelimit, ratelimit-policy',
  'access-control-max-age': '600',
};

export function answerPreflight(res: ServerResponse): void {
  res.writeHead(204, CORS).end();
}
