/**
 * A stdio MCP server as a gateway upstream: the bridge answers MCP Streamable HTTP exchanges (as
 * the gateway forwards them) with child processes speaking newline-delimited JSON-RPC.
 *
 *   POST    one message or a batch. 2025-era: `initialize` opens a session (answered from the
 *           process's cached initialize result, `Mcp-Session-Id` minted here); everything else
 *           needs that session. 2026-07-28: requests carrying the `_meta` envelope are served
 *           without a session; `server/discover` is answered here. Answers stream as SSE when
 *           the client accepts it, else JSON.
 *   GET     the session's stream of server messages, resumable with `Last-Event-ID` (405 for a
 *           2026-07-28 client, which has no such stream).
 *   DELETE  ends the session.
 *
 * (POST: post.ts, by era modern.ts and legacy.ts; GET and DELETE: session-requests.ts; the
 * processes and sessions one upstream holds: bridge.ts; the bridge's own error answers: answers.ts.)
 *
 * Which process serves a request: `isolation: "per-user"` (default) gives each user (the token's
 * `sub`) a process of their own, started with their identity in its environment (env.ts);
 * `"shared"` runs one process for everyone. Either way every request carries the caller in
 * `_meta["io.portcullis/caller"]` (caller-meta.ts) and never a token. Lifecycle, routing and
 * isolation: slot.ts; cap and idle sweep: pool.ts; protocol eras: eras.ts; server requests for
 * 2026-07-28 clients: input-required.ts.
 *
 * `timeoutMs` bounds the wait for the first message of an answer (a response, or progress,
 * logging or a server request for it): a process on a pipe cannot say sooner that it has started.
 * A tool that works longer than that in silence should report progress, or the application should
 * raise `timeoutMs`. Once an answer has begun it lasts as long as the request does.
 */
import type { Logger } from 'pino';
import type { StdioUpstream } from '../../../core/application.ts';
import { upstreamError, type Upstream } from '../upstream.ts';
import { methodNotAllowed } from './answers.ts';
import { Bridge } from './bridge.ts';
import { post } from './post.ts';
import { endSession, listen } from './session-requests.ts';
import type { BackoffPolicy } from './slot.ts';

export { CALLER_META_KEY } from './caller-meta.ts';
export { IDENTITY_ENV } from './env.ts';

export interface StdioUpstreamOptions {
  /** The application's slug (told to the process, and in log lines). */
  application: string;
  log: Logger;
  /** Restart delays after crashes (default 500 ms doubling to 30 s; reset after 60 s of uptime). */
  backoff?: Partial<BackoffPolicy>;
  /** How often idle processes and stale sessions are looked for (default: a quarter of idleTimeout, 250 ms … 10 s). */
  sweepMs?: number;
  /** A session unused this long is forgotten (default 24 h, as the gateway's own sessions). */
  sessionTtlMs?: number;
  /**
   * How long a new process may take to start and answer `initialize` (default: timeoutMs, at least
   * 30 s — starting can mean a package download, which a request timeout is not meant for).
   */
  startupTimeoutMs?: number;
}

export interface StdioBridge extends Upstream {
  /** The processes running now: their key (`user:<sub>` or `shared`) and pid. */
  processes(): { key: string; pid: number }[];
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

export function createStdioUpstream(config: StdioUpstream, options: StdioUpstreamOptions): StdioBridge {
  const idleMs = config.idleTimeout * 1000;
  const bridge = new Bridge(config, {
    application: options.application,
    log: options.log,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    sweepMs: options.sweepMs ?? Math.min(10_000, Math.max(250, idleMs / 4)),
    sessionTtlMs: options.sessionTtlMs ?? 24 * 3600 * 1000,
    startupTimeoutMs: options.startupTimeoutMs ?? Math.max(config.timeoutMs, 30_000),
  });
  return {
    async send(call) {
      if (bridge.closed) throw upstreamError('unreachable', 'the stdio upstream is closed');
      switch (call.method) {
        case 'POST':
          return post(bridge, call);
        case 'GET':
          return listen(bridge, call);
        case 'DELETE':
          return endSession(bridge, call);
        default:
          return methodNotAllowed();
      }
    },
    processes: () => bridge.processes(),
    close: () => bridge.close(),
  };
}
