/**
 * JSON-RPC 2.0 as the gateway sees it: one message or a batch, classified, and the error shapes
 * it answers with. Only what a decision needs is read; everything else passes through untouched.
 */

export type JsonRpcId = string | number | null;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** JSON-RPC and MCP error codes the gateway uses. */
export const RpcError = {
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  /** MCP 2026-07-28: request headers and body disagree (SEP-2243). */
  HEADER_MISMATCH: -32020,
  /** Upstream unreachable, slow or broken (server-defined range). */
  UPSTREAM: -32001,
  /** A policy said no; `data.code` carries the denial code (DESIGN.md "Denial codes"). */
  POLICY: -32003,
} as const;

export function isRequest(message: unknown): message is JsonRpcRequest {
  return isObject(message) && typeof message.method === 'string' && 'id' in message;
}

export function isNotification(message: unknown): message is JsonRpcNotification {
  return isObject(message) && typeof message.method === 'string' && !('id' in message);
}

export function isResponse(message: unknown): message is JsonRpcResponse {
  return isObject(message) && !('method' in message) && 'id' in message && ('result' in message || 'error' in message);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

export interface ParsedBody {
  /** The messages, in order (a single message is a batch of one). */
  messages: unknown[];
  batch: boolean;
}

/**
 * Numbers JSON.parse may not give back as written: 16+ digits in a row (beyond 2^53, or more
 * significant digits than a double holds), exponents, fractions ending in 0, tiny fractions
 * (printed with an exponent), -0. A cheap over-approximation: a match only selects the slower,
 * exact parse.
 */
const INEXACT_NUMBER = /\d[eE]|\.\d*0(?!\d)|\.0{6}|-0(?![.\d])|[\d.]{16}/;

/** Keep a number's source text where the double would not print the same (JSON.rawJSON, ES2026). */
function exactNumbers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && context?.source !== undefined && String(value) !== context.source) {
    return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(context.source);
  }
  return value;
}

/**
 * Parse a POST body; undefined when it is not JSON (the caller answers -32700). Numbers that a
 * double cannot carry exactly keep their source text, so that `serializeBody` gives the upstream
 * the same values the client sent (a 64-bit id in a tool's arguments must not be rounded).
 */
export function parseBody(text: string): ParsedBody | undefined {
  let value: unknown;
  try {
    value = INEXACT_NUMBER.test(text) ? JSON.parse(text, exactNumbers as never) : JSON.parse(text);
  } catch {
    return undefined;
  }
  return Array.isArray(value) ? { messages: value, batch: true } : { messages: [value], batch: false };
}

/**
 * The body the upstream receives: the parsed messages, serialized again — never the client's
 * bytes. What the gateway judged is then exactly what the upstream reads, whatever its parser
 * does with duplicate keys, odd escapes or invalid UTF-8 (JSON.parse keeps the last of duplicate
 * keys; a parser that kept the first would otherwise run a call the gateway never judged).
 */
export function serializeBody(parsed: ParsedBody): Buffer {
  return Buffer.from(JSON.stringify(parsed.batch ? parsed.messages : parsed.messages[0]), 'utf8');
}
