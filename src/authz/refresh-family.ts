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
 *   never more than one chain stays alive.
 * - Anything else — a rotated token after the window, after a successor advanced, or a killed
 *   sibling — is reported consumed, and the engine revokes the whole grant.
 *
 * The engine does not tell the adapter which token a new one replaces, so the presented token's id
 * travels from `find` to `upsert` in an AsyncLocalStorage scoped to the HTTP request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { OidcRecord, OidcStore } from '../store/types.ts';

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
    if (now - record.consumedAt > this.#graceSeconds) return 'reused';
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

  /** A token was used (rotated): its siblings can never be used now. */
  async afterUse(id: string, now: number): Promise<void> {
    const record = await this.#oidc.find(MODEL, id);
    if (!record?.parentId) return;
    const siblings = await this.#oidc.children(MODEL, record.parentId);
    await this.#oidc.kill(
      MODEL,
      siblings.filter((s) => s.id !== id).map((s) => s.id),
      now,
    );
  }
}
