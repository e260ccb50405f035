/**
 * The guard SDK's framework-free core: everything an MCP server (or any resource server) needs to
 * accept Portcullis tokens and enforce per-tool scopes — with no HTTP framework in sight. Adapters
 * (adapters/*) bind it to node:http, Express, Hono and MCP SDK servers.
 *
 *   authenticate(Authorization header) → the caller's identity, or the challenge to answer with
 *   authorizeTool(identity, tool)      → ok, or 403 insufficient_scope naming every scope needed
 *   filterTools(tools, identity)       → the tools this token may call (for tools/list)
 *   resourceMetadata / resourceMetadataUrl → the RFC 9728 document and where it is served
 *
 * Tokens are RFC 9068 JWT access tokens checked by shared/verify.ts against the issuer's JWKS
 * (keys.ts). Revocations come from the authorization server's stream (revocation-feed.ts); when
 * that has been down longer than `stalenessMs` the guard asks introspection (RFC 7662) instead,
 * and when that fails too it refuses — fail closed, 503. Tokens the gateway mints for its
 * upstreams (gateway/upstream-token.ts: audience = the upstream's URL, `act` naming the gateway)
 * are ordinary RFC 9068 tokens too: a server behind the gateway uses this same guard with
 * `resource` = its own URL, and sees the user in `subject` and the gateway in `actor`.
 *
 * API keys (`Authorization: Bearer pcs_…`) are accepted when introspection is configured: the
 * authorization server answers for the key (creator, `key:<id>`, scopes, org and levels, only if
 * the key may be used with this resource), the answer is cached like any other, and dropped at once
 * when the revocation feed reports the key (or its creator) revoked. Without introspection a key
 * is refused with 401 invalid_token.
 *
 * Its parts: options.ts (what it is told, checked at once), sources.ts (keys, revocation feed and
 * introspection, wired once), authenticate.ts, tool-scopes.ts, identity.ts (who is calling, and
 * as MCP SDK `authInfo`); this file puts them together with the resource's metadata.
 */
import { challengeFor, type Challenge } from '../../shared/challenge.ts';
import { defaultAllowHttpLoopback } from '../../shared/outbound.ts';
import { resourceMetadataDocument, resourceMetadataUrl } from '../../shared/resource-metadata.ts';
import { createTokenVerifier } from '../../shared/verify.ts';
import { createAuthenticator, type AuthResult } from './authenticate.ts';
import { GuardError } from './errors.ts';
import { authInfoOf, type GuardIdentity, type McpAuthInfo } from './identity.ts';
import { validateOptions, type GuardOptions } from './options.ts';
import type { Freshness } from './revocation-feed.ts';
import { connectSources } from './sources.ts';
import { createToolScopes, type ToolScopes } from './tool-scopes.ts';

export interface RevocationStatus {
  /** `current`: the stream is up and caught up; `recent`: down for less than stalenessMs; `stale`; `none`: not configured. */
  freshness: Freshness | 'none';
  lastSeq: number;
}

export interface Guard extends ToolScopes {
  readonly issuer: string;
  readonly resource: string;
  /** Where the Protected Resource Metadata is served (RFC 9728 §3.1) … */
  readonly resourceMetadataUrl: string;
  /** … and its path, for routing. */
  readonly resourceMetadataPath: string;
  /** The RFC 9728 document. */
  readonly resourceMetadata: Record<string, unknown>;
  /** Check the `Authorization` header (RFC 6750 §2.1 bearer token). */
  authenticate(authorization: string | null | undefined): Promise<AuthResult>;
  /** The identity as MCP SDK `authInfo`. */
  authInfo(identity: GuardIdentity): McpAuthInfo;
  /** The challenge for an error (e.g. to answer a request your own code refused). */
  challenge(error: GuardError | undefined, tokenPresented?: boolean): Challenge;
  /** Resolves once the revocation stream is caught up (at once without one); false on timeout. */
  ready(timeoutMs?: number): Promise<boolean>;
  revocationStatus(): RevocationStatus;
  /** Stop the revocation stream (its connection keeps the process alive). */
  close(): Promise<void>;
}

export function createGuard(options: GuardOptions): Guard {
  const allowHttpLoopback = options?.allowHttpLoopback ?? defaultAllowHttpLoopback();
  validateOptions(options, allowHttpLoopback);
  const { issuer, resource } = options;
  const sources = connectSources(options, allowHttpLoopback);
  const { feed } = sources;
  const verify = createTokenVerifier({ issuer, audience: resource, keys: sources.keys, revocations: feed, clockSkewSeconds: options.clockSkewSeconds, refuse: GuardError.from });

  const metadataUrl = resourceMetadataUrl(resource);
  const defaultScope = options.defaultScopes?.length ? options.defaultScopes.join(' ') : undefined;
  const challenge = (error: GuardError | undefined, tokenPresented = error !== undefined, scope?: string) =>
    challengeFor(error, { resourceMetadataUrl: metadataUrl, tokenPresented, scope });

  return {
    issuer,
    resource,
    resourceMetadataUrl: metadataUrl,
    resourceMetadataPath: new URL(metadataUrl).pathname,
    resourceMetadata: resourceMetadataDocument({
      resource,
      authorizationServers: [issuer],
      scopes: options.scopesSupported,
      name: options.resourceName,
      documentation: options.resourceDocumentation,
    }),
    authenticate: createAuthenticator({ resource, verify, sources, defaultScope, challenge }),
    ...createToolScopes(options.toolScopes, challenge),
    authInfo: (identity) => authInfoOf(identity, resource, metadataUrl),
    challenge: (error, tokenPresented) => challenge(error, tokenPresented, error ? undefined : defaultScope),
    ready: async (timeoutMs = 10_000) => (feed ? feed.whenCurrent(timeoutMs) : true),
    revocationStatus: () => (feed ? { freshness: feed.freshness(), lastSeq: feed.lastSeq } : { freshness: 'none', lastSeq: 0 }),
    close: async () => {
      await feed?.close();
    },
  };
}
