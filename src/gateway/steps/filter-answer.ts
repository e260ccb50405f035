/**
 * Pass the upstream's answer to the client, filtered as it streams (filter-response.ts,
 * stream-response.ts): only the response headers a client may see, its Cache-Control made private
 * (private-cache-control.ts), the upstream's session id swapped for one the gateway minted for
 * this caller (bindings.ts); a JSON body rewritten whole, an event stream event by event, anything
 * else passed as it came.
 */
import type { Readable } from 'node:stream';
import type { AuthenticatedRequest, StepDeps, StepResult } from '../context.ts';
import { CORS } from '../cors.ts';
import { isObject } from '../jsonrpc.ts';
import type { StreamedResponse } from '../upstreams/upstream.ts';
import { endOnRevocation } from './end-on-revocation.ts';
import { requestMethods, type FilterContext } from './filter-response.ts';
import { privateCacheControl } from './private-cache-control.ts';
import { rewriteJsonBody, SseRewriter } from './stream-response.ts';

const FORWARD_RESPONSE_HEADERS = new Set(['content-type', 'mcp-protocol-version', 'cache-control', 'retry-after', 'allow']);

async function answerHeaders(ctx: AuthenticatedRequest, deps: StepDeps, response: Response | StreamedResponse): Promise<Record<string, string>> {
  const headers: Record<string, string> = { ...CORS };
  response.headers.forEach((value, name) => {
    if (FORWARD_RESPONSE_HEADERS.has(name)) headers[name] = name === 'cache-control' ? privateCacheControl(value) : value;
  });
  const upstreamSession = response.headers.get('mcp-session-id');
  if (upstreamSession) {
    // A new session's id is the one the record carries too.
    headers['mcp-session-id'] = ctx.sessionId ??= await deps.bindings.adoptSession(ctx.app.slug, ctx.owner, upstreamSession);
  }
  return headers;
}

function filterContext(ctx: AuthenticatedRequest, deps: StepDeps): FilterContext {
  return {
    app: ctx.app,
    registry: deps.registry,
    bindings: deps.bindings,
    owner: ctx.owner,
    scopes: ctx.token.scopes,
    methods: requestMethods(ctx.messages),
    onToolsChanged: () => deps.refreshManifest(ctx.app),
  };
}

/** The JSON-RPC error code of an answer that is one (the first, in a batch), for the record; parsed only when it may be. */
function rpcErrorCode(text: string): number | undefined {
  if (!text.includes('"error"')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    const first: unknown = Array.isArray(value) ? value.find((m) => isObject(m) && isObject(m.error)) : value;
    return isObject(first) && isObject(first.error) && typeof first.error.code === 'number' ? first.error.code : undefined;
  } catch {
    return undefined;
  }
}

async function passJson(ctx: AuthenticatedRequest, deps: StepDeps, status: number, headers: Record<string, string>, answer: Readable): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  ctx.upstreamError = rpcErrorCode(text);
  const payload = await rewriteJsonBody(filterContext(ctx, deps), text);
  headers['content-length'] = String(Buffer.byteLength(payload));
  ctx.res.writeHead(status, headers).end(payload);
}

function passEvents(ctx: AuthenticatedRequest, deps: StepDeps, status: number, headers: Record<string, string>, answer: Readable): void {
  const { res, app, owner } = ctx;
  res.writeHead(status, headers);
  // Headers go with the first event; a stream that stays quiet gets them after a moment, so
  // the client knows the stream is open (most answers are one event and one write).
  const flush = setTimeout(() => {
    if (!res.destroyed && !res.writableEnded) res.flushHeaders();
  }, 25);
  res.once('close', () => clearTimeout(flush));
  // A stream outlives its request: cut it when the token's grant is revoked (the upstream
  // request is released with it, by forward.ts's 'close' handler).
  endOnRevocation(res, () => deps.verifierFor(app)(ctx.token.token), () => {
    deps.log.info({ event: 'access.denied', app: app.slug, sub: ctx.caller.subject, code: 'token_revoked', rule: 'revocation' }, 'open stream cut: its grant was revoked');
    res.destroy();
  });
  const rewriter = new SseRewriter(filterContext(ctx, deps), (id) => deps.bindings.sealEventId(app.slug, owner, id));
  answer
    .on('error', () => res.destroy())
    .pipe(rewriter)
    .on('error', () => res.destroy())
    .pipe(res);
}

export async function filterAnswer(ctx: AuthenticatedRequest, deps: StepDeps): Promise<StepResult> {
  // Set by forward.ts, the step before.
  const { response, body } = ctx.upstream!;
  const headers = await answerHeaders(ctx, deps, response);
  const contentType = response.headers.get('content-type') ?? '';
  if (!body) ctx.res.writeHead(response.status, headers).end();
  else if (contentType.startsWith('application/json')) await passJson(ctx, deps, response.status, headers, body);
  else if (contentType.startsWith('text/event-stream')) passEvents(ctx, deps, response.status, headers, body);
  else {
    ctx.res.writeHead(response.status, headers);
    body.on('error', () => ctx.res.destroy()).pipe(ctx.res);
  }
  return 'answered';
}
