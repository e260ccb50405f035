/**
 * Organizations' resource trees (workspaces → projects → folders) held in memory, so checking a
 * resource argument or an API key's levels costs no database round trip per call. A tree is
 * reused for `ttlMs` (default 5 s), then reloaded — in the background while the old one keeps
 * answering, so only the first call for an organization waits. A resource created a moment ago may
 * thus be unknown for up to `ttlMs` (a call naming it is refused, not let through); `forget(orgId)`
 * drops a tree at once — the server calls it when the change feed (fanout/) says the organization
 * changed in any process, so the TTL is only the safety net.
 */
import type { OrgResource, OrgStore } from '../store/orgs.ts';
import { treeOf, type ResourceTree } from './permissions.ts';

export interface OrgTree extends ResourceTree {
  /** Every resource id of the organization. */
  readonly ids: readonly string[];
}

export const ORG_TREE_TTL_MS = 5000;
const MAX_ORGS = 10_000;

export class OrgTrees {
  readonly #store: Pick<OrgStore, 'resources'>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #trees = new Map<string, { tree: OrgTree; loadedAt: number }>();
  readonly #loading = new Map<string, Promise<OrgTree>>();

  constructor(store: Pick<OrgStore, 'resources'>, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#store = store;
    this.#ttlMs = options.ttlMs ?? ORG_TREE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The organization's tree: from memory when known (reloaded behind the scenes when old). */
  async get(orgId: string): Promise<OrgTree> {
    const known = this.#trees.get(orgId);
    if (known) {
      if (this.#now() - known.loadedAt >= this.#ttlMs) void this.#load(orgId).catch(() => {});
      return known.tree;
    }
    return this.#load(orgId);
  }

  forget(orgId: string): void {
    this.#trees.delete(orgId);
  }

  /** Drop every tree (a change whose organization is not known, or changes that may have been missed). */
  forgetAll(): void {
    this.#trees.clear();
  }

  #load(orgId: string): Promise<OrgTree> {
    let running = this.#loading.get(orgId);
    if (running) return running;
    running = (async () => {
      try {
        const resources = await this.#store.resources(orgId);
        const tree = orgTreeOf(resources);
        if (this.#trees.size >= MAX_ORGS) this.#trees.clear();
        this.#trees.set(orgId, { tree, loadedAt: this.#now() });
        return tree;
      } finally {
        this.#loading.delete(orgId);
      }
    })();
    this.#loading.set(orgId, running);
    return running;
  }
}

export function orgTreeOf(resources: readonly Pick<OrgResource, 'id' | 'parentId' | 'kind'>[]): OrgTree {
  return { ...treeOf(resources), ids: resources.map((r) => r.id) };
}
