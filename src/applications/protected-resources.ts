/**
 * The protected resources (MCP servers) this server issues tokens for, by URL; an unknown one is
 * `invalid_target` at the engine (RFC 8707 §2).
 */
import { canonicalResource, type ProtectedResource } from '../core/protected-resource.ts';

export class ResourceRegistry {
  readonly #byUrl = new Map<string, ProtectedResource>();

  constructor(resources: ProtectedResource[] = []) {
    for (const resource of resources) this.add(resource);
  }

  /** Swap in a new set (applications were added, changed or removed). */
  replaceAll(resources: ProtectedResource[]): void {
    const next = new Map<string, ProtectedResource>();
    for (const resource of resources) {
      const key = canonicalResource(resource.url);
      if (key) next.set(key, resource);
    }
    this.#byUrl.clear();
    for (const [key, resource] of next) this.#byUrl.set(key, resource);
  }

  add(resource: ProtectedResource): void {
    const key = canonicalResource(resource.url);
    if (!key) throw new Error(`invalid resource URL: ${resource.url}`);
    this.#byUrl.set(key, resource);
  }

  get(url: string): ProtectedResource | undefined {
    const key = canonicalResource(url);
    return key ? this.#byUrl.get(key) : undefined;
  }

  list(): ProtectedResource[] {
    return [...this.#byUrl.values()];
  }

  /** Every scope of every resource, for `scopes_supported`. */
  allScopes(): string[] {
    return [...new Set(this.list().flatMap((r) => r.scopes.map((s) => s.name)))];
  }

  describe(scope: string): string | undefined {
    for (const resource of this.#byUrl.values()) {
      const found = resource.scopes.find((s) => s.name === scope);
      if (found) return found.description;
    }
    return undefined;
  }
}
