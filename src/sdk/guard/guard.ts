/**
 * The guard SDK's framework-free core: everything an MCP server (or any resource server) needs to
 * accept Portcullis tokens and enforce per-tool scopes — with no HTTP framework in sight. Adapters
 * (../adapters/*) bind it to node:http, Express, Hono and MCP SDK servers.
 *
 *   authenticate(Authorization header) → the caller's identity, or the challenge to answer with
 *   authorizeTool(identity, tool)      → ok, or 403 insufficient_scope naming every scope needed
 *   filterTools(tools, identity)       → the tools this token may call (for tools/list)
 *   resourceMetadata / resourceMetadataUrl → the RFC 9728 document and where it is served
 *
 * Tokens are RFC 9068 JWT access tokens checked by ../verify.ts against the issuer's JWKS
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
 */
import { isApiKeyShaped } from '../../shared/api-key-shape.ts';
import { GuardError, isGuardError } from './errors.ts';
import { challengeFor, insufficientScope, type Challenge } from '../../shared/challenge.ts';
import { resourceMetadataDocument, resourceMetadataUrl } from '../../shared/resource-metadata.ts';
import { toolCallsIn } from '../../shared/tool-calls.ts';
import { readLevels } from '../../shared/levels.ts';
import { createTokenVerifier, type VerifiedToken } from '../../shared/verify.ts';
import { createMetadataSource } from '../../shared/discovery.ts';
import { createIntrospector, type Introspector } from './introspection.ts';
import { createKeySource, KeysUnavailable } from './keys.ts';
import { checkOutboundUrl, createGuardFetch, defaultAllowHttpLoopback } from '../../shared/outbound.ts';
import { RevocationFeed, type Freshness } from './revocation-feed.ts';

/** `_meta` key under which a tool may declare the scope it needs, beside its definition (see adapters/mcp.ts `toolScope`). */
export const TOOL_SCOPE_META = 'dev.portcullis/scope';

export interface GuardOptions {
  /** The authorization server's issuer identifier, exactly as in its metadata (e.g. https://auth.example.com). */
  issuer: string;
  /** This server's resource identifier (RFC 8707) = the audience its tokens must carry, e.g. https://notes.example.com/mcp. */
  resource: string;
  /** The issuer's JWKS; default: `jwks_uri` from its RFC 8414 metadata. */
  jwksUri?: string;
  /** Scopes this resource understands, published in its Protected Resource Metadata (RFC 9728 §2). */
  scopesSupported: string[];
  /** Scopes named in a 401 challenge, so a client asks for these first (default: none named). */
  defaultScopes?: string[];
  /**
   * Which scope each tool needs: a map, or a function. A tool with no scope here may declare one
   * beside its definition (`_meta["dev.portcullis/scope"]`); a tool with neither needs only a valid token.
   */
  toolScopes: Readonly<Record<string, string>> | ((tool: string) => string | undefined);
  /** Learn revocations from the authorization server's stream (GET <issuer>/oauth/revocations). */
  revocations?: {
    streamUrl: string;
    clientId: string;
    clientSecret: string;
    /** How long the stream may be down before the guard stops trusting what it knows (default 30 s). */
    stalenessMs?: number;
  };
  /**
   * Introspection (RFC 7662) with this resource server's client credentials: the fallback when the
   * stream is stale, or the only revocation check when no stream is configured.
   */
  introspection?: {
    clientId: string;
    clientSecret: string;
    /** Default: `introspection_endpoint` from the issuer's metadata. */
    endpoint?: string;
    /** How long an answer is reused per token (default 5 s). */
    cacheMs?: number;
  };
  /** Human-readable name and documentation URL for the resource metadata. */
  resourceName?: string;
  resourceDocumentation?: string;
  /** Clock skew tolerated on token times (default 5 s). */
  clockSkewSeconds?: number;
  /** Minimum time between JWKS refetches caused by an unknown `kid` (default 5 s). */
  jwksCooldownMs?: number;
  /** Plain http to loopback hosts for the issuer's endpoints (default: when NODE_ENV is not "production"). */
  allowHttpLoopback?: boolean;
  /** Failures worth a log line (revocation stream down or refusing us). Never called with token material. */
  onError?: (err: Error) => void;
}

/** Who is calling: the verified token, plus the RFC 8693 actor when someone acts for the subject. */
export interface GuardIdentity extends VerifiedToken {
  /** `act.sub` (RFC 8693 §4.1): e.g. the gateway, on tokens it minted for its upstreams. */
  actor: string | undefined;
}

