/**
 * What a registered client acting for itself (the client_credentials grant, RFC 6749 §4.4) may get
 * for one application: the authorization server issues by it (authz/engine/issuance.ts) and the
 * console's policy simulator judges by it (console/server-pages/simulation.ts), so the two never
 * disagree about a service account's scopes.
 */

/** The parts of an application (core/application.ts, core/protected-resource.ts) a service account's token depends on. */
export interface ServiceAccountResource {
  scopes: { name: string }[];
  defaultScopes: string[];
  stepUpScope?: string;
}

/**
 * Scopes an administrator allowed a service account: `portcullis_scopes` in its stored metadata
 * (clients/input.ts), else the resource's default scopes — least privilege, never everything.
 */
export function serviceAccountAllowed(metadata: Record<string, unknown>, resource: Pick<ServiceAccountResource, 'defaultScopes'>): Set<string> {
  const listed = metadata.portcullis_scopes;
  return new Set(Array.isArray(listed) ? listed.map(String) : resource.defaultScopes);
}

/**
 * The resource's scopes the service account may carry, in the resource's order — never the step-up
 * scope: it needs a fresh interactive sign-in (authz/step-up.ts), and a service account has none.
 */
export function serviceAccountScopes(metadata: Record<string, unknown>, resource: ServiceAccountResource): string[] {
  const allowed = serviceAccountAllowed(metadata, resource);
  return resource.scopes.map((s) => s.name).filter((scope) => allowed.has(scope) && scope !== resource.stepUpScope);
}

/**
 * What an administrator limited a registered client to (clients/input.ts): the applications it
 * may get tokens for (`portcullis_applications`, resource URLs) and the scopes it may carry
 * (`portcullis_scopes`). Unlisted: no limit of the client's own.
 */
export function clientLimits(metadata: Record<string, unknown> | undefined): { applications?: string[]; scopes?: Set<string> } {
  const apps = metadata?.portcullis_applications;
  const scopes = metadata?.portcullis_scopes;
  return {
    ...(Array.isArray(apps) && apps.length ? { applications: apps.map(String) } : {}),
    ...(Array.isArray(scopes) && scopes.length ? { scopes: new Set(scopes.map(String)) } : {}),
  };
}

/** False when an administrator limited the client to other applications (`portcullis_applications`, resource URLs; RFC 8707 §2). */
export function clientMayUse(metadata: Record<string, unknown>, resourceUrl: string): boolean {
  const { applications } = clientLimits(metadata);
  return !applications || applications.includes(resourceUrl);
}
