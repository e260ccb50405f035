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
  /** A rate limit or quota said no; `data.code` is rate_limited or quota_exceeded, `data.retryAfter` the wait. */
  LIMITED: -32029,
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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/**
 * Whether a JSON text holds a number that JSON.parse would not give back as written: a number
 * token, outside every string, whose double does not print as its source (beyond 2^53, more
 * significant digits than a double holds, exponents, trailing zeros, tiny fractions, -0).
 *
 * `text` must already be known to be valid JSON (the caller parsed it): only then is every `"`
 * outside a string the start of one, and every `-` or digit there the start of a number. Text
 * inside strings — a `"2.0"`, an IP address, a long digit run in an argument — never counts: only
 * numbers need the exact parse, and a scan over strings that matched them sent every request
 * (every body says `"jsonrpc":"2.0"`) through the reviver, which costs a call per value: up
 * to 60 × JSON.parse's time on a 4 MiB body.
 *
 * A loop and not one regex over the whole text: V8's backtracking engine keeps a frame per
 * repetition and throws "Maximum call stack size exceeded" on a few million of them (measured:
 * a string of 8 M escapes, or an 8 MiB array of small numbers), and bodies may be that large.
 */
export function needsExactParse(text: string): boolean {
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // The closing quote is the first one preceded by an even number of backslashes.
      let end = text.indexOf('"', i + 1);
      for (;;) {
        if (end === -1) return true; // not valid JSON after all: let the exact parse decide
        let slash = end - 1;
        while (text.charCodeAt(slash) === BACKSLASH) slash--;
        if ((end - 1 - slash) % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      i = end + 1;
    } else if (c === MINUS || isDigit(c)) {
      const start = i;
      // Up to 15 digits without sign, point or exponent is an integer below 2^53 that prints as
      // written (no leading zeros in valid JSON); anything else is checked by printing it.
      let plainInteger = c !== MINUS;
      i++;
      while (i < length) {
        const d = text.charCodeAt(i);
        if (isDigit(d)) i++;
        else if (d === DOT || d === LOWER_E || d === UPPER_E || d === PLUS || d === MINUS) {
          plainInteger = false;
          i++;
        } else break;
      }
      if (plainInteger && i - start <= 15) continue;
      const token = text.slice(start, i);
      if (String(Number(token)) !== token) return true;
    } else i++;
  }
  return false;
}

/** Keep a number's source text where the double would not print the same (JSON.rawJSON, ES2026). */
function exactNumbers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && context?.source !== undefined && String(value) !== context.source) {
    return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(context.source);
  }
  return value;
}

/**
 * Parse JSON text so that re-serializing it gives back every number as written; undefined when it
 * is not JSON. The plain JSON.parse both validates and, for nearly every message, is the answer;
 * only a text with an inexact number is parsed again with the (much slower) reviver.
 */
export function parseExactJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return needsExactParse(text) ? JSON.parse(text, exactNumbers as never) : value;
}

/**
 * Parse a POST body; undefined when it is not JSON (the caller answers -32700). Numbers that a
 * double cannot carry exactly keep their source text, so that `serializeBody` gives the upstream
 * the same values the client sent (a 64-bit id in a tool's arguments must not be rounded).
 */
export function parseBody(text: string): ParsedBody | undefined {
  const value = parseExactJson(text);
  if (value === undefined) return undefined;
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

/** The id to answer a whole body with: its first message's, or null (JSON-RPC 2.0 §5). */
export function firstId(messages: readonly unknown[]): JsonRpcId {
  const first = messages[0];
  const id = isObject(first) ? first.id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}
