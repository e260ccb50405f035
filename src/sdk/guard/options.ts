/**
 * What `createGuard` is told, and the check that it can work with it: a mistake in these options
 * is the server author's to fix before the first request, so it fails at once with
 * `config_invalid` rather than as a 503 on every request later.
 */
import { checkOutboundUrl } from '../../shared/outbound.ts';
import { GuardError } from './errors.ts';

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

/** Throws GuardError `config_invalid` naming the first option it cannot work with. */
export function validateOptions(options: GuardOptions, allowHttpLoopback: boolean): void {
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
      // The shared check's SharedError (or an unparsable URL's TypeError), at the guard's edge.
      fail(`${url}: ${(err as Error).message}`);
    }
  }
  if (options.revocations && (!options.revocations.clientId || !options.revocations.clientSecret)) fail('revocations needs clientId and clientSecret');
  if (options.introspection && (!options.introspection.clientId || !options.introspection.clientSecret)) fail('introspection needs clientId and clientSecret');
}
