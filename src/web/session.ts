/**
 * Our own browser sign-in session (`__Host-pc_session`): who is signed in to Portcullis itself.
 * The cookie holds 256 random bits; the store keeps only their keyed hash. The protocol engine
 * keeps a session of its own for single sign-on across authorizations; signing out ends both.
 */
import type { Store } from '../store/store.ts';
import type { SessionRecord } from '../store/sessions.ts';
import type { User } from '../store/users.ts';
import { keyedHash, randomToken, type SecretKey } from '../core/crypto.ts';

export const SESSION_COOKIE = '__Host-pc_session';

export interface SignedIn {
  session: SessionRecord;
  user: User;
}

export class BrowserSessions {
  readonly #store: Store;
  readonly #pepper: SecretKey;
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(store: Store, pepper: SecretKey, ttl: number, now: () => number) {
    this.#store = store;
    this.#pepper = pepper;
    this.#ttl = ttl;
    this.#now = now;
  }

  #id(cookieValue: string): string {
    return keyedHash(this.#pepper, `session:${cookieValue}`);
  }

  /** Start a session; returns the cookie value. */
  async create(user: User, proof: { amr: string[]; ip: string | null; userAgent: string | null; ssoConnection?: string }): Promise<{ value: string; record: SessionRecord }> {
    const value = randomToken();
    const now = this.#now();
    const record: SessionRecord = {
      id: this.#id(value),
      userId: user.id,
      createdAt: now,
      expiresAt: now + this.#ttl,
      lastSeenAt: now,
      authTime: now,
      amr: proof.amr,
      ip: proof.ip,
      userAgent: proof.userAgent?.slice(0, 300) ?? null,
      ...(proof.ssoConnection ? { ssoConnection: proof.ssoConnection } : {}),
    };
    await this.#store.sessions.create(record);
    return { value, record };
  }

  /** The signed-in user for a cookie value, or undefined (expired, signed out, user disabled). */
  async read(cookieValue: string | undefined): Promise<SignedIn | undefined> {
    if (!cookieValue) return undefined;
    const session = await this.#store.sessions.find(this.#id(cookieValue));
    const now = this.#now();
    if (!session || session.expiresAt <= now) return undefined;
    const user = await this.#store.users.findById(session.userId);
    if (!user || user.disabledAt !== null) return undefined;
    if (now - session.lastSeenAt > 60) await this.#store.sessions.touch(session.id, now);
    return { session, user };
  }

  async destroy(cookieValue: string | undefined): Promise<void> {
    if (cookieValue) await this.#store.sessions.delete(this.#id(cookieValue));
  }

  get ttl(): number {
    return this.#ttl;
  }
}
