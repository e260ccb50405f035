/**
 * API keys as bearer credentials (docs/design/identity.md "API keys"): `Authorization: Bearer pcs_…`
 * resolves into the same identity as an access token — subject = the key's creator, client
 * `key:<id>`, the key's organization, and per resource the minimum of the key's level and the
 * creator's current level (a key never exceeds its creator, and shrinks with them); its scopes are
 * the application's scopes whose minimum role's level the key reaches somewhere (never the step-up
 * scope: a key has no sign-in). A key names the applications it may be used with (null = all):
 * elsewhere it is refused like a token for another audience.
 *
 * No database round trip per call: a resolved key is kept in memory by its keyed hash and
 *   - dropped at once when a `key` event (revoked), or a `user` / `member` event (creator disabled,
 *     deleted, removed) reaches this process's revocation list — and those are checked on every
 *     use as well, so a revocation applies within the list's poll interval across processes;
 *   - reloaded after `ttlMs` (default 5 s), which is how a change of the creator's role or
 *     memberships (no revocation event) reaches a key: within 5 s;
 *   - expiry is checked on every use.
 * Unknown keys are remembered briefly too (a flood of random keys is not a flood of queries).
 * Last-used time and IP are written at most once a minute per key, never once per call.
 *
 * Every refusal is a PortcullisError: `invalid_token` (unknown, expired, creator gone),
 * `token_revoked` (revoked), `invalid_audience` (not for this application) — all three are
 * 401 `invalid_token` on the wire (guard/challenge.ts). A key never seen while the database is
 * unreachable is `unavailable` (503); a key already cached keeps its last reading meanwhile.
 */
import type { Store } from '../store/store.ts';
import type { ApiKeyRecord } from '../store/api-keys.ts';
import { isApiKeyShaped } from '../shared/api-key-shape.ts';
import type { Application } from '../core/application.ts';
import { isPortcullisError, PortcullisError } from '../core/errors.ts';
import type { SecretKey } from '../core/crypto.ts';
import type { OrgTree, OrgTrees } from '../identity/org-trees.ts';
import type { VerifiedToken } from '../shared/verify.ts';
import { levelOn, lower, memberLevels, scopesAllowedBy } from '../identity/permissions.ts';
import { hashApiKey } from './format.ts';
import { ALL_RESOURCES, type ResourceLevels } from '../shared/levels.ts';

/** What the resolver needs of the revocation list (guard/revocations.ts RevocationList). */
export interface KeyRevocations {
  has(kind: 'key', id: string): boolean;
  isSubjectRevoked(subject: string, orgId: string | undefined, issuedAt: number | undefined): boolean;
  subscribe(listener: (event: { kind: string; id: string }) => void): () => void;
}

export interface ApiKeyResolverOptions {
  store: Pick<Store, 'apiKeys' | 'users' | 'orgs'>;
  pepper: SecretKey;
  revocations: KeyRevocations;
  trees: OrgTrees;
  /** Epoch seconds. */
  now: () => number;
  /** Epoch milliseconds, for the cache's ages (default Date.now). */
  nowMs?: () => number;
  /** How long a resolved key is reused before its creator's permissions are read again (default 5000 ms). */
  ttlMs?: number;
  /** Failed background writes (last-used), for the logs. */
  onError?: (err: unknown) => void;
}

/** A key as resolved: everything an answer needs, for any application. */
export interface ResolvedKey {
  id: string;
  orgId: string;
  userId: string;
  applications: string[] | null;
  levels: ResourceLevels;
  createdAt: number;
  expiresAt: number | null;
}

type Application_ = Pick<Application, 'slug' | 'resource' | 'scopes' | 'stepUpScope'>;

export const API_KEY_TTL_MS = 5000;
const UNKNOWN_TTL_MS = 5000;
const TOUCH_EVERY = 60;
const MAX_ENTRIES = 10_000;
/** A key that never expires still needs an `exp` for code that wants one (year 9999). */
export const KEY_NEVER_EXPIRES = 253_402_300_799;

function refused(code: 'invalid_token' | 'token_revoked' | 'invalid_audience', rule: string): PortcullisError {
  return new PortcullisError(code, code === 'token_revoked' ? 'the API key has been revoked' : 'the API key is not valid', { rule });
}

/** The key's own levels, before its creator's limit. */
export function keyOwnLevels(record: Pick<ApiKeyRecord, 'permissions' | 'resources'>): ResourceLevels {
  const { permissions, resources } = record;
  if (permissions.mode === 'simple') {
    const level = permissions.level === 'write' ? 'write' : 'read';
    if (resources === null) return { [ALL_RESOURCES]: level };
    return Object.fromEntries(resources.map((id) => [id, level]));
  }
  const levels: ResourceLevels = {};
  for (const [id, level] of Object.entries(permissions.levels)) {
    if (resources === null || resources.includes(id)) levels[id] = level;
  }
  return levels;
}

