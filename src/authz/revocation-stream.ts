/**
 * The revocation stream: resource servers (guards in other processes, on other hosts) learn every
 * revocation from the authorization server as it happens, so a revoked grant is refused there
 * within a second instead of at access-token expiry (DESIGN.md "Revoke").
 *
 *   GET <base>/oauth/revocations            Accept: text/event-stream
 *   Authorization: Basic <client_id:client_secret>   (RFC 6749 §2.3.1 encoding)
 *   Last-Event-ID: <seq>   or   ?after=<seq>
 *
 * The caller must be a pre-registered confidential client that is a resource server
 * (`portcullis clients add --resource-server URL`, metadata `portcullis_resources`); anyone else is
 * refused (401 `invalid_client`, 403 `unauthorized_client`). The answer is a Server-Sent Events
 * stream (WHATWG HTML §9.2): first every event recorded after the given sequence number, then
 * `event: ready` (the caller is now current), then each new event as it is recorded, with a
 * comment line as keep-alive. Each revocation is
 *
 *   id: <seq>
 *   event: revocation
 *   data: {"seq":<seq>,"kind":"grant"|"token"|"user"|"member"|"key"|…,"id":"…","at":<unix s>,"expiresAt":<unix s>}
 *
 * so a consumer that reconnects with the last `id` it saw (EventSource does it by itself) misses
 * nothing. A `user` (id: user) or `member` (id: `<org>:<user>`) event ends the tokens issued to
 * them up to `at`; when it happens again (disabled, re-enabled, disabled) it comes again with a
 * new sequence number and a later `at`, replacing the first. Events are read from the Store's sequence (RevocationStore.since), which every process
 * writes to; this process polls it (`pollMs`) and is woken at once by revocations made in-process.
 * Not sent: anything about which client or user a grant belonged to — ids and expiry only.
 */
import type { Store } from '../store/store.ts';
import type { RevocationEvent } from '../store/revocations.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { SecretKey } from '../core/crypto.ts';
import { sendJson } from '../http/io.ts';
import { authenticateClient, OAuthEndpointError, sendEndpointError } from './client-auth.ts';

/** Where the stream is mounted, below the issuer's path. */
export const REVOCATION_STREAM_PATH = '/oauth/revocations';

export interface RevocationStreamDeps {
  provider: () => Provider;
  issuer: string;
  pepper: SecretKey;
  store: Pick<Store, 'revocations' | 'clients'>;
  /** Revocations made in this process, announced at once (so the stream need not wait for a poll). */
  subscribe?: (listener: () => void) => () => void;
  log: Logger;
  /** How often the Store is polled for revocations made by other processes (default 250 ms). */
  pollMs?: number;
  /** Keep-alive comment interval (default 15 s). */
  keepAliveMs?: number;
  /** At most this many open streams (default 1000); more are answered 503. */
  maxStreams?: number;
}

const PAGE = 500;

export interface RevocationStream {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** End every open stream and stop polling (server shutdown). */
  close(): void;
  /** Open streams right now. */
  readonly open: number;
}

