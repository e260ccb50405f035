/**
 * GET and DELETE on a 2025-era session: the session's stream of server messages, resumable with
 * `Last-Event-ID` (405 for a 2026-07-28 client, which has no such stream), and the session's end.
 */
import type { UpstreamCall } from '../upstream.ts';
import { BAD_REQUEST, methodNotAllowed, rpcError, sessionIdRequired, sessionNotFound } from './answers.ts';
import type { Bridge } from './bridge.ts';
import { isModernVersion } from './eras.ts';

export function listen(bridge: Bridge, call: UpstreamCall): Response {
  const sessionId = call.headers.get('mcp-session-id');
  const header = call.headers.get('mcp-protocol-version');
  if (!sessionId && header && isModernVersion(header)) return methodNotAllowed();
  if (!(call.headers.get('accept') ?? '').includes('text/event-stream')) return rpcError(406, null, BAD_REQUEST, 'Not Acceptable: the client must accept text/event-stream');
  if (!sessionId) return sessionIdRequired();
  const found = bridge.sessionFor(sessionId, call.caller);
  if (!found) return sessionNotFound();
  const { session, slot } = found;
  slot.touch();
  const stream = session.listen(call.headers.get('last-event-id') ?? undefined, () => slot.touch());
  if (call.signal.aborted) stream.close();
  else call.signal.addEventListener('abort', () => stream.close(), { once: true });
  return new Response(stream.body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
}

export function endSession(bridge: Bridge, call: UpstreamCall): Response {
  const sessionId = call.headers.get('mcp-session-id');
  if (!sessionId) return sessionIdRequired();
  const found = bridge.sessionFor(sessionId, call.caller);
  if (!found) return sessionNotFound();
  found.slot.endSession(found.session);
  return new Response(null, { status: 200 });
}
