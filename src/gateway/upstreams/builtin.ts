/**
 * The in-process demo MCP server as an upstream: no network hop and no token — the verified
 * identity reaches it directly as the SDK's `authInfo`.
 *
 * The demo keeps its data in Portcullis's own store. When the store is down, the MCP SDK would turn
 * the store's error into a tool result saying "failed: connect ECONNREFUSED 127.0.0.1:5432" — an
 * internal address in front of the MCP client, and a 200. So each POST is watched for outages
 * (core/outage-witness.ts) and its answer, which is short, is read whole before it goes on: after
 * an outage the gateway gets a 503 with Retry-After instead, which it answers as a JSON-RPC error.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';
import { watchForOutage } from '../../core/outage-witness.ts';
import { RETRY_AFTER_SECONDS } from '../../http/refusal.ts';
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
      // A GET stream stays open for as long as the client listens: passed on as it comes.
      if (call.method !== 'POST') return server.fetch(request, { authInfo });
      const { result, outage } = await watchForOutage(async () => {
        const response = await server.fetch(request, { authInfo });
        return { response, body: response.body ? new Uint8Array(await response.arrayBuffer()) : null };
      });
      if (outage) return new Response(null, { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } });
      const { response, body } = result;
      return new Response(body && body.length ? body : null, { status: response.status, headers: response.headers });
    },
    close: () => server.close(),
  };
}
