/**
 * The change feed: how one process tells every process sharing its store that something cached in
 * memory has changed, so none waits for its next poll. Three topics carry everything the caches
 * need: `revocation` (an event just recorded: the revocation list applies it at once), `org` (an
 * organization's members, roles or resources changed: its tree and its API keys are read again;
 * `orgId: null` means "could be any"), `applications` (an application or a tool review changed:
 * the registry checks the store), `connections` (an organization's SSO connections or domains
 * changed: the connection directory reads them again).
 *
 * A feed is a hint, never the record: the store is. A message lost (a listener reconnecting, a
 * Redis restart) is caught by the polling every cache keeps as a safety net, and after every
 * (re)connection the feed says `resumed`, so listeners catch up at once. Every process hears its
 * own messages too — handling a change twice is harmless, and one path for all is simpler.
 */
import type { RevocationKind } from '../store/revocations.ts';

export interface Topics {
  revocation: { kind: RevocationKind; id: string; at: number; expiresAt: number };
  org: { orgId: string | null };
  applications: { slug: string | null };
  /** An organization's SSO connections or domains changed (identity/connection-directory.ts reads them again). */
  connections: { orgId: string | null };
}

export type Topic = keyof Topics;

export type ChangeListener<T extends Topic> = (payload: Topics[T]) => void;

export interface ChangeFeed {
  /** `in-process` (one process), `cluster` (node:cluster workers, through the primary), `postgres`, `redis`. */
  readonly kind: 'in-process' | 'cluster' | 'postgres' | 'redis';
  /** Tell every process (this one included). Never throws, never waits: a lost message is polled for. */
  publish<T extends Topic>(topic: T, payload: Topics[T]): void;
  /** Hear a topic; returns the function that stops hearing it. */
  subscribe<T extends Topic>(topic: T, listener: ChangeListener<T>): () => void;
  /** Hear every (re)connection: messages may have been missed meanwhile, so catch up. */
  onResume(listener: () => void): () => void;
  close(): Promise<void>;
}

const KINDS: ReadonlySet<string> = new Set(['grant', 'token', 'user', 'member', 'key', 'session']);

/** One message on the wire: `{"t": topic, "p": payload}` (PostgreSQL caps a NOTIFY payload at 8000 bytes; ours are small). */
export function encodeChange<T extends Topic>(topic: T, payload: Topics[T]): string {
  return JSON.stringify({ t: topic, p: payload });
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

/**
 * A message from the wire, checked: anything that is not one of ours, well formed, is dropped
 * (a channel is shared with whoever can reach the database or Redis; a bad message must not throw
 * in a listener).
 */
export function decodeChange(raw: string): { topic: Topic; payload: Topics[Topic] } | undefined {
  let message: { t?: unknown; p?: Record<string, unknown> };
  try {
    message = JSON.parse(raw) as typeof message;
  } catch {
    return undefined;
  }
  const p = message?.p;
  if (typeof p !== 'object' || p === null) return undefined;
  switch (message.t) {
    case 'revocation':
      if (!isString(p.kind) || !KINDS.has(p.kind) || !isString(p.id) || !Number.isFinite(p.at) || !Number.isFinite(p.expiresAt)) return undefined;
      return { topic: 'revocation', payload: { kind: p.kind as RevocationKind, id: p.id, at: p.at as number, expiresAt: p.expiresAt as number } };
    case 'org':
      return isNullableString(p.orgId) ? { topic: 'org', payload: { orgId: p.orgId } } : undefined;
    case 'applications':
      return isNullableString(p.slug) ? { topic: 'applications', payload: { slug: p.slug } } : undefined;
    case 'connections':
      return isNullableString(p.orgId) ? { topic: 'connections', payload: { orgId: p.orgId } } : undefined;
    default:
      return undefined;
  }
}

/** The listeners of a feed: every implementation hands what it hears to one of these. */
export class Listeners {
  readonly #byTopic = new Map<Topic, Set<(payload: never) => void>>();
  readonly #resumed = new Set<() => void>();
  readonly #onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void) {
    this.#onError = onError;
  }

  subscribe<T extends Topic>(topic: T, listener: ChangeListener<T>): () => void {
    let set = this.#byTopic.get(topic);
    if (!set) this.#byTopic.set(topic, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  onResume(listener: () => void): () => void {
    this.#resumed.add(listener);
    return () => this.#resumed.delete(listener);
  }

  /** A raw message heard: decoded, then handed to the topic's listeners (a listener's failure is logged, not thrown). */
  deliver(raw: string): void {
    const change = decodeChange(raw);
    if (!change) return;
    for (const listener of this.#byTopic.get(change.topic) ?? []) this.#call(() => (listener as (payload: Topics[Topic]) => void)(change.payload));
  }

  resume(): void {
    for (const listener of this.#resumed) this.#call(listener);
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#onError(err);
    }
  }
}