export type AuthResult = { ok: true; identity: GuardIdentity } | { ok: false; error: GuardError; challenge: Challenge };
export type ToolDecision = { ok: true } | { ok: false; error: GuardError; challenge: Challenge; scope: string };

/** The shape MCP SDKs (v1 and v2) expect as `authInfo`, without depending on either. */
export interface McpAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  resource?: URL;
  resourceMetadataUrl?: string;
  extra?: Record<string, unknown>;
}

export interface ListedTool {
  name: string;
  _meta?: Record<string, unknown> | null;
}

export interface RevocationStatus {
  /** `current`: the stream is up and caught up; `recent`: down for less than stalenessMs; `stale`; `none`: not configured. */
  freshness: Freshness | 'none';
  lastSeq: number;
}

export interface Guard {
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
  /** May this identity call this tool? */
  authorizeTool(identity: GuardIdentity, tool: string | ListedTool): ToolDecision;
  /** Every `tools/call` in a JSON-RPC message or batch, judged at once (a batch cannot smuggle one past). */
  authorizeMessage(identity: GuardIdentity, message: unknown): ToolDecision;
  /** Only the tools this identity may call. */
  filterTools<T extends ListedTool>(tools: readonly T[], identity: GuardIdentity): T[];
  /** The scope a tool needs, if any. */
  scopeFor(tool: string | ListedTool): string | undefined;
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

/** RFC 6750 §2.1: `Bearer <b64token>`; undefined when there is no header, '' when it is malformed. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (authorization === undefined || authorization === null) return undefined;
  const match = /^Bearer +([\x21-\x7e]+)$/i.exec(authorization.trim());
  return match ? match[1] : '';
}

function unavailable(rule: string, cause?: unknown): GuardError {
  return new GuardError('unavailable', 'the access token cannot be checked right now', { rule, cause });
}

function checkOptions(options: GuardOptions, allowHttpLoopback: boolean): void {
  const fail = (message: string) => {
    throw new GuardError('config_invalid', `createGuard: ${message}`);
  };
  if (!options || typeof options !== 'object') fail('options are required');
  if (typeof options.issuer !== 'string' || !URL.canParse(options.issuer)) fail('issuer must be a URL');
  if (typeof options.resource !== 'string' || !URL.canParse(options.resource) || new URL(options.resource).hash) fail('resource must be a URL without a fragment');
  if (!Array.isArray(options.scopesSupported)) fail('scopesSupported must be a list of scopes');
  if (typeof options.toolScopes !== 'function' && (typeof options.toolScopes !== 'object' || options.toolScopes === null)) fail('toolScopes must be a map or a function');
  const urls = [options.issuer, options.jwksUri, options.revocations?.streamUrl, options.introspection?.endpoint];
  for (const url of urls) {
    if (url === undefined) continue;
    try {
      checkOutboundUrl(url, allowHttpLoopback);
    } catch (err) {
      fail(`${url}: ${(err as Error).message}`);
    }
  }
  if (options.revocations && (!options.revocations.clientId || !options.revocations.clientSecret)) fail('revocations needs clientId and clientSecret');
  if (options.introspection && (!options.introspection.clientId || !options.introspection.clientSecret)) fail('introspection needs clientId and clientSecret');
}

export function createGuard(options: GuardOptions): Guard {
  const allowHttpLoopback = options?.allowHttpLoopback ?? defaultAllowHttpLoopback();
  checkOptions(options, allowHttpLoopback);
  const { issuer, resource } = options;
  // The stream passes its own signal, so it is not cut by the fetch timeout.
  const guardFetch = createGuardFetch({ allowHttpLoopback });
  const metadata = createMetadataSource(issuer, guardFetch);

  const keys = createKeySource({
    fetch: guardFetch,
    cooldownMs: options.jwksCooldownMs,
    jwksUri: async () => {
      if (options.jwksUri) return options.jwksUri;
      const uri = (await metadata()).jwks_uri;
      if (typeof uri !== 'string') throw new Error('the authorization server metadata has no jwks_uri');
      checkOutboundUrl(uri, allowHttpLoopback);
      return uri;
    },
  });

  const stalenessMs = options.revocations?.stalenessMs ?? 30_000;
  const feed = options.revocations
    ? new RevocationFeed({
        streamUrl: options.revocations.streamUrl,
        clientId: options.revocations.clientId,
        clientSecret: options.revocations.clientSecret,
        stalenessMs,
        fetch: guardFetch,
        onError: options.onError,
      })
    : undefined;
  feed?.start();
  const startedAt = Date.now();
  // Right after start the stream has not caught up yet: requests wait for it this long at most
  // (less if the connection attempt fails: then the fallback decides at once).
  const startupWaitMs = Math.min(stalenessMs, 2000);

  const introspect: Introspector | undefined = options.introspection
    ? createIntrospector({
        clientId: options.introspection.clientId,
        clientSecret: options.introspection.clientSecret,
        cacheMs: options.introspection.cacheMs,
        fetch: guardFetch,
        endpoint: async () => {
          if (options.introspection!.endpoint) return options.introspection!.endpoint;
          const uri = (await metadata()).introspection_endpoint;
          if (typeof uri !== 'string') throw new Error('the authorization server metadata has no introspection_endpoint');
          checkOutboundUrl(uri, allowHttpLoopback);
          return uri;
        },
      })
    : undefined;

  // Cached key answers go the moment a key, its creator or their membership is revoked.
  feed?.subscribe((event) => {
    if (event.kind === 'key' || event.kind === 'user' || event.kind === 'member') introspect?.forgetKeys();
  });

  const verify = createTokenVerifier({ issuer, audience: resource, keys, revocations: feed, clockSkewSeconds: options.clockSkewSeconds, refuse: GuardError.from });

  /** An API key, as the authorization server's introspection describes it for this resource. */
  async function authenticateKey(key: string): Promise<GuardIdentity> {
    if (!introspect) throw new GuardError('invalid_token', 'API keys need introspection', { rule: 'api-key-no-introspection' });
    let answer: Record<string, unknown>;
    try {
      answer = await introspect.describe(key, resource);
    } catch (err) {
      throw unavailable('introspection-unavailable', err);
    }
    if (answer.active !== true) throw new GuardError('invalid_token', 'the API key is not valid', { rule: 'api-key-inactive' });
    const audience = Array.isArray(answer.aud) ? answer.aud.map(String) : typeof answer.aud === 'string' ? [answer.aud] : [];
    if (!audience.includes(resource)) throw new GuardError('invalid_audience', 'the API key is for another resource', { rule: 'audience' });
    const clientId = String(answer.client_id);
    const subject = String(answer.sub);
    const orgId = typeof answer.org_id === 'string' ? answer.org_id : undefined;
    const issuedAt = typeof answer.iat === 'number' ? answer.iat : 0;
    const keyId = clientId.startsWith('key:') ? clientId.slice(4) : clientId;
    if (feed && feed.freshness() !== 'stale' && (feed.has('key', keyId) || feed.isSubjectRevoked(subject, orgId, issuedAt))) {
      throw new GuardError('token_revoked', 'the API key has been revoked', { rule: 'revocation' });
    }
    return {
      token: key,
      subject,
      clientId,
      scopes: new Set(typeof answer.scope === 'string' ? answer.scope.split(' ').filter(Boolean) : []),
      audience,
      grantId: undefined,
      jti: clientId,
      expiresAt: typeof answer.exp === 'number' ? answer.exp : Number.MAX_SAFE_INTEGER,
      issuedAt,
      authTime: undefined,
      acr: undefined,
      amr: [],
      orgId,
      levels: readLevels(answer.res),
      keyId,
      claims: answer,
      actor: undefined,
    };
  }
  const metadataUrl = resourceMetadataUrl(resource);
  const document = resourceMetadataDocument({
    resource,
    authorizationServers: [issuer],
    scopes: options.scopesSupported,
    name: options.resourceName,
    documentation: options.resourceDocumentation,
  });
  const defaultScope = options.defaultScopes?.length ? options.defaultScopes.join(' ') : undefined;

