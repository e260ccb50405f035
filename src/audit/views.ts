/**
 * What people see of an audit record: the record exactly as stored (ids only, hashed), with the
 * names behind its ids looked up when it is read — the user's e-mail, who acted, the client's name,
 * the API key's label. A deleted account reads `erased`: its personal data is gone from `users`
 * while every record that names it stays, so the chain stays whole (audit-log.ts). The display
 * fields are never part of the hash; an export that carries them still verifies (chain.ts).
 */
import type { Store } from '../store/store.ts';
import type { AuditEvent } from '../store/audit.ts';

/** How an account that has been deleted (its e-mail and name erased) is shown. */
export const ERASED = 'erased';

export interface AuditView extends AuditEvent {
  /** The subject's e-mail as it is now: `erased` once deleted, null without a subject or when unknown. */
  userEmail: string | null;
  /** Who acted, readable: an e-mail (or `erased`), an API key's label, a client's name, `system`. */
  actorName: string | null;
  /** The client's registered name (else the host of a URL client id), null without a client. */
  clientName: string | null;
  /** The label of the API key the call was made with, when it was. */
  keyName: string | null;
}

/** The API key a record was made with: `details.keyId` (gateway calls) or an actor `key:<id>`. */
export function keyIdOf(record: Pick<AuditEvent, 'actor' | 'details'>): string | null {
  const fromDetails = record.details?.keyId;
  if (typeof fromDetails === 'string') return fromDetails;
  return record.actor?.startsWith('key:') ? record.actor.slice(4) : null;
}

type Lookup = (id: string) => Promise<string | null>;

/** One kind of name, each id looked up once while cached; the cache is emptied when it grows too big. */
class NameCache {
  readonly #names = new Map<string, Promise<string | null>>();
  readonly #lookup: Lookup;
  readonly #max: number;

  constructor(lookup: Lookup, max: number) {
    this.#lookup = lookup;
    this.#max = max;
  }

  get(id: string): Promise<string | null> {
    let name = this.#names.get(id);
    if (!name) {
      if (this.#names.size >= this.#max) this.#names.clear();
      name = this.#lookup(id);
      this.#names.set(id, name);
    }
    return name;
  }
}

/**
 * Resolves the names of records, a page at a time: the distinct ids of a page are looked up
 * together, and remembered for the next pages of the same listing or export (one instance per
 * request — names are current as of that request).
 */
export class AuditNames {
  readonly #users: NameCache;
  readonly #clients: NameCache;
  readonly #keys: NameCache;

  constructor(store: Store, options: { maxCached?: number } = {}) {
    const max = options.maxCached ?? 10_000;
    this.#users = new NameCache(async (id) => {
      const user = await store.users.findById(id);
      if (!user) return null;
      return user.deletedAt !== null ? ERASED : user.email;
    }, max);
    this.#clients = new NameCache(async (id) => {
      const name = (await store.clients.find(id))?.metadata.client_name;
      if (typeof name === 'string' && name.trim()) return name;
      return URL.parse(id)?.host || null;
    }, max);
    this.#keys = new NameCache(async (id) => (await store.apiKeys.get(id))?.name ?? null, max);
  }

  /** Who acted, readable. */
  #actor(actor: string | null): Promise<string | null> | string | null {
    if (actor === null) return null;
    if (actor.startsWith('key:')) return this.#keys.get(actor.slice(4));
    if (actor.startsWith('client:')) return this.#clients.get(actor.slice(7));
    if (actor === 'system') return 'system';
    return this.#users.get(actor);
  }

  /**
   * The records with their display fields; the records themselves are not changed. The page's
   * distinct names are looked up together first, then each record is dressed without waiting.
   */
  async describe(records: AuditEvent[]): Promise<AuditView[]> {
    const wanted = new Map<string, Promise<string | null> | string | null>();
    const want = (key: string, lookup: () => Promise<string | null> | string | null) => {
      if (!wanted.has(key)) wanted.set(key, lookup());
    };
    for (const record of records) {
      const keyId = keyIdOf(record);
      if (record.subject !== null) want(`u:${record.subject}`, () => this.#users.get(record.subject!));
      if (record.actor !== null) want(`a:${record.actor}`, () => this.#actor(record.actor));
      if (record.clientId !== null) want(`c:${record.clientId}`, () => this.#clients.get(record.clientId!));
      if (keyId !== null) want(`k:${keyId}`, () => this.#keys.get(keyId));
    }
    const keys = [...wanted.keys()];
    const resolved = await Promise.all(wanted.values());
    const names = new Map(keys.map((key, i) => [key, resolved[i] ?? null]));
    const name = (key: string, id: string | null) => (id === null ? null : (names.get(`${key}:${id}`) ?? null));
    return records.map((record) => ({
      ...record,
      userEmail: name('u', record.subject),
      actorName: name('a', record.actor),
      clientName: name('c', record.clientId),
      keyName: name('k', keyIdOf(record)),
    }));
  }
}
