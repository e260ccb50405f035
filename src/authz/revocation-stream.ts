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
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { SecretKey } from '../core/crypto.ts';
import { PortcullisError } from '../core/errors.ts';
import { sendRefusal } from '../http/refusal.ts';
import { methodNotAllowed, sendEndpointError } from './client-auth.ts';
import { authorizeListener, startingPoint } from './revocation-stream/admission.ts';
import { relayEvents } from './revocation-stream/relay.ts';
import { openEventStream } from './revocation-stream/sse.ts';
import { SequenceWatcher } from './revocation-stream/watcher.ts';

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

export interface RevocationStream {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** End every open stream and stop polling (server shutdown). */
  close(): void;
  /** Open streams right now. */
  readonly open: number;
}

/** An admitted listener: the resource server's client id and the sequence number it has seen. */
interface Listener {
  clientId: string;
  after: number;
}

export function createRevocationStream(deps: RevocationStreamDeps): RevocationStream {
  const keepAliveMs = deps.keepAliveMs ?? 15_000;
  const maxStreams = deps.maxStreams ?? 1000;
  const watcher = new SequenceWatcher(deps);
  const open = new Set<ServerResponse>();
  const endpoint = new URL(`${new URL(deps.issuer).pathname.replace(/\/$/, '')}${REVOCATION_STREAM_PATH}`, deps.issuer).href;

  async function stream(res: ServerResponse, { clientId, after }: Listener): Promise<void> {
    openEventStream(res);
    open.add(res);
    let closed = false;
    res.on('close', () => {
      closed = true;
      open.delete(res);
    });
    deps.log.info({ event: 'revocations.stream.opened', client: clientId, after }, 'revocation stream opened');
    try {
      await relayEvents({ res, store: deps.store, watcher, keepAliveMs, closed: () => closed }, after);
    } catch (err) {
      // The store failed: end the stream, so the consumer knows it is no longer current.
      deps.log.warn({ err, client: clientId }, 'revocation stream ended on a store error');
    } finally {
      open.delete(res);
      if (!res.writableEnded) res.end();
    }
  }

  return {
    async handle(req, res) {
      const listener = await admit(deps, endpoint, req, res, () => open.size >= maxStreams);
      if (listener) await stream(res, listener);
    },
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

/** The listener, or undefined once its refusal was sent (405, 401/403, 400, or 503 when `full`). */
async function admit(deps: RevocationStreamDeps, endpoint: string, req: IncomingMessage, res: ServerResponse, full: () => boolean): Promise<Listener | undefined> {
  try {
    if (req.method !== 'GET') throw methodNotAllowed('GET');
    const clientId = await authorizeListener(deps, req, endpoint);
    const after = startingPoint(req);
    if (full()) {
      // Not an outage: this process's bound on open streams (a client retries after Retry-After).
      sendRefusal(res, 'oauth', new PortcullisError('unavailable', 'too many open revocation streams', { rule: 'stream-limit' }));
      return undefined;
    }
    return { clientId, after };
  } catch (err) {
    sendEndpointError(res, err, deps.log, 'revocation stream', deps.issuer);
    return undefined;
  }
}