  const challenge = (error: GuardError | undefined, tokenPresented = error !== undefined, scope?: string) =>
    challengeFor(error, { resourceMetadataUrl: metadataUrl, tokenPresented, scope });

  /** The revocation list is trusted while current or recently current; else introspection; else refuse. */
  async function confirmNotRevoked(identity: GuardIdentity): Promise<void> {
    if (feed) {
      let freshness = feed.freshness();
      const waitLeft = startupWaitMs - (Date.now() - startedAt);
      if (freshness === 'stale' && waitLeft > 0 && (await feed.whenSettled(waitLeft))) freshness = feed.freshness();
      if (freshness !== 'stale') {
        // verify() consulted the list already, but maybe before the wait above filled it. A token
        // the gateway minted for a caller with an API key names it as the client (`key:<id>`).
        const viaKey = identity.clientId.startsWith('key:') && feed.has('key', identity.clientId.slice(4));
        if (viaKey || feed.isRevoked(identity)) throw new GuardError('token_revoked', 'the access token has been revoked', { rule: 'revocation' });
        return;
      }
    }
    if (introspect) {
      let active: boolean;
      try {
        active = await introspect(identity.token, identity.expiresAt);
      } catch (err) {
        throw unavailable('introspection-unavailable', err);
      }
      if (!active) throw new GuardError('token_revoked', 'the access token is no longer active', { rule: 'introspection' });
      return;
    }
    if (feed) throw unavailable('revocations-stale');
  }

