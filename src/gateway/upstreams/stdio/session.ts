/**
 * A client session (MCP 2025-11-25 basic/transports §Session Management) as the bridge keeps it:
 * minted by the bridge on `initialize` (the gateway then hides it behind its own id), bound to the
 * user who opened it, and attached to one process slot. Several sessions may share a process.
 *
 * Messages for the session that belong to no open POST (server requests and notifications) go to
 * its GET stream (§Listening for Messages from the Server). Those events carry ids and are kept,
 * bounded, so a client that reconnects with `Last-Event-ID` gets what it missed (§Resumability and
 * Redelivery). POST streams carry no event ids: the v1 SDK client re-opens a stream it has seen an
 * id on whenever that stream ends in a JSON-RPC *error* response, in a loop.
 */
import { randomBytes } from 'node:crypto';
import { EventStream } from './event-stream.ts';

const REPLAY_EVENTS = 200;
const REPLAY_BYTES = 1024 * 1024;
/** How long after its GET stream closed a session keeps events for a reconnect. */
export const REPLAY_KEEP_MS = 10 * 60 * 1000;
const KEEP_ALIVE_MS = 25_000;

export interface SessionInit {
  slotKey: string;
  subject: string;
  clientId: string;
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  now: number;
}

export class BridgeSession {
  readonly id = randomBytes(16).toString('base64url');
  readonly slotKey: string;
  readonly subject: string;
  readonly clientId: string;
  readonly protocolVersion: string;
  readonly capabilities: Record<string, unknown>;
  lastUsed: number;
  /** Resource URIs this session subscribed to (resources/subscribe). */
  readonly subscriptions = new Set<string>();
  #stream: EventStream | undefined;
  /** Only a session that has listened can reconnect with Last-Event-ID: others keep no replay log. */
  #listened = false;
  #closedAt = 0;
  #seq = 0;
  readonly #log: { seq: number; message: unknown; bytes: number }[] = [];
  #logBytes = 0;

  constructor(init: SessionInit) {
    this.slotKey = init.slotKey;
    this.subject = init.subject;
    this.clientId = init.clientId;
    this.protocolVersion = init.protocolVersion;
    this.capabilities = init.capabilities;
    this.lastUsed = init.now;
  }

  /** Is a GET stream open? */
  get listening(): boolean {
    return this.#stream !== undefined && !this.#stream.closed;
  }

  /** Send on the GET stream (or keep for a reconnecting client). */
  push(message: unknown): void {
    const seq = ++this.#seq;
    if (!this.#listened) return;
    const bytes = JSON.stringify(message).length;
    this.#log.push({ seq, message, bytes });
    this.#logBytes += bytes;
    while (this.#log.length > REPLAY_EVENTS || (this.#logBytes > REPLAY_BYTES && this.#log.length > 1)) this.#logBytes -= this.#log.shift()!.bytes;
    this.#stream?.send(message, String(seq));
  }

  /**
   * Open the GET stream (replacing an earlier one: the client reconnected before we noticed it had
   * gone). With `lastEventId`, first replay what came after it. `onClose` runs when it ends.
   */
  listen(lastEventId: string | undefined, onClose: () => void): EventStream {
    this.#stream?.close();
    const stream: EventStream = new EventStream(() => {
      if (this.#stream === stream) {
        this.#stream = undefined;
        this.#closedAt = Date.now();
      }
      onClose();
    }, KEEP_ALIVE_MS);
    this.#stream = stream;
    this.#listened = true;
    const after = lastEventId !== undefined && /^\d+$/.test(lastEventId) ? Number(lastEventId) : undefined;
    if (after !== undefined) for (const event of this.#log) if (event.seq > after) stream.send(event.message, String(event.seq));
    return stream;
  }

  /** A client gone this long is not coming back for a replay: drop what was kept for it. */
  trimReplay(olderThanMs: number, now: number): void {
    if (this.listening || !this.#log.length || now - this.#closedAt < olderThanMs) return;
    this.#log.length = 0;
    this.#logBytes = 0;
  }

  end(): void {
    this.#stream?.close();
    this.#stream = undefined;
    this.#log.length = 0;
    this.#logBytes = 0;
  }
}
