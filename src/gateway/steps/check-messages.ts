/**
 * Every message of a POST body must be a JSON-RPC 2.0 message MCP defines (MCP basic protocol,
 * "Messages"; JSON-RPC 2.0 §4–5): a request (`method` and an `id` that is a string or a number —
 * MCP forbids null), a notification (`method` and no `id`), or a response (an `id` and a
 * `result` or an `error`). Anything else is refused with -32600 before policy and before the
 * upstream, because the gateway judges requests only:
 *
 * - a notification carrying a request method (`{"method":"tools/call"}` without an id) would
 *   otherwise pass unjudged, and an upstream that runs it anyway would run a tool nobody checked;
 *   every notification a client may send is a `notifications/*` method, so only those pass;
 * - a nested array, a bare value, or an object that is none of the three would otherwise be
 *   forwarded for the upstream to interpret as it likes.
 */
import { PortcullisError } from '../../core/errors.ts';
import type { AuthenticatedRequest, StepResult } from '../context.ts';
import { isObject, RpcError, type JsonRpcId } from '../jsonrpc.ts';
import { refuse } from '../refusals.ts';

export interface InvalidMessage {
  code: typeof RpcError.INVALID_REQUEST;
  message: string;
  /** The offending message's id, when it has a usable one. */
  id: JsonRpcId;
}

function invalid(message: string, id: unknown = null): InvalidMessage {
  return { code: RpcError.INVALID_REQUEST, message, id: typeof id === 'string' || typeof id === 'number' ? id : null };
}

/** The first message that is not an MCP JSON-RPC message, or undefined when all are. */
export function checkMessages(messages: readonly unknown[]): InvalidMessage | undefined {
  for (const message of messages) {
    if (!isObject(message)) return invalid('Invalid Request: not a JSON-RPC message object');
    if (message.jsonrpc !== '2.0') return invalid('Invalid Request: jsonrpc must be "2.0"', message.id);
    const hasId = Object.hasOwn(message, 'id');
    if (hasId && typeof message.id !== 'string' && typeof message.id !== 'number') return invalid('Invalid Request: id must be a string or a number');
    if (Object.hasOwn(message, 'method')) {
      if (typeof message.method !== 'string') return invalid('Invalid Request: method must be a string', message.id);
      if (!hasId && !message.method.startsWith('notifications/')) return invalid(`Invalid Request: ${message.method} must be a request (with an id), not a notification`);
      if (message.params !== undefined && !isObject(message.params)) return invalid('Invalid Request: params must be an object', message.id);
      continue;
    }
    if (!hasId || (!Object.hasOwn(message, 'result') && !Object.hasOwn(message, 'error'))) return invalid('Invalid Request: neither a request, a notification nor a response', message.id);
  }
  return undefined;
}

/** The step: a body with a message that is not MCP's goes no further (-32600, with that message's id). */
export function onlyMcpMessages(ctx: AuthenticatedRequest): StepResult {
  const invalid = checkMessages(ctx.messages);
  if (!invalid) return 'continue';
  return refuse(ctx, new PortcullisError('invalid_request', invalid.message, { rule: 'invalid-message' }), { id: invalid.id });
}
