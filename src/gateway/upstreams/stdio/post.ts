/**
 * A POST to the bridge: one message or a batch, of one protocol era — 2026-07-28 requests carry
 * the `_meta` envelope (modern.ts), 2025-era ones a session (legacy.ts). Answers stream as SSE when
 * the client accepts it, else JSON.
 */
import { isRequest, RpcError } from '../../jsonrpc.ts';
import type { UpstreamCall } from '../upstream.ts';
import { rpcError } from './answers.ts';
import type { Bridge } from './bridge.ts';
import { envelopeVersion, isModernVersion } from './eras.ts';
import { postLegacy } from './legacy.ts';
import { postModern } from './modern.ts';

/** The POST's messages, and whether they came as a batch (answered with an array). */
function readMessages(call: UpstreamCall): { messages: unknown[]; batch: boolean } | undefined {
  const body = call.body && call.body.length ? call.body : undefined;
  let batch = false;
  if (body) {
    for (const byte of body) {
      if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
      batch = byte === 0x5b; // '['
      break;
    }
  }
  if (call.messages) return { messages: call.messages.flat(), batch: batch || call.messages.length > 1 };
  if (!body) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(body));
    return Array.isArray(value) ? { messages: value, batch: true } : { messages: [value], batch: false };
  } catch {
    return undefined;
  }
}

export async function post(bridge: Bridge, call: UpstreamCall): Promise<Response> {
  const read = readMessages(call);
  if (!read) return rpcError(400, null, RpcError.PARSE, 'Parse error');
  const { messages, batch } = read;
  if (!messages.length) return rpcError(400, null, RpcError.INVALID_REQUEST, 'empty batch');
  const modern = messages.filter((m) => envelopeVersion(m) !== undefined).length;
  if (modern && modern !== messages.length) return rpcError(400, null, RpcError.INVALID_REQUEST, 'a batch cannot mix protocol eras');
  if (modern) return postModern(bridge, call, messages, batch);
  const header = call.headers.get('mcp-protocol-version');
  if (header && isModernVersion(header) && messages.some((m) => isRequest(m) && m.method !== 'initialize')) {
    return rpcError(400, null, RpcError.INVALID_PARAMS, 'a 2026-07-28 request must carry its _meta envelope');
  }
  return postLegacy(bridge, call, messages, batch);
}
