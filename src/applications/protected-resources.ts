import type { ResourceRole } from '../store/types.ts';

/**
 * Protected resources (MCP servers) the authorization server issues tokens for. A resource URL is
 * the token audience (RFC 8707 §2, RFC 9068 §3); an unknown one is `invalid_target`.
 */

export interface ResourceScope {
  name: string;
  /** Plain English, shown on the consent screen: "Read your projects and notes". */
  description: string;
  /** Least role that may hold it (identity/permissions.ts scopeMinRole decides when absent). */
  minRole?: ResourceRole;
}

export interface ProtectedResource {
  /** Canonical URL, e.g. https://host/mcp. */
  url: string;
  /** Human name, e.g. "Demo notes". */
  name: string;
  /** Path on this server where it is served, e.g. /mcp. */
  path: string;
  scopes: ResourceScope[];
  /** Granted when a client asks for no scope at all (MCP clients omit it when none is advertised). */
  defaultScopes: string[];
  /** Tool name → scope it needs. */
  toolScopes: Record<string, string>;
  /** Scope granted only after a recent sign-in (see authz/step-up.ts), with the shortest max age. */
  stepUpScope?: string;
  stepUpMaxAge?: number;
}

/** Canonical form used for comparison: URL-normalized, no fragment, no trailing slash (except the root). */
export function canonicalResource(value: string): string | undefined {
  const url = URL.parse(value);
  if (!url || url.hash || !/^https?:$/.test(url.protocol)) return undefined;
  const href = url.href;
  return url.pathname !== '/' && href.endsWith('/') && !url.search ? href.slice(0, -1) : href;
}

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
