/**
 * Refresh-token rotation with a grace window, built under the engine's adapter.
 *
 * The engine rotates on every use and treats ANY second use of a rotated token as theft: it
 * revokes the grant (OAuth 2.1 §4.3.1 / RFC 9700 §4.14.2). Real clients race themselves (two tabs,
 * a retry after a lost response), and the MCP SDK client throws its tokens away on `invalid_grant`,
 * so a lost race would sign the user out. Our rule:
 *
 * - A rotated token presented again within `graceSeconds` of its rotation, while none of its
 *   successors has been used yet, is handed to the engine as unused: the racer gets valid tokens
 *   (a sibling of the first successor).
 * - The first successor to be *used* wins the family; its siblings are killed at that moment, so
 *   never more than one chain stays alive. Siblings used at the same moment both lose, and the
 *   grant is revoked: two holders advancing one family is what theft looks like.
 * - Anything else — a rotated token after the window, after a successor advanced, or a killed
 *   sibling — is reported consumed, and the engine revokes the whole grant.
 *
 * The engine does not tell the adapter which token a new one replaces, so the presented token's id
 * travels from `find` to `upsert` in an AsyncLocalStorage scoped to the HTTP request.
 */
import type { OidcRecord, OidcStore } from '../store/oidc.ts';
import { AsyncLocalStorage } from 'node:async_hooks';

const MODEL = 'RefreshToken';

interface RequestScope {
  /** Stored id of the refresh token presented in this request. */
  presented?: string;
}

const scope = new AsyncLocalStorage<RequestScope>();

/** Run one HTTP request of the engine inside its own scope (installed as engine middleware). */
export function withRefreshScope<T>(fn: () => Promise<T>): Promise<T> {
  return scope.run({}, fn);
}

export type RefreshVerdict = 'usable' | 'reused';

export class RefreshFamily {
  readonly #oidc: OidcStore;
  readonly #graceSeconds: number;

  constructor(oidc: OidcStore, graceSeconds: number) {
    this.#oidc = oidc;
    this.#graceSeconds = graceSeconds;
  }

  /** Called when the engine looks a refresh token up. */
  async judge(record: OidcRecord, now: number): Promise<RefreshVerdict> {
    const current = scope.getStore();
    if (current) current.presented = record.id;
    if (record.killedAt !== null) return 'reused';
    if (record.consumedAt === null) return 'usable';
    // Times are whole seconds: without the `=== 0` test, a grace of 0 (strict reuse detection)
    // would still let a rotated token through within the second it was rotated.
    if (this.#graceSeconds === 0 || now - record.consumedAt > this.#graceSeconds) return 'reused';
    const successors = await this.#oidc.children(MODEL, record.id);
    return successors.some((s) => s.consumedAt !== null) ? 'reused' : 'usable';
  }

  /** The token a newly issued refresh token replaces, if this request rotated one. */
  parentFor(newId: string): string | null {
    const presented = scope.getStore()?.presented;
    return presented && presented !== newId ? presented : null;
  }

  /** After a successor was stored: if a sibling already advanced, this one lost the race. */
  async afterIssue(newId: string, parentId: string | null, now: number): Promise<void> {
    if (!parentId) return;
    const siblings = await this.#oidc.children(MODEL, parentId);
    if (siblings.some((s) => s.id !== newId && s.consumedAt !== null)) await this.#oidc.kill(MODEL, [newId], now);
  }

  /**
   * A token was used (rotated): its siblings can never be used now. Returns 'lost' when this use
   * must not go on: a sibling was used first (and killed this one before it was consumed), or
   * siblings were used at the same moment. Without this check, siblings used concurrently on a
   * store with real concurrency (PostgreSQL) each killed nobody — `kill` spares consumed tokens —
   * and every one of them went on as a live chain (found by test/authz/refresh-tokens.test.ts).
   */
  async afterUse(id: string, now: number): Promise<'won' | 'lost'> {
    const record = await this.#oidc.find(MODEL, id);
    // Gone since the engine found it: the grant was revoked meanwhile (by a racing reuse).
    if (!record) return 'lost';
    if (!record.parentId) return 'won';
    const siblings = await this.#oidc.children(MODEL, record.parentId);
    await this.#oidc.kill(
      MODEL,
      siblings.filter((s) => s.id !== id).map((s) => s.id),
      now,
    );
    // Read again after our kill: a sibling consumed before it, and not killed itself, was used
    // concurrently with this one — neither may win. `kill` only marks unconsumed tokens, so a
    // killed mark on this token means a sibling's use came first.
    const family = await this.#oidc.children(MODEL, record.parentId);
    const self = family.find((s) => s.id === id);
    if (!self || self.killedAt !== null) return 'lost';
    return family.some((s) => s.id !== id && s.consumedAt !== null && s.killedAt === null) ? 'lost' : 'won';
  }
}