/** Parse a sequence number: a non-negative safe integer in decimal, else undefined. */
function parseSeq(value: string | undefined | null): number | undefined {
  if (value === undefined || value === null || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}


/**
 * One shared watcher of the Store's sequence: it wakes every open stream when something new may
 * be there (a poll found a higher seq, or this process just revoked something). Each stream then
 * reads from its own position, so a slow stream never holds up the others.
 */
class SequenceWatcher {
  readonly #deps: RevocationStreamDeps;
  readonly #waiters = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #head = 0;
  #polling = false;

  constructor(deps: RevocationStreamDeps) {
    this.#deps = deps;
  }

  /** Resolves when there may be new events (or at the latest after `ms`). */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.#waiters;
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
      this.#ensureRunning();
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #ensureRunning(): void {
    if (this.#timer) return;
    this.#unsubscribe = this.#deps.subscribe?.(() => this.#wake());
    this.#timer = setInterval(() => void this.#poll(), this.#deps.pollMs ?? 250);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    if (this.#waiters.size === 0) return this.stop();
    this.#polling = true;
    try {
      // Only the newest seq matters here: each stream reads the events themselves.
      for (;;) {
        const events = await this.#deps.store.revocations.since(this.#head, PAGE);
        if (events.length === 0) break;
        this.#head = Number(events[events.length - 1]!.seq);
        this.#wake();
        if (events.length < PAGE) break;
      }
    } catch (err) {
      this.#deps.log.warn({ err }, 'revocation stream: could not poll the store');
      this.#wake(); // streams read the store themselves and end on the error
    } finally {
      this.#polling = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}

export function createRevocationStream(deps: RevocationStreamDeps): RevocationStream {
  const keepAliveMs = deps.keepAliveMs ?? 15_000;
  const maxStreams = deps.maxStreams ?? 1000;
  const watcher = new SequenceWatcher(deps);
  const open = new Set<ServerResponse>();
  const endpoint = new URL(`${new URL(deps.issuer).pathname.replace(/\/$/, '')}${REVOCATION_STREAM_PATH}`, deps.issuer).href;

  /** Pre-registered by an administrator as a resource server (token-endpoints.ts reads the same field). */
  async function isResourceServer(clientId: string): Promise<boolean> {
    const record = await deps.store.clients.find(clientId);
    const resources = record?.kind === 'static' ? record.metadata.portcullis_resources : undefined;
    return Array.isArray(resources) && resources.length > 0;
  }

  /** Only an authenticated resource server may listen. */
  async function authorize(req: IncomingMessage): Promise<string> {
    if (!req.headers.authorization) throw new OAuthEndpointError('invalid_client', 'client authentication required', 401);
    const caller = await authenticateClient(deps.provider(), deps.pepper, {
      authorization: req.headers.authorization,
      form: new URLSearchParams(),
      audiences: [endpoint, deps.issuer],
    });
    if (!caller.authenticated) throw new OAuthEndpointError('invalid_client', 'the revocation stream requires client authentication', 401);
    const clientId = caller.client.clientId;
    if (!(await isResourceServer(clientId))) {
      throw new OAuthEndpointError('unauthorized_client', 'only resource servers may read the revocation stream', 403);
    }
    return clientId;
  }

  function write(res: ServerResponse, text: string): Promise<void> {
    // Respect back-pressure: a consumer that does not read cannot make us buffer without bound.
    if (res.write(text)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.once('drain', done);
      res.once('close', done);
    });
  }

  function frame(event: RevocationEvent): string {
    const seq = Number(event.seq);
    const data = JSON.stringify({ seq, kind: event.kind, id: event.id, at: Number(event.at), expiresAt: Number(event.expiresAt) });
    return `id: ${seq}\nevent: revocation\ndata: ${data}\n\n`;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let clientId: string;
    let after: number;
    try {
      if (req.method !== 'GET') throw new OAuthEndpointError('invalid_request', 'use GET', 405);
      clientId = await authorize(req);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const fromHeader = req.headers['last-event-id'];
      const raw = typeof fromHeader === 'string' && fromHeader !== '' ? fromHeader : url.searchParams.get('after');
      const parsed = raw === null || raw === undefined ? 0 : parseSeq(raw);
      if (parsed === undefined) throw new OAuthEndpointError('invalid_request', 'Last-Event-ID / after must be a sequence number');
      after = parsed;
      if (open.size >= maxStreams) {
        sendJson(res, 503, { error: 'temporarily_unavailable', error_description: 'too many open revocation streams' }, { 'retry-after': '5' });
        return;
      }
    } catch (err) {
      if (err instanceof OAuthEndpointError && err.status === 405) {
        sendJson(res, 405, { error: err.error, error_description: err.message }, { allow: 'GET' });
        return;
      }
      return sendEndpointError(res, err, deps.log, 'revocation stream');
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    open.add(res);
    let closed = false;
    res.on('close', () => {
      closed = true;
      open.delete(res);
    });
    deps.log.info({ event: 'revocations.stream.opened', client: clientId, after }, 'revocation stream opened');

    // Reconnect hint for EventSource consumers (WHATWG HTML §9.2.6 `retry`).
    await write(res, `retry: 1000\n\n`);
    let seq = after;
    let announced = false;
    let lastWrite = Date.now();
    try {
      while (!closed) {
        // Register interest before reading, so an event recorded during the read still wakes us.
        const woken = watcher.wait(Math.max(50, keepAliveMs - (Date.now() - lastWrite)));
        for (;;) {
          const events = await deps.store.revocations.since(seq, PAGE);
          for (const event of events) {
            await write(res, frame(event));
            seq = Number(event.seq);
          }
          if (events.length) lastWrite = Date.now();
          if (events.length < PAGE || closed) break;
        }
        if (!announced) {
          announced = true;
          await write(res, `event: ready\ndata: ${JSON.stringify({ seq, keepAliveMs })}\n\n`);
          lastWrite = Date.now();
        }
        await woken;
        if (!closed && Date.now() - lastWrite >= keepAliveMs - 5) {
          await write(res, ': keep-alive\n\n');
          lastWrite = Date.now();
        }
      }
    } catch (err) {
      // The store failed: end the stream, so the consumer knows it is no longer current.
      deps.log.warn({ err, client: clientId }, 'revocation stream ended on a store error');
    } finally {
      open.delete(res);
      if (!res.writableEnded) res.end();
    }
  }

  return {
    handle,
    close() {
      watcher.stop();
      for (const res of open) res.end();
      open.clear();
    },
    get open() {
      return open.size;
    },
  };
}
