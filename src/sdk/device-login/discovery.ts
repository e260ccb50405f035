/**
 * Where to sign in, found from the MCP server itself (MCP authorization 2025-06-18 §"Authorization
 * Server Discovery"): an unauthenticated request → 401 with `WWW-Authenticate: Bearer
 * resource_metadata="…"` (RFC 9728 §5.1) → the protected resource metadata (RFC 9728 §3) → its
 * first authorization server → that server's metadata (RFC 8414 §3, checked to name the same
 * issuer, via the guard SDK's metadata source).
 *
 * Checked: the metadata's `resource` is the MCP URL we asked about (RFC 9728 §3.3: otherwise a
 * server could send our tokens to another audience), and the authorization server offers the
 * device grant. Every fetch is https (http only for loopback outside production), no redirects.
 */
import { createMetadataSource, type AuthorizationServerMetadata } from '../../shared/discovery.ts';
import type { GuardFetch } from '../../shared/outbound.ts';
import { DeviceLoginError } from './errors.ts';

/** What the kit needs to sign in to one server. */
export interface LoginTarget {
  /** What the tokens are for and where they are filed: the resource, else the issuer. */
  server: string;
  /** The protected resource: requested as `resource` (RFC 8707), the tokens' audience. */
  resource?: string;
  issuer: string;
  deviceAuthorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  /** Scopes the resource says it supports (RFC 9728 `scopes_supported`), when it says. */
  scopesSupported?: string[];
  /** Scopes the authorization server lists (RFC 8414 `scopes_supported`), when it does. */
  serverScopes?: string[];
}

/** `resource_metadata` of a Bearer challenge (RFC 9728 §5.1). */
export function resourceMetadataUrl(header: string | null): string | undefined {
  if (!header || !/^bearer\b/i.test(header)) return undefined;
  return /resource_metadata="([^"]+)"/.exec(header)?.[1];
}

/** RFC 9728 §3.1: the well-known segment inserted between the host and the resource's path. */
export function wellKnownResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

function failed(message: string, cause?: unknown): DeviceLoginError {
  return new DeviceLoginError('discovery_failed', message, { cause });
}

async function getJson(fetch: GuardFetch, url: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' } });
  } catch (err) {
    throw failed(`cannot reach ${url}: ${(err as Error).message}`, err);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw failed(`${url} answered ${response.status}`);
  }
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw failed(`${url} did not answer with a JSON object`);
  return body as Record<string, unknown>;
}

/** Ask the MCP server who protects it: the 401's `resource_metadata`, else the RFC 9728 well-known URL. */
async function protectedResourceMetadataUrl(fetch: GuardFetch, mcpUrl: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
    });
  } catch (err) {
    throw failed(`cannot reach ${mcpUrl}: ${(err as Error).message}`, err);
  }
  await response.body?.cancel();
  if (response.status !== 401) throw failed(`${mcpUrl} answered ${response.status} to a request without a token; it does not ask for sign-in`);
  return resourceMetadataUrl(response.headers.get('www-authenticate')) ?? wellKnownResourceMetadataUrl(mcpUrl);
}

/** From the authorization server's metadata, what the device flow needs; `device_flow_unsupported` otherwise. */
export function targetFrom(metadata: AuthorizationServerMetadata, resource: string | undefined, scopesSupported?: string[]): LoginTarget {
  const device = metadata.device_authorization_endpoint;
  const token = metadata.token_endpoint;
  if (typeof device !== 'string' || typeof token !== 'string') {
    throw new DeviceLoginError('device_flow_unsupported', `${metadata.issuer} does not offer sign-in with a code (no device_authorization_endpoint, RFC 8628)`);
  }
  const target: LoginTarget = { server: resource ?? metadata.issuer, issuer: metadata.issuer, deviceAuthorizationEndpoint: device, tokenEndpoint: token };
  if (resource) target.resource = resource;
  if (Array.isArray(metadata.scopes_supported)) target.serverScopes = metadata.scopes_supported.filter((s): s is string => typeof s === 'string');
  if (typeof metadata.revocation_endpoint === 'string') target.revocationEndpoint = metadata.revocation_endpoint;
  if (scopesSupported) target.scopesSupported = scopesSupported;
  return target;
}

async function authorizationServerMetadata(fetch: GuardFetch, issuer: string): Promise<AuthorizationServerMetadata> {
  try {
    return await createMetadataSource(issuer, fetch)();
  } catch (err) {
    // The shared metadata source fails with a SharedError (not found, another issuer, a refused
    // URL): the kit's edge, where it becomes a DeviceLoginError like every other failure here.
    throw failed(`cannot read the metadata of the authorization server ${issuer}: ${(err as Error).message}`, err);
  }
}

/** Discover everything from an MCP server's URL. */
export async function discoverFromMcpUrl(fetch: GuardFetch, mcpUrl: string): Promise<LoginTarget> {
  const prmUrl = await protectedResourceMetadataUrl(fetch, mcpUrl);
  const prm = await getJson(fetch, prmUrl);
  if (prm.resource !== mcpUrl) throw failed(`the resource metadata at ${prmUrl} is for ${String(prm.resource)}, not ${mcpUrl} (RFC 9728 §3.3)`);
  const servers = prm.authorization_servers;
  if (!Array.isArray(servers) || typeof servers[0] !== 'string') throw failed(`the resource metadata at ${prmUrl} names no authorization server`);
  const scopes = Array.isArray(prm.scopes_supported) ? prm.scopes_supported.filter((s): s is string => typeof s === 'string') : undefined;
  return targetFrom(await authorizationServerMetadata(fetch, servers[0]), mcpUrl, scopes);
}

/** For a server author who knows the issuer (and the resource their backend expects, if it wants one). */
export async function discoverFromIssuer(fetch: GuardFetch, issuer: string, resource: string | undefined): Promise<LoginTarget> {
  return targetFrom(await authorizationServerMetadata(fetch, issuer), resource);
}
