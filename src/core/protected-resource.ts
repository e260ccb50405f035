/**
 * A protected resource (an MCP server behind Portcullis) as the authorization server sees it: the
 * URL is the token audience (RFC 8707 §2, RFC 9068 §3), with the scopes it offers. What every layer
 * that issues, consents to or explains a token needs to know of an application.
 */
import type { ResourceRole } from './roles.ts';

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
  /** The step-up scope also needs a second factor (acr urn:portcullis:acr:mfa). */
  stepUpMfa?: boolean;
}

/** Canonical form used for comparison: URL-normalized, no fragment, no trailing slash (except the root). */
export function canonicalResource(value: string): string | undefined {
  const url = URL.parse(value);
  if (!url || url.hash || !/^https?:$/.test(url.protocol)) return undefined;
  const href = url.href;
  return url.pathname !== '/' && href.endsWith('/') && !url.search ? href.slice(0, -1) : href;
}

/** Finds a protected resource by its (canonical) URL (applications/protected-resources.ts keeps them). */
export interface ProtectedResources {
  get(url: string): ProtectedResource | undefined;
}
