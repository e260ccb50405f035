/**
 * The in-process demo MCP server as an upstream: no network hop and no token — the verified
 * identity reaches it directly as the SDK's `authInfo`.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Upstream } from './upstream.ts';

export interface InProcessServer {
  fetch(request: Request, options: { authInfo: AuthInfo }): Promise<Response>;
  close(): Promise<void>;
}

export function createBuiltinUpstream(server: InProcessServer, resource: string): Upstream {
  return {
    async send(call) {
      const request = new Request(resource, {
        method: call.method,
        headers: call.headers,
        body: call.body && call.body.length ? new Uint8Array(call.body) : undefined,
        signal: call.signal,
      });
      const authInfo: AuthInfo = {
        token: '',
        clientId: call.caller.clientId,
        scopes: call.caller.scopes,
        resource: new URL(resource),
        extra: { sub: call.caller.subject, grantId: call.caller.grantId },
      };
      return server.fetch(request, { authInfo });
    },
    close: () => server.close(),
  };
}
