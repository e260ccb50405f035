/**
 * What the gateway forwards to: an MCP server over Streamable HTTP, a stdio process bridged to
 * it, or the in-process demo. Every kind answers one HTTP-shaped exchange with a web Response whose
 * body streams as the upstream produces it.
 */
import { isPortcullisError, PortcullisError } from '../../core/errors.ts';
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

/** How an upstream failed: not reachable (502), no answer in time (504), overloaded (503). */
export type UpstreamFailure = 'unreachable' | 'timeout' | 'overloaded';

const FAILURE_CODE = { unreachable: 'upstream_unavailable', timeout: 'upstream_timeout', overloaded: 'upstream_overloaded' } as const;
const FAILURE_CODES: ReadonlySet<string> = new Set(Object.values(FAILURE_CODE));

/** The error an upstream connector throws: its code (and so its status) says how it failed. */
export function upstreamError(kind: UpstreamFailure, message: string, options: { cause?: unknown } = {}): PortcullisError {
  return new PortcullisError(FAILURE_CODE[kind], message, { rule: `upstream-${kind}`, cause: options.cause });
}

/** Is this an upstream's failure (rather than a refusal of ours)? */
export function isUpstreamFailure(err: unknown): boolean {
  return isPortcullisError(err) && FAILURE_CODES.has(err.code);
}