/**
 * Per resource, the lower of two level maps (each with inheritance down `tree`), as one map with
 * an explicit entry for every resource either reaches — so inheritance over the result gives the
 * same answers — plus `*` when both reach everything (resources created since the tree was read).
 */
export function intersectLevels(a: ResourceLevels, b: ResourceLevels, tree: OrgTree): ResourceLevels {
  const everything = (m: ResourceLevels) => (Object.hasOwn(m, ALL_RESOURCES) ? m[ALL_RESOURCES] : undefined);
  const all = lower(everything(a), everything(b));
  const result: ResourceLevels = all ? { [ALL_RESOURCES]: all } : {};
  const onlyAll = (m: ResourceLevels) => Object.keys(m).every((id) => id === ALL_RESOURCES);
  if (onlyAll(a) && onlyAll(b)) return result;
  for (const id of tree.ids) {
    const level = lower(levelOn(a, id, tree), levelOn(b, id, tree));
    if (level) result[id] = level;
  }
  return result;
}

export class ApiKeyResolver {
  readonly #options: ApiKeyResolverOptions;
  readonly #ttlMs: number;
  /** keyed hash → resolved key and when it was read. */
  readonly #cache = new Map<string, { key: ResolvedKey; loadedAt: number }>();
  readonly #unknown = new Map<string, number>();
  readonly #loading = new Map<string, Promise<ResolvedKey>>();
  /** key id → when last-used was last written (epoch seconds). */
  readonly #touched = new Map<string, number>();
  /** Answers per (hash, application), rebuilt when the key is reloaded. */
  readonly #answers = new WeakMap<ResolvedKey, Map<string, VerifiedToken>>();
  readonly #unsubscribe: () => void;

