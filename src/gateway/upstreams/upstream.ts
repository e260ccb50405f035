/**
 * What the gateway forwards to: an MCP server over Streamable HTTP, a stdio process bridged to
 * it, or the in-process demo. Every kind answers one HTTP-shaped exchange with a web Response whose
 * body streams as the upstream produces it.
 */
import type { CallerIdentity } from '../caller.ts';

export interface UpstreamCall {
  method: string;
  /** Headers to send (already filtered: never the client's Authorization). */
  headers: Headers;
  body?: Uint8Array;
  /** Aborted when the client goes away: the upstream request is released. */
  signal: AbortSignal;
  caller: CallerIdentity;
  /** The parsed JSON-RPC messages of a POST (stdio bridges need them, HTTP ignores them). */
  messages?: unknown[];
}

export interface Upstream {
  send(call: UpstreamCall): Promise<Response>;
  close(): Promise<void>;
}

/** `unreachable` → 502, `timeout` (no response headers in time) → 504. */
export class UpstreamError extends Error {
  readonly kind: 'unreachable' | 'timeout' | 'overloaded';
  constructor(kind: 'unreachable' | 'timeout' | 'overloaded', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}
