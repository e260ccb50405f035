/**
 * What the gateway forwards to: an MCP server over Streamable HTTP, a stdio process bridged to
 * it, or the in-process demo. Every kind answers one HTTP-shaped exchange with a web Response whose
 * body streams as the upstream produces it.
 */
import { Readable as ReadableNode, type Readable } from 'node:stream';
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

/** An answer whose body is a Node stream (cheaper than a web Response on the hot path). */
export interface StreamedResponse {
  status: number;
  headers: Headers;
  body: Readable | null;
}

export interface Upstream {
  send(call: UpstreamCall): Promise<Response | StreamedResponse>;
  close(): Promise<void>;
}

/** A web Response for callers that want one (the probe's MCP client). */
export function asWebResponse(answer: Response | StreamedResponse): Response {
  if (answer instanceof Response) return answer;
  const body = answer.body ? (ReadableNode.toWeb(answer.body) as ReadableStream<Uint8Array>) : null;
  return new Response(answer.status === 204 || answer.status === 304 ? null : body, { status: answer.status, headers: answer.headers });
}

/** The body as a Node stream, whatever kind of answer it came in. */
export function nodeBody(answer: Response | StreamedResponse): Readable | null {
  if (answer instanceof Response) return answer.body ? ReadableNode.fromWeb(answer.body as never) : null;
  return answer.body;
}

/** `unreachable` → 502, `timeout` (no response headers in time) → 504. */
export class UpstreamError extends Error {
  readonly kind: 'unreachable' | 'timeout' | 'overloaded';
  constructor(kind: 'unreachable' | 'timeout' | 'overloaded', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}
