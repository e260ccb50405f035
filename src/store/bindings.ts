/**
 * Gateway sessions and upstream tasks, bound to the caller that opened them (gateway/bindings.ts).
 */

/** A gateway session or an upstream task, bound to the caller that opened it. */
export interface Binding {
  kind: string;
  appSlug: string;
  key: string;
  /** Who may use it: `<subject> <client id>`. */
  owner: string;
  value: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface BindingStore {
  /** Insert; false when the key exists (never overwrite another caller's binding). */
  create(binding: Binding): Promise<boolean>;
  find(kind: string, appSlug: string, key: string, now: number): Promise<Binding | undefined>;
  extend(kind: string, appSlug: string, key: string, expiresAt: number): Promise<void>;
  delete(kind: string, appSlug: string, key: string): Promise<void>;
  deleteExpired(now: number): Promise<number>;
}
