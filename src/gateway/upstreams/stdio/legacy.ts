/**
 * 2025-era MCP over the bridge: `initialize` opens a session on the caller's process (answered
 * from the process's cached initialize result, `Mcp-Session-Id` minted here), and every other
 * POST needs that session — the caller's own.
 */
import { isNotification, isObject, isRequest, isResponse, RpcError, type JsonRpcRequest } from '../../jsonrpc.ts';
import type { UpstreamCall } from '../upstream.ts';
import { accepted, json, rpcError, sessionIdRequired, sessionNotFound } from './answers.ts';
import type { Bridge } from './bridge.ts';
import { initializeResult, negotiateVersion } from './eras.ts';
import type { Exchange } from './exchange.ts';
import { BridgeSession } from './session.ts';
import type { Slot } from './slot.ts';

async function initialize(bridge: Bridge, call: UpstreamCall, message: JsonRpcRequest): Promise<Response> {
  const slot = bridge.slotFor(call.caller);
  const init = await slot.ready(call.caller);
  const params = isObject(message.params) ? message.params : {};
  const version = negotiateVersion(params.protocolVersion, init.protocolVersion);
  const session = new BridgeSession({
    slotKey: slot.key,
    subject: call.caller.subject,
    clientId: call.caller.clientId,
    protocolVersion: version,
    capabilities: isObject(params.capabilities) ? params.capabilities : {},
    now: Date.now(),
  });
  bridge.addSession(slot, session);
  return json(200, { jsonrpc: '2.0', id: message.id, result: initializeResult(init, version) }, { 'mcp-session-id': session.id });
}

/** Responses to server requests and notifications: nothing to wait for, no process to start. */
function deliver(slot: Slot, session: BridgeSession, message: unknown): void {
  if (isResponse(message)) slot.reply(session, message);
  else if (isNotification(message)) slot.notify(session, message, false);
}

/** A request on the session: subscriptions are counted per session, everything else goes to the process. */
function dispatch(slot: Slot, session: BridgeSession, exchange: Exchange, message: JsonRpcRequest): void {
  const uri = isObject(message.params) && typeof message.params.uri === 'string' ? message.params.uri : undefined;
  if (message.method === 'resources/subscribe' && uri !== undefined) slot.subscribe(session, uri);
  if (message.method === 'resources/unsubscribe' && uri !== undefined && !slot.unsubscribe(session, uri)) {
    // Another session on this process still wants updates for it: the process keeps the subscription.
    exchange.answer({ jsonrpc: '2.0', id: message.id, result: {} });
    return;
  }
  slot.forward(exchange, message);
}

export async function postLegacy(bridge: Bridge, call: UpstreamCall, messages: unknown[], batch: boolean): Promise<Response> {
  const init = messages.find((m): m is JsonRpcRequest => isRequest(m) && m.method === 'initialize');
  if (init) {
    if (messages.length > 1) return rpcError(400, init.id, RpcError.INVALID_REQUEST, 'initialize must be sent on its own');
    return initialize(bridge, call, init);
  }
  const sessionId = call.headers.get('mcp-session-id');
  if (!sessionId) return sessionIdRequired();
  const found = bridge.sessionFor(sessionId, call.caller);
  if (!found) return sessionNotFound();
  const { session, slot } = found;
  const requests = messages.filter(isRequest);
  if (!requests.length) {
    for (const message of messages) deliver(slot, session, message);
    return accepted();
  }
  await slot.ready(call.caller);
  const exchange = bridge.openExchange(call, slot, { session, modern: false, capabilities: session.capabilities, batch });
  exchange.expect(requests.length);
  for (const message of messages) {
    if (isRequest(message)) dispatch(slot, session, exchange, message);
    else deliver(slot, session, message);
  }
  return exchange.response;
}
