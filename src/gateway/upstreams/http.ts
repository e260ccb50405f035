/**
 * An MCP server over Streamable HTTP. The client's token is replaced by a gateway-minted one; the
 * response streams back as it arrives. Timeouts: response headers must come within `timeoutMs`
 * (else 504); once they have, a stream may stay open as long as both ends want it (no body timeout,
 * so an SSE stream is never cut).
 */
import { Agent, errors, request } from 'undici';
import type { HttpUpstream } from '../../core/application.ts';
import type { UpstreamTokenMinter } from '../upstream-token.ts';
import { upstreamError, type StreamedResponse, type Upstream } from './upstream.ts';

export function createHttpUpstream(config: HttpUpstream, minter: UpstreamTokenMinter): Upstream {
  const agent = new Agent({ headersTimeout: config.timeoutMs, bodyTimeout: 0, connectTimeout: Math.min(config.timeoutMs, 10_000), keepAliveTimeout: 30_000 });
  const audience = config.url;
  return {
    async send(call) {
      const headers = new Headers(call.headers);
      for (const [name, value] of Object.entries(config.headers ?? {})) headers.set(name, value);
      headers.set('authorization', `Bearer ${await minter.mint(call.caller, audience)}`);
      try {
        // undici.request (not fetch): Node streams end to end, no web-stream conversions per request.
        const answer = await request(config.url, {
          method: call.method as 'GET' | 'POST' | 'DELETE',
          headers: Object.fromEntries(headers.entries()),
          body: call.body && call.body.length ? Buffer.from(call.body.buffer, call.body.byteOffset, call.body.byteLength) : undefined,
          signal: call.signal,
          dispatcher: agent,
        });
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
        }
        const response: StreamedResponse = { status: answer.statusCode, headers: responseHeaders, body: answer.body };
        return response;
      } catch (err) {
        if (call.signal.aborted) throw err;
        const cause = (err as { cause?: unknown }).cause ?? err;
        if (cause instanceof errors.HeadersTimeoutError || cause instanceof errors.ConnectTimeoutError) {
          throw upstreamError('timeout', 'the upstream MCP server did not answer in time', { cause });
        }
        throw upstreamError('unreachable', 'the upstream MCP server could not be reached', { cause });
      }
    },
    async close() {
      await agent.close();
    },
  };
}
