/**
 * One POST in flight through the bridge: the requests it carried, and the HTTP answer that carries
 * their responses back (MCP 2025-11-25 basic/transports §Sending Messages to the Server).
 *
 * - SSE (the client accepts text/event-stream): each message is written as it comes — progress,
 *   logging, server requests for this exchange, then the responses; the stream ends with the last
 *   response. The HTTP answer starts with the first message.
 * - JSON: the responses, once all have come (a batch is answered with an array). Messages that are
 *   not responses cannot ride on it; the caller sends them elsewhere.
 *
 * A response must start within `timeoutMs` (else upstream_timeout → 504, and the process is
 * told to cancel); once started, an exchange lasts as long as its requests do. When the client
 * goes away first, the exchange is detached: nothing more is written, and what it forwarded is
 * cancelled at the process (a client disconnecting releases the upstream request).
 */
import type { CallerIdentity } from '../../caller.ts';
import type { PortcullisError } from '../../../core/errors.ts';
import { upstreamError, type UpstreamFailure } from '../upstream.ts';
import { EventStream } from './event-stream.ts';

export interface ExchangeOptions {
  id: number;
  caller: CallerIdentity;
  /** The legacy session it belongs to; undefined for a 2026-07-28 (sessionless) request. */
  sessionId: string | undefined;
  modern: boolean;
  /** What the client can do (its session's `initialize`, or this request's `_meta` envelope). */
  capabilities: Record<string, unknown>;
  sse: boolean;
  batch: boolean;
  timeoutMs: number;
  signal: AbortSignal;
  /** No answer began in time: cancel what was forwarded. */
  onTimeout(exchange: Exchange): void;
  /** The client went away before the last response: release what was forwarded. */
  onDetach(exchange: Exchange): void;
  /** Finished, however (forget it). */
  onEnd(exchange: Exchange): void;
}

export class Exchange {
  readonly id: number;
  readonly caller: CallerIdentity;
  readonly sessionId: string | undefined;
  readonly modern: boolean;
  readonly capabilities: Record<string, unknown>;
  readonly response: Promise<Response>;
  #resolve!: (response: Response) => void;
  #reject!: (err: unknown) => void;
  readonly #options: ExchangeOptions;
  #expected = 0;
  #answered = 0;
  #started = false;
  #ended = false;
  #detached = false;
  #stream: EventStream | undefined;
  readonly #json: unknown[] = [];
  readonly #timer: ReturnType<typeof setTimeout>;

  constructor(options: ExchangeOptions) {
    this.#options = options;
    this.id = options.id;
    this.caller = options.caller;
    this.sessionId = options.sessionId;
    this.modern = options.modern;
    this.capabilities = options.capabilities;
    this.response = new Promise<Response>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The gateway may never look at a rejected answer (its client left): do not let that surface.
    this.response.catch(() => {});
    if (options.sse) this.#stream = new EventStream(() => this.#streamClosed());
    this.#timer = setTimeout(() => this.#timeout(), options.timeoutMs);
    this.#timer.unref();
    if (options.signal.aborted) queueMicrotask(() => this.#clientGone());
    else options.signal.addEventListener('abort', () => this.#clientGone(), { once: true });
  }

  /** How many responses this exchange waits for (set before anything is forwarded). */
  expect(count: number): void {
    this.#expected = count;
  }

  /** Still waiting for responses? */
  get open(): boolean {
    return !this.#ended;
  }

  /** Can it carry messages other than responses to the client right now? */
  get live(): boolean {
    return !this.#ended && !this.#detached && this.#stream !== undefined;
  }

  /** A notification or server request belonging to this exchange; false when it cannot carry it. */
  push(message: unknown): boolean {
    if (!this.live) return false;
    return this.#write(message);
  }

  /** A response to one of its requests. */
  answer(message: unknown): void {
    if (this.#ended) return;
    if (!this.#detached) {
      if (this.#stream) this.#write(message);
      else this.#json.push(message);
    }
    this.#count();
  }

  /** One of its requests will get no response (the client cancelled it). */
  skip(): void {
    if (!this.#ended) this.#count();
  }

  /**
   * The process is gone (or never came): when the answer has begun, finish it with `answers`
   * (JSON-RPC errors for what is left); otherwise fail the HTTP exchange (→ 502 / 504).
   */
  fail(kind: UpstreamFailure, answers: unknown[]): void {
    if (this.#ended) return;
    if (!this.#started) {
      this.#abandon(upstreamError(kind, kind === 'timeout' ? 'the stdio MCP server did not answer in time' : 'the stdio MCP server is not running'));
      return;
    }
    for (const answer of answers) if (!this.#detached) this.#write(answer);
    this.#end();
  }

  #count(): void {
    this.#answered++;
    if (this.#answered >= this.#expected) this.#end();
  }

  #write(message: unknown): boolean {
    const ok = this.#stream!.send(message);
    if (ok) this.#start();
    return ok;
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    clearTimeout(this.#timer);
    this.#resolve(new Response(this.#stream!.body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } }));
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    if (this.#stream) {
      // Every request was answered without a message on the stream (all cancelled): an empty stream.
      if (!this.#started && !this.#detached) this.#start();
      this.#stream.close();
    } else if (!this.#started && !this.#detached) {
      this.#started = true;
      const body = this.#options.batch ? this.#json : this.#json[0];
      if (body === undefined) this.#resolve(new Response(null, { status: 202 }));
      else this.#resolve(new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }));
    }
    this.#options.onEnd(this);
  }

  /** End without an HTTP answer: the gateway answers `err` (502/504) itself. */
  #abandon(err: PortcullisError): void {
    this.#detached = true;
    this.#reject(err);
    this.#stream?.close();
    this.#end();
  }

  #timeout(): void {
    if (this.#started || this.#ended) return;
    // Nothing more is written; cancelling what was forwarded may count the exchange down to its end.
    this.#detached = true;
    this.#reject(upstreamError('timeout', 'the stdio MCP server did not answer in time'));
    this.#options.onTimeout(this);
    this.#abandon(upstreamError('timeout', 'the stdio MCP server did not answer in time'));
  }

  #clientGone(): void {
    if (this.#ended || this.#detached) return;
    this.#detached = true;
    if (!this.#started) this.#reject(upstreamError('unreachable', 'the client went away'));
    this.#stream?.close();
    this.#options.onDetach(this);
  }

  #streamClosed(): void {
    // The reader dropped the stream (the gateway's client went away): same as an abort.
    if (!this.#ended) this.#clientGone();
  }
}
