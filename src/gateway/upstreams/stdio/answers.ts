/** The bridge's own HTTP answers, shaped as an MCP SDK server words them (2025-era Streamable HTTP). */
import { errorResponse, type JsonRpcId } from '../../jsonrpc.ts';

/** 2025-era Streamable HTTP errors, as the MCP SDK servers word them. */
export const BAD_REQUEST = -32000;
export const SESSION_NOT_FOUND = -32001;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function rpcError(status: number, id: JsonRpcId, code: number, message: string, data?: unknown): Response {
  return json(status, errorResponse(id, code, message, data));
}

/** Notifications and responses only: nothing to answer (Streamable HTTP: 202 Accepted). */
export function accepted(): Response {
  return new Response(null, { status: 202 });
}

export const sessionIdRequired = () => rpcError(400, null, BAD_REQUEST, 'Bad Request: Mcp-Session-Id header is required');
export const sessionNotFound = () => rpcError(404, null, SESSION_NOT_FOUND, 'Session not found');
export const methodNotAllowed = () => rpcError(405, null, BAD_REQUEST, 'Method not allowed.');
