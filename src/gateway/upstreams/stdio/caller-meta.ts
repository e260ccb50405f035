/**
 * Who is calling, told to a stdio process on every request it receives, in `params._meta` under a
 * namespaced key (MCP 2025-11-25 basic "_meta": a reverse-DNS prefix keeps keys of different
 * parties apart):
 *
 *   "_meta": { "io.portcullis/caller": { "subject": "…", "clientId": "…", "scopes": ["…"] } }
 *
 * The gateway has verified the token this came from; the process receives no token at all (there
 * is none to pass on a pipe, and the client's never leaves the gateway). Whatever a client put
 * under any `io.portcullis/` key is removed first, from every message it sends, so a client cannot
 * speak for someone else.
 */
import type { CallerIdentity } from '../../caller.ts';
import { isObject } from '../../jsonrpc.ts';

export const CALLER_META_KEY = 'io.portcullis/caller';
const RESERVED_PREFIX = 'io.portcullis/';

export interface CallerMeta {
  /** The user (`sub` of the verified token). */
  subject: string;
  /** The OAuth client the user connected with. */
  clientId: string;
  /** The scopes the token carries. */
  scopes: string[];
}

export function callerMeta(caller: CallerIdentity): CallerMeta {
  return { subject: caller.subject, clientId: caller.clientId, scopes: [...caller.scopes] };
}

/** `meta` without keys under our prefix (a client's attempt to speak for the gateway). */
export function withoutReserved(meta: Record<string, unknown>): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) if (!key.startsWith(RESERVED_PREFIX)) rest[key] = value;
  return rest;
}

/**
 * Clean the `_meta` of a message's `params` (requests, notifications) or `result` (responses),
 * applying `rewrite` to what is left. Returns a new message; the original is not changed.
 */
export function rewriteMeta(message: Record<string, unknown>, rewrite: (meta: Record<string, unknown>) => Record<string, unknown> = (m) => m): Record<string, unknown> {
  const field = 'method' in message ? 'params' : 'result' in message ? 'result' : undefined;
  if (!field) return message;
  const holder = message[field];
  if (holder !== undefined && !isObject(holder)) return message;
  const meta = rewrite(withoutReserved(isObject(holder?._meta) ? holder._meta : {}));
  const next: Record<string, unknown> = { ...(holder ?? {}) };
  if (Object.keys(meta).length) next._meta = meta;
  else delete next._meta;
  if (holder === undefined && !Object.keys(next).length) return message;
  return { ...message, [field]: next };
}
