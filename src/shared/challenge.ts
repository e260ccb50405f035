/**
 * The one place a denial becomes an HTTP answer. RFC 6750 §3 defines only `invalid_request`,
 * `invalid_token` and `insufficient_scope` on the wire, so our finer reasons (`invalid_audience`,
 * `token_revoked`, …) are logged and audited but sent as `invalid_token`. Every challenge names the
 * Protected Resource Metadata (RFC 9728 §5.1) so a client can find the authorization server.
 */
import { CHECK_STATUS, type CheckCode, type Denial } from './denials.ts';

export interface Challenge {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Quote a value for an auth-param (RFC 9110 §11.2 quoted-string). */
function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

export function bearerChallenge(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${quoted(value)}`);
  return parts.length ? `Bearer ${parts.join(', ')}` : 'Bearer';
}

const WIRE_CODE: Partial<Record<string, string>> = {
  invalid_token: 'invalid_token',
  invalid_audience: 'invalid_token',
  token_revoked: 'invalid_token',
  insufficient_scope: 'insufficient_scope',
};

export interface ChallengeContext {
  resourceMetadataUrl: string;
  /** Whether the request carried a token (RFC 6750 §3.1: no error code when none was sent). */
  tokenPresented: boolean;
  /** Scopes to ask for: on 401 the resource's defaults, on 403 every scope needed. */
  scope?: string;
  /** For `step_up_required`: how recent the sign-in must be, in seconds (RFC 9470 §3 `max_age`). */
  maxAge?: string;
  /** For `step_up_required`: the ACRs the sign-in must have (RFC 9470 §3 `acr_values`, space-separated). */
  acrValues?: string;
}

/** What a challenge needs of an error: its code and a safe message (a Denial, a PortcullisError, a GuardError). */
export type ChallengedError = Pick<Denial, 'message'> & { code: string };

/** The status of a code, for the codes a check can end in; anything else is an authentication failure. */
const statusOf = (code: string) => CHECK_STATUS[code as CheckCode] ?? 401;

/**
 * RFC 9470 §3's challenge: the token is good, but its sign-in is older than `maxAge` seconds allows
 * (or lacks the `acr_values` asked for, e.g. a second factor). Sent alone on a 401, or after an
 * `insufficient_scope` challenge when the scope missing is the one a recent sign-in grants.
 */
export function userAuthenticationChallenge(
  description: string,
  maxAge: string | undefined,
  params: { scope?: string; resource_metadata?: string; acr_values?: string } = {},
): string {
  const { acr_values, ...rest } = params;
  return bearerChallenge({ error: 'insufficient_user_authentication', error_description: description, acr_values, max_age: maxAge, ...rest });
}

/**
 * 401 for a missing or bad token or a sign-in too old (RFC 9470), 403 for missing scopes, 503 when
 * the token could not be checked.
 */
export function challengeFor(err: ChallengedError | undefined, ctx: ChallengeContext): Challenge {
  if (!err || !ctx.tokenPresented) {
    return {
      status: 401,
      headers: { 'www-authenticate': bearerChallenge({ resource_metadata: ctx.resourceMetadataUrl, scope: ctx.scope }) },
      body: { error: 'invalid_token', error_description: 'authentication required' },
    };
  }
  if (statusOf(err.code) >= 500) {
    // The token could not be checked (keys or revocation state out of reach): refuse, fail closed,
    // but without a Bearer challenge — the token is not known to be bad, so a client must not
    // throw it away and re-authorize; 503 + Retry-After says "try again shortly" (RFC 9110 §15.6.4).
    return {
      status: 503,
      headers: { 'retry-after': '5' },
      body: { error: 'temporarily_unavailable', error_description: err.message },
    };
  }
  if (err.code === 'step_up_required') {
    return {
      status: 401,
      headers: {
        'www-authenticate': userAuthenticationChallenge(err.message, ctx.maxAge, { scope: ctx.scope, resource_metadata: ctx.resourceMetadataUrl, acr_values: ctx.acrValues }),
      },
      body: { error: 'insufficient_user_authentication', error_description: err.message },
    };
  }
  const wire = WIRE_CODE[err.code] ?? 'invalid_token';
  const status = wire === 'insufficient_scope' ? 403 : statusOf(err.code) === 403 ? 403 : 401;
  return {
    status,
    headers: {
      'www-authenticate': bearerChallenge({
        error: wire,
        error_description: err.message,
        scope: ctx.scope,
        resource_metadata: ctx.resourceMetadataUrl,
      }),
    },
    body: { error: wire, error_description: err.message },
  };
}

/**
 * The denial for missing scopes, naming in `scope` every scope the request needs together with
 * those held, so one re-authorization asks for the union (MCP 2026-07-28: one challenge, all scopes).
 */
export function insufficientScope(needed: string[], held: Iterable<string>): { denial: Denial; scope: string } {
  const scope = [...new Set([...held, ...needed])].join(' ');
  return {
    denial: { code: 'insufficient_scope', message: 'the access token lacks a scope this request needs', rule: 'tool-scope', detail: { scope } },
    scope,
  };
}
