/**
 * MCP 2026-07-28 transport (SEP-2243): `Mcp-Method` and `Mcp-Name` headers let proxies route
 * without reading the body, so they must say what the body says. A request whose headers disagree
 * with its body is refused with 400 / -32020 before anything reaches the upstream — otherwise a
 * component deciding on headers and one deciding on the body could be played against each other.
 */
import { PortcullisError } from '../../core/errors.ts';
import { requestHeader, type AuthenticatedRequest, type StepResult } from '../context.ts';
import { firstId, isObject, isRequest, RpcError } from '../jsonrpc.ts';
import { refuse } from '../refusals.ts';

/** Which body field `Mcp-Name` mirrors, per method. */
const NAME_SOURCE: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

const SENTINEL = /^=\?base64\?((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)\?=$/;

/** Header values may carry non-ASCII names base64-encoded as `=?base64?…?=`. */
export function decodeHeaderValue(raw: string): string | undefined {
  const value = raw.trim();
  if (!value.startsWith('=?base64?')) return value;
  const match = SENTINEL.exec(value);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  return Buffer.from(decoded, 'utf8').toString('base64') === match[1] ? decoded : undefined;
}

export interface HeaderMismatch {
  code: typeof RpcError.HEADER_MISMATCH;
  message: string;
  data: { mismatch: { header: string; body: string } };
}

export function checkHeaders(headers: { method?: string; name?: string }, messages: unknown[]): HeaderMismatch | undefined {
  if (headers.method === undefined && headers.name === undefined) return undefined;
  // Headers describe one message; a batch cannot be described by them.
  if (messages.length !== 1) return mismatch(headers.method ?? headers.name ?? '', '(batch)');
  const message = messages[0];
  const method = isObject(message) && typeof message.method === 'string' ? message.method : undefined;
  if (headers.method !== undefined && headers.method.trim() !== method) return mismatch(headers.method, method ?? '(no method)');
  if (headers.name === undefined || !method || !isRequest(message)) return undefined;
  const field = NAME_SOURCE[method];
  if (!field) return undefined;
  const decoded = decodeHeaderValue(headers.name);
  if (decoded === undefined) return mismatch(headers.name, '(invalid base64 sentinel)');
  const bodyValue = isObject(message.params) ? message.params[field] : undefined;
  if (typeof bodyValue === 'string' && bodyValue !== decoded) return mismatch(headers.name, bodyValue);
  return undefined;
}

function mismatch(header: string, body: string): HeaderMismatch {
  return {
    code: RpcError.HEADER_MISMATCH,
    message: 'Bad Request: the request headers and body disagree',
    data: { mismatch: { header, body } },
  };
}

/** The step: headers that disagree with the body are refused (-32020, the mismatch in `data`). */
export function headersAgreeWithBody(ctx: AuthenticatedRequest): StepResult {
  const mismatch = checkHeaders({ method: requestHeader(ctx.req, 'mcp-method'), name: requestHeader(ctx.req, 'mcp-name') }, ctx.messages);
  if (!mismatch) return 'continue';
  const err = new PortcullisError('invalid_request', mismatch.message, { rule: 'header-mismatch', detail: mismatch.data });
  return refuse(ctx, err, { id: firstId(ctx.messages) });
}
