/**
 * The gateway as an MCP client of its own upstreams: it lists an upstream's tools to keep the
 * manifest current (at start, and after `notifications/tools/list_changed`), independent of any
 * client's session. It speaks through the same Upstream connector as forwarded requests, under an
 * identity of its own.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Application } from '../core/application.ts';
import type { ListedTool } from '../applications/manifest.ts';
import type { CallerIdentity } from './caller.ts';
import { asWebResponse, type Upstream } from './upstreams/upstream.ts';

export const GATEWAY_CLIENT_ID = 'portcullis-gateway';

export function gatewayIdentity(app: Application): CallerIdentity {
  return {
    subject: `gateway:${app.slug}`,
    clientId: GATEWAY_CLIENT_ID,
    scopes: app.scopes.map((s) => s.name),
    authTime: undefined,
    grantId: undefined,
    ip: '127.0.0.1',
  };
}

/** Connect to an upstream through the gateway's connector; `use` runs with the connected client. */
export async function withUpstreamClient<T>(app: Application, upstream: Upstream, use: (client: Client) => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const caller = gatewayIdentity(app);
  const deadline = AbortSignal.timeout(timeoutMs);
  const transport = new StreamableHTTPClientTransport(new URL(app.resource), {
    fetch: async (url, init) => {
      const headers = new Headers(init?.headers);
      const body = typeof init?.body === 'string' ? new TextEncoder().encode(init.body) : undefined;
      const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
      return asWebResponse(await upstream.send({ method: init?.method ?? 'GET', headers, body, signal, caller, messages: body ? [JSON.parse(init!.body as string)] : undefined }));
    },
  });
  const client = new Client({ name: 'portcullis-gateway', version: '1' });
  try {
    await client.connect(transport);
    return await use(client);
  } finally {
    // End the upstream session (DELETE, MCP transports "Session Management"): closing the client
    // does not, and a sessionful upstream (server-everything) kept one session per manifest
    // refresh forever. Stateless upstreams answer 405, which the SDK accepts.
    if (transport.sessionId) await transport.terminateSession().catch(() => {});
    await client.close().catch(() => {});
  }
}

export async function listUpstreamTools(app: Application, upstream: Upstream): Promise<ListedTool[]> {
  return withUpstreamClient(app, upstream, async (client) => {
    const tools: ListedTool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await client.listTools(cursor ? { cursor } : {});
      tools.push(...(result.tools as ListedTool[]));
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return tools;
  });
}
