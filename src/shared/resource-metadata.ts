/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728). For a resource at https://host/mcp the
 * document lives at https://host/.well-known/oauth-protected-resource/mcp (§3.1: the well-known
 * segment is inserted between host and path).
 */

export interface ResourceMetadataInput {
  resource: string;
  authorizationServers: string[];
  scopes: string[];
  name?: string;
  documentation?: string;
}

export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  // §3.1 inserts the segment "between the host component and the path and/or query components":
  // a query stays on the metadata URL (it was dropped before, pointing clients at another document).
  return `${url.origin}/.well-known/oauth-protected-resource${path}${url.search}`;
}

export function resourceMetadataDocument(input: ResourceMetadataInput): Record<string, unknown> {
  return {
    resource: input.resource,
    authorization_servers: input.authorizationServers,
    scopes_supported: input.scopes,
    bearer_methods_supported: ['header'],
    ...(input.name ? { resource_name: input.name } : {}),
    ...(input.documentation ? { resource_documentation: input.documentation } : {}),
  };
}