  constructor(options: ApiKeyResolverOptions) {
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? API_KEY_TTL_MS;
    this.#unsubscribe = options.revocations.subscribe((event) => {
      if (event.kind === 'key') this.#drop((key) => key.id === event.id);
      else if (event.kind === 'user') this.#drop((key) => key.userId === event.id);
      else if (event.kind === 'member') this.#drop((key) => `${key.orgId}:${key.userId}` === event.id);
    });
  }

  stop(): void {
    this.#unsubscribe();
  }

  /** Resolve `key` for `app`: the identity, or a PortcullisError. */
  async resolve(key: string, app: Application_): Promise<VerifiedToken> {
    const resolved = await this.resolveKey(key);
    checkKeyAudience(resolved, app);
    let answers = this.#answers.get(resolved);
    if (!answers) this.#answers.set(resolved, (answers = new Map()));
    let answer = answers.get(app.slug);
    if (!answer) {
      answer = keyIdentity(key, resolved, app);
      answers.set(app.slug, answer);
    }
    return answer;
  }

  /** The key itself, checked (shape, known, not revoked, not expired, creator still there). */
  async resolveKey(key: string): Promise<ResolvedKey> {
    if (!isApiKeyShaped(key)) throw refused('invalid_token', 'api-key-malformed');
    const hash = hashApiKey(this.#options.pepper, key);
    const nowMs = (this.#options.nowMs ?? Date.now)();
    let resolved: ResolvedKey;
    const cached = this.#cache.get(hash);
    if (cached && nowMs - cached.loadedAt < this.#ttlMs) resolved = cached.key;
    else {
      const unknownUntil = this.#unknown.get(hash);
      if (unknownUntil !== undefined && unknownUntil > nowMs) throw refused('invalid_token', 'api-key-unknown');
      try {
        resolved = await this.#load(hash);
      } catch (err) {
        // Refused: forget it. The database briefly unreachable: the key as last read still holds
        // (revocations and expiry are checked below all the same); never known: refused.
        if (isPortcullisError(err) || !cached) {
          this.#cache.delete(hash);
          throw isPortcullisError(err) ? err : new PortcullisError('unavailable', 'the API key cannot be checked right now', { rule: 'api-key-lookup-failed', cause: err });
        }
        resolved = cached.key;
      }
    }
    // Checked on every use, cached or not: revocations heard since, and expiry.
    checkKeyInForce(resolved, this.#options.revocations, this.#options.now());
    return resolved;
  }

  /** Record a use: last-used time and IP, at most once a minute per key (in the background). */
  noteUse(keyId: string, ip: string | null): void {
    const at = this.#options.now();
    const last = this.#touched.get(keyId);
    if (last !== undefined && at - last < TOUCH_EVERY) return;
    if (this.#touched.size >= MAX_ENTRIES) this.#touched.clear();
    this.#touched.set(keyId, at);
    void this.#options.store.apiKeys.touch(keyId, at, ip).catch((err: unknown) => this.#options.onError?.(err));
  }

  /**
   * Read keys of `orgId` (null: every key) again at their next use: their creators' roles or
   * resource memberships may have changed (the change feed says so), which no revocation event
   * carries. Revocations still apply through the list; this only ends the TTL early.
   */
  forgetOrg(orgId: string | null): void {
    this.#drop((key) => orgId === null || key.orgId === orgId);
  }

  #drop(match: (key: ResolvedKey) => boolean): void {
    for (const [hash, entry] of this.#cache) if (match(entry.key)) this.#cache.delete(hash);
  }

  #load(hash: string): Promise<ResolvedKey> {
    let running = this.#loading.get(hash);
    if (running) return running;
    running = this.#read(hash).finally(() => this.#loading.delete(hash));
    this.#loading.set(hash, running);
    return running;
  }

  async #read(hash: string): Promise<ResolvedKey> {
    const { store, now } = this.#options;
    const clockMs = this.#options.nowMs ?? Date.now;
    const startedAt = clockMs();
    const record = await store.apiKeys.byHash(hash);
    if (!record) {
      if (this.#unknown.size >= MAX_ENTRIES) this.#unknown.clear();
      this.#unknown.set(hash, clockMs() + UNKNOWN_TTL_MS);
      throw refused('invalid_token', 'api-key-unknown');
    }
    const key = await resolveKeyRecord({ store, trees: this.#options.trees, now }, record);
    if (record.lastUsedAt !== null && !this.#touched.has(record.id)) this.#touched.set(record.id, record.lastUsedAt);
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear();
    // Stamped with when the read began: a revocation heard during the read drops nothing yet, but
    // the per-use checks above still see it.
    this.#cache.set(hash, { key, loadedAt: startedAt });
    return key;
  }
}

/**
 * A stored key record as the gateway resolves it (the resolver, on a cache miss; the console's
 * policy simulator, which picks a key by id and never has its secret): refused when revoked,
 * expired, or its creator is disabled, deleted or no longer a member; else the creator-capped levels.
 */
export async function resolveKeyRecord(
  deps: { store: Pick<Store, 'users' | 'orgs'>; trees: Pick<OrgTrees, 'get'>; now: () => number },
  record: ApiKeyRecord,
): Promise<ResolvedKey> {
  const { store } = deps;
  if (record.revokedAt !== null) throw refused('token_revoked', 'api-key-revoked');
  if (record.expiresAt !== null && record.expiresAt <= deps.now()) throw refused('invalid_token', 'api-key-expired');
  const [user, member, memberships, tree] = await Promise.all([
    store.users.findById(record.userId),
    store.orgs.member(record.orgId, record.userId),
    store.orgs.resourceMembers(record.orgId, record.userId),
    deps.trees.get(record.orgId),
  ]);
  if (!user || user.disabledAt !== null || user.deletedAt !== null) throw refused('invalid_token', 'api-key-creator-disabled');
  if (!member) throw refused('invalid_token', 'api-key-creator-not-member');
  return {
    id: record.id,
    orgId: record.orgId,
    userId: record.userId,
    applications: record.applications,
    levels: intersectLevels(keyOwnLevels(record), memberLevels(member.role, memberships), tree),
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
  };
}

/** The checks of every use, cached or not: revocations heard since the key was read, and expiry. */
export function checkKeyInForce(resolved: ResolvedKey, revocations: Pick<KeyRevocations, 'has' | 'isSubjectRevoked'>, now: number): void {
  if (revocations.has('key', resolved.id)) throw refused('token_revoked', 'api-key-revoked');
  if (revocations.isSubjectRevoked(resolved.userId, resolved.orgId, resolved.createdAt)) throw refused('token_revoked', 'api-key-creator-revoked');
  if (resolved.expiresAt !== null && resolved.expiresAt <= now) throw refused('invalid_token', 'api-key-expired');
}

/** A key names the applications it may be used with: elsewhere it is refused like a token for another audience (RFC 8707). */
export function checkKeyAudience(resolved: ResolvedKey, app: Pick<Application, 'slug'>): void {
  if (resolved.applications !== null && !resolved.applications.includes(app.slug)) throw refused('invalid_audience', 'api-key-audience');
}

/** The key as the identity a verified token gives (guard/verify.ts), for one application. */
export function keyIdentity(key: string, resolved: ResolvedKey, app: Application_): VerifiedToken {
  const scopes = scopesAllowedBy(
    app.scopes.filter((s) => s.name !== app.stepUpScope),
    resolved.levels,
  ).map((s) => s.name);
  const clientId = `key:${resolved.id}`;
  return {
    token: key,
    subject: resolved.userId,
    clientId,
    scopes: new Set(scopes),
    audience: [app.resource],
    grantId: undefined,
    jti: clientId,
    expiresAt: resolved.expiresAt ?? KEY_NEVER_EXPIRES,
    issuedAt: resolved.createdAt,
    authTime: undefined,
    acr: undefined,
    amr: [],
    orgId: resolved.orgId,
    levels: resolved.levels,
    keyId: resolved.id,
    claims: {},
  };
}
