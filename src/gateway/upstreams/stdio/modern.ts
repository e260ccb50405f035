/**
 * MCP 2026-07-28 over the bridge: stateless requests, each carrying its protocol version and the
 * client's capabilities in its `_meta` envelope (eras.ts). `server/discover` is answered here from
 * the process's cached initialize result; `initialize` is not part of this era.
 */
import { errorResponse, isNotification, isObject, isRequest, RpcError, type JsonRpcId } from '../../jsonrpc.ts';
import type { UpstreamCall } from '../upstream.ts';
import { accepted, rpcError } from './answers.ts';
import type { Bridge } from './bridge.ts';
import { discoverResult, envelopeCapabilities, envelopeVersion, isModernVersion, MODERN_VERSIONS, UNSUPPORTED_PROTOCOL_VERSION } from './eras.ts';

/** The first message whose envelope names a version this bridge does not speak, answered. */
function unsupportedVersion(messages: unknown[]): Response | undefined {
  for (const message of messages) {
    const version = envelopeVersion(message)!;
    if (isModernVersion(version)) continue;
    const id = isObject(message) && 'id' in message ? (message.id as JsonRpcId) : null;
    return rpcError(400, id, UNSUPPORTED_PROTOCOL_VERSION, 'Unsupported protocol version', { supported: [...MODERN_VERSIONS], requested: version });
  }
  return undefined;
}

export async function postModern(bridge: Bridge, call: UpstreamCall, messages: unknown[], batch: boolean): Promise<Response> {
  const unsupported = unsupportedVersion(messages);
  if (unsupported) return unsupported;
  const slot = bridge.slotFor(call.caller);
  const requests = messages.filter(isRequest);
  if (!requests.length) {
    for (const message of messages) if (isNotification(message)) slot.notify(undefined, message, true);
    return accepted();
  }
  const init = await slot.ready(call.caller);
  const exchange = bridge.openExchange(call, slot, { modern: true, capabilities: envelopeCapabilities(requests[0]!), batch });
  exchange.expect(requests.length);
  for (const message of messages) {
    if (isRequest(message)) {
      if (message.method === 'server/discover') exchange.answer({ jsonrpc: '2.0', id: message.id, result: discoverResult(init) });
      else if (message.method === 'initialize') exchange.answer(errorResponse(message.id, RpcError.INVALID_REQUEST, 'initialize is not part of protocol 2026-07-28'));
      else slot.forward(exchange, message);
    } else if (isNotification(message)) slot.notify(undefined, message, true);
  }
  return exchange.response;
}
