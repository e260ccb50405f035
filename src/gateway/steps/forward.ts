/**
 * Forward to the upstream (upstreams/: HTTP with the gateway's own token, a stdio process, or the
 * built-in demo): the judged messages serialized again — never the client's bytes —, only the
 * headers an upstream may see, and the upstream's own session and event ids. An upstream that
 * cannot be reached is 502, one too slow 504, a full process pool 503; one that answers with a
 * server error is 502 (its 503 stays 503 with its Retry-After, so clients back off), as a JSON-RPC
 * error with the request's id — never the upstream's error page, which may carry stack traces or
 * internal names.
 */
import { isPortcullisError, PortcullisError } from '../../core/errors.ts';
import { requestHeader, type AuthenticatedRequest, type StepDeps, type StepResult } from '../context.ts';
import { firstId, serializeBody } from '../jsonrpc.ts';
import { refuse } from '../refusals.ts';
import { isUpstreamFailure, nodeBody, upstreamError, type StreamedResponse } from '../upstreams/upstream.ts';

/** Request headers an upstream may see. Never Authorization, cookies, or hop-by-hop headers. */
const FORWARD_REQUEST_HEADERS = ['content-type', 'accept', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'user-agent'];

function forwardHeaders(ctx: AuthenticatedRequest): Headers {
  const headers = new Headers();
  for (const name of FORWARD_REQUEST_HEADERS) {
    const value = requestHeader(ctx.req, name);
    if (value !== undefined) headers.set(name, value);
  }
  if (ctx.upstreamSessionId !== undefined) headers.set('mcp-session-id', ctx.upstreamSessionId);
  if (ctx.upstreamEventId !== undefined) headers.set('last-event-id', ctx.upstreamEventId);
  return headers;
}

/** What the client hears of a connector's failure: its code (502, 504, 503), in words of its own. */
function unreachable(err: unknown): PortcullisError {
  if (!isUpstreamFailure(err) || !isPortcullisError(err)) return upstreamError('unreachable', 'the MCP server is unavailable', { cause: err });
  const message = err.code === 'upstream_timeout' ? 'the MCP server did not answer in time' : 'the MCP server is unavailable';
  return new PortcullisError(err.code, message, { rule: err.rule, cause: err });
}

/**
 * An upstream that answers with a server error is the gateway's 502 (503 stays 503 with its
 * Retry-After, so clients back off) — never the upstream's error page, which may carry stack
 * traces or internal names.
 */
function failed(ctx: AuthenticatedRequest, response: Response | StreamedResponse): StepResult {
  const kind = response.status === 503 ? 'overloaded' : 'unreachable';
  const retryAfter = response.headers.get('retry-after');
  const headers: Record<string, string> = retryAfter ? { 'retry-after': retryAfter } : {};
  return refuse(ctx, upstreamError(kind, 'the MCP server failed', { cause: `upstream answered ${response.status}` }), { id: firstId(ctx.messages), headers });
}

export async function forward(ctx: AuthenticatedRequest, deps: StepDeps): Promise<StepResult> {
  const { req, res, app } = ctx;
  const abort = new AbortController();
  // Release the upstream request when the client goes away — not after a normal finish (an abort
  // builds a DOMException and tears down the upstream exchange for nothing).
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const body = req.method === 'POST' ? serializeBody(ctx) : undefined;
  let response: Response | StreamedResponse;
  try {
    response = await deps.upstreamFor(app).send({ method: req.method!, headers: forwardHeaders(ctx), body, signal: abort.signal, caller: ctx.caller, messages: ctx.messages });
  } catch (err) {
    if (abort.signal.aborted) return 'answered';
    return refuse(ctx, unreachable(err), { id: firstId(ctx.messages) });
  }
  // Take the body now and listen for its errors at once: the client may leave (and the upstream
  // request be aborted) while the steps after this await, and an unheard stream error would crash.
  const answer = nodeBody(response);
  answer?.on('error', () => {
    if (!res.writableEnded) res.destroy();
  });
  ctx.upstream = { response, body: answer };
  if (response.status >= 500) {
    answer?.destroy();
    return failed(ctx, response);
  }
  const ok = response.status >= 200 && response.status < 300;
  if (req.method === 'DELETE' && ctx.sessionId !== undefined && ok) await deps.bindings.endSession(app.slug, ctx.sessionId);
  return 'continue';
}
