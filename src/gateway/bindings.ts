/**
 * Gateway sessions, resumable streams and tasks belong to the (user, client, application) that
 * opened them; anyone else presenting their ids gets 404, as if they did not exist.
 *
 * - Sessions: the gateway mints its own Mcp-Session-Id and keeps the upstream's behind it, so an
 *   upstream id is never exposed and a guessed or stolen gateway id is useless to another caller.
 * - Stream event ids: SSE `id`s are suffixed with a MAC over (application, owner, id); a
 *   Last-Event-ID without a valid MAC for this caller is refused.
 * - Tasks: a task id an upstream returns is recorded with its owner; tasks/* on it by anyone else
 *   is refused, and tasks/list only shows the caller's own.
 */
import type { Store } from '../store/store.ts';
import { createHmac } from 'node:crypto';
import { keyedHash, randomToken, type SecretKey } from '../core/crypto.ts';
import type { RevocationList } from '../revocation/revocation-list.ts';

const SESSION = 'session';
const TASK = 'task';
/** A session unused this long is forgotten (sliding). */
const SESSION_TTL = 24 * 3600;
const TASK_TTL = 7 * 24 * 3600;
/** How long a session lookup is trusted before the store is asked again. */
const SESSION_CACHE_SECONDS = 60;

export class Bindings {
  readonly #store: Store;
  readonly #key: SecretKey;
  readonly #now: () => number;
  readonly #revocations: Pick<RevocationList, 'apply' | 'has'>;
  readonly #sessions = new Map<string, { owner: string; upstream: string; checkedAt: number; key: string }>();

  /**
   * `revocations` carries session ends between processes: a session DELETEd through one instance
   * is an event every instance reads within its poll interval, so none forwards it from its cache.
   */
  constructor(store: Store, key: SecretKey, now: () => number, revocations: Pick<RevocationList, 'apply' | 'has'>) {
    this.#store = store;
    this.#key = key;
    this.#now = now;
    this.#revocations = revocations;
  }

  /** The revocation id of a session: its keyed hash (never the id a client presents), per application. */
  #endedId(app: string, key: string): string {
    return `${app}:${key}`;
  }

  #sessionKey(gatewayId: string): string {
    return keyedHash(this.#key, `gateway-session:${gatewayId}`);
  }

  /** A new gateway session id standing for the upstream's. */
  async adoptSession(app: string, owner: string, upstreamId: string): Promise<string> {
    const gatewayId = randomToken(24);
    const now = this.#now();
    await this.#store.bindings.create({
      kind: SESSION,
      appSlug: app,
      key: this.#sessionKey(gatewayId),
      owner,
      value: upstreamId,
      createdAt: now,
      expiresAt: now + SESSION_TTL,
    });
    this.#sessions.set(`${app} ${gatewayId}`, { owner, upstream: upstreamId, checkedAt: now, key: this.#sessionKey(gatewayId) });
    return gatewayId;
  }

  /** The upstream session id behind a gateway id, or undefined when unknown or someone else's. */
  async resolveSession(app: string, owner: string, gatewayId: string): Promise<string | undefined> {
    const now = this.#now();
    const cacheKey = `${app} ${gatewayId}`;
    const cached = this.#sessions.get(cacheKey);
    if (cached && now - cached.checkedAt < SESSION_CACHE_SECONDS) {
      if (!this.#revocations.has('session', this.#endedId(app, cached.key))) return cached.owner === owner ? cached.upstream : undefined;
      this.#sessions.delete(cacheKey);
      return undefined;
    }
    const binding = await this.#store.bindings.find(SESSION, app, this.#sessionKey(gatewayId), now);
    if (!binding) {
      this.#sessions.delete(cacheKey);
      return undefined;
    }
    await this.#store.bindings.extend(SESSION, app, binding.key, now + SESSION_TTL);
    if (this.#sessions.size > 50_000) this.#sessions.clear();
    this.#sessions.set(cacheKey, { owner: binding.owner, upstream: binding.value ?? '', checkedAt: now, key: binding.key });
    return binding.owner === owner ? (binding.value ?? undefined) : undefined;
  }

  async endSession(app: string, gatewayId: string): Promise<void> {
    this.#sessions.delete(`${app} ${gatewayId}`);
    const key = this.#sessionKey(gatewayId);
    await this.#store.bindings.delete(SESSION, app, key);
    // Other instances may hold the session in their cache: tell them (outlives any cache entry).
    const at = this.#now();
    const event = { kind: 'session' as const, id: this.#endedId(app, key), at, expiresAt: at + SESSION_CACHE_SECONDS * 2 };
    await this.#store.revocations.add(event);
    this.#revocations.apply(event);
  }

  #mac(app: string, owner: string, id: string): string {
    return createHmac('sha256', this.#key).update(`event|${app}|${owner}|${id}`).digest('base64url').slice(0, 22);
  }

  /** `id` → `id.mac`, bound to this caller. */
  sealEventId(app: string, owner: string, id: string): string {
    return `${id}.${this.#mac(app, owner, id)}`;
  }

  /** The upstream event id, or undefined when the id was not issued to this caller. */
  openEventId(app: string, owner: string, sealed: string): string | undefined {
    const dot = sealed.lastIndexOf('.');
    if (dot < 0) return undefined;
    const id = sealed.slice(0, dot);
    return this.#mac(app, owner, id) === sealed.slice(dot + 1) ? id : undefined;
  }

  async bindTask(app: string, owner: string, taskId: string): Promise<void> {
    const now = this.#now();
    // create() never overwrites: a task id already bound keeps its first owner.
    await this.#store.bindings.create({ kind: TASK, appSlug: app, key: taskId, owner, value: null, createdAt: now, expiresAt: now + TASK_TTL });
  }

  async taskOwner(app: string, taskId: string): Promise<string | undefined> {
    return (await this.#store.bindings.find(TASK, app, taskId, this.#now()))?.owner;
  }
}