  function scopeFor(tool: string | ListedTool): string | undefined {
    const name = typeof tool === 'string' ? tool : tool.name;
    const declared = typeof options.toolScopes === 'function'
      ? options.toolScopes(name)
      : Object.hasOwn(options.toolScopes, name) ? options.toolScopes[name] : undefined;
    if (declared) return declared;
    const meta = typeof tool === 'string' ? undefined : tool._meta?.[TOOL_SCOPE_META];
    return typeof meta === 'string' && meta ? meta : undefined;
  }

  function decide(identity: GuardIdentity, needed: Iterable<string | undefined>): ToolDecision {
    const missing = [...new Set([...needed].filter((s): s is string => s !== undefined && !identity.scopes.has(s)))];
    if (missing.length === 0) return { ok: true };
    const { denial, scope } = insufficientScope(missing, identity.scopes);
    const error = GuardError.from(denial);
    return { ok: false, error, scope, challenge: challenge(error, true, scope) };
  }

  return {
    issuer,
    resource,
    resourceMetadataUrl: metadataUrl,
    resourceMetadataPath: new URL(metadataUrl).pathname,
    resourceMetadata: document,

    async authenticate(authorization) {
      const token = bearerToken(authorization);
      if (token === undefined) {
        return { ok: false, error: new GuardError('invalid_token', 'authentication required', { rule: 'no-token' }), challenge: challenge(undefined, false, defaultScope) };
      }
      try {
        if (isApiKeyShaped(token)) return { ok: true, identity: await authenticateKey(token) };
        const verified = await verify(token);
        const act = verified.claims.act;
        const actor = act && typeof act === 'object' && typeof (act as { sub?: unknown }).sub === 'string' ? (act as { sub: string }).sub : undefined;
        const identity: GuardIdentity = { ...verified, actor };
        await confirmNotRevoked(identity);
        return { ok: true, identity };
      } catch (err) {
        let error = isGuardError(err) ? err : unavailable('internal', err);
        if (error.cause instanceof KeysUnavailable) error = unavailable('keys-unavailable', error.cause);
        return { ok: false, error, challenge: challenge(error, true, defaultScope) };
      }
    },

    authorizeTool(identity, tool) {
      return decide(identity, [scopeFor(tool)]);
    },

    authorizeMessage(identity, message) {
      return decide(identity, toolCallsIn(message).map((name) => scopeFor(name)));
    },

    filterTools(tools, identity) {
      return tools.filter((tool) => {
        const scope = scopeFor(tool);
        return scope === undefined || identity.scopes.has(scope);
      });
    },

    scopeFor,

    authInfo(identity) {
      return {
        token: identity.token,
        clientId: identity.clientId,
        scopes: [...identity.scopes],
        expiresAt: identity.expiresAt,
        resource: new URL(resource),
        resourceMetadataUrl: metadataUrl,
        extra: {
          subject: identity.subject,
          actor: identity.actor,
          grantId: identity.grantId,
          authTime: identity.authTime,
          acr: identity.acr,
          amr: identity.amr,
          orgId: identity.orgId,
          levels: identity.levels,
          keyId: identity.keyId,
        },
      };
    },

    challenge: (error, tokenPresented) => challenge(error, tokenPresented, error ? undefined : defaultScope),

    async ready(timeoutMs = 10_000) {
      return feed ? feed.whenCurrent(timeoutMs) : true;
    },

    revocationStatus() {
      return feed ? { freshness: feed.freshness(), lastSeq: feed.lastSeq } : { freshness: 'none', lastSeq: 0 };
    },

    async close() {
      await feed?.close();
    },
  };
}
