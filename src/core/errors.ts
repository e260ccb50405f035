/**
 * One way to fail. Every error Portcullis raises on purpose is a `PortcullisError` whose `code`
 * comes from one closed union; the HTTP status is derived from the code in one table, so the
 * gateway, the OAuth endpoints, the admin API, the pages and the CLI cannot drift apart. How an
 * error looks on the wire is each surface's one renderer (http/refusal.ts: JSON-RPC, RFC 6749 §5.2,
 * the admin API's JSON, a page; shared/challenge.ts: WWW-Authenticate; cli/output.ts: one line).
 * Tests match `code`, never message text.
 *
 * OAuth protocol errors raised inside the protocol engine keep the engine's own error classes
 * (they already serialize per RFC 6749 §5.2); the published SDKs have error classes of their own
 * (sdk/guard, sdk/device-login), since they run in other people's processes.
 */
import { CHECK_STATUS, type CheckCode, type Denial } from '../shared/denials.ts';

export type { DenialCode } from '../shared/denials.ts';

/** Request and operation failures outside the OAuth wire protocol. */
export type RequestErrorCode =
  | 'invalid_request'
  | 'invalid_credentials'
  /** No session and no API key (admin API, pages that need a sign-in). */
  | 'authentication_required'
  /** Signed in, but not allowed (not an administrator of the server or of the organization). */
  | 'forbidden'
  /** An unsafe request without a valid CSRF token, or from a foreign Origin. */
  | 'csrf_failed'
  /** Client authentication failed at one of our OAuth endpoints (RFC 6749 §5.2). */
  | 'invalid_client'
  /** The client is known but may not do this (another client's token, RFC 7009 §2.2; RFC 6749 §5.2). */
  | 'unauthorized_client'
  | 'not_found'
  | 'conflict'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_attempts'
  /** A rate limit or quota set looser than what bounds it (the server's, or the organization's for a key or client). */
  | 'limit_too_loose'
  | 'config_invalid'
  /** Defined in the configuration file or built in: change it there, not through the API. */
  | 'read_only'
  /** Something with this name (an application's slug) exists already. */
  | 'already_exists'
  /** Another application is served at this path. */
  | 'path_in_use'
  /** The tool changed after the reviewer looked at it (the given fingerprint is not the current one). */
  | 'tool_changed'
  /** The change would leave an organization without an owner (docs/design/identity.md). */
  | 'last_owner'
  /** Already a member of the organization (adding, inviting). */
  | 'already_member'
  /** The invitation is unknown, used, revoked or expired. */
  | 'invitation_invalid'
  /** Revoked already (revoking is permanent; a second revoke changes nothing). */
  | 'already_revoked'
  /** The MCP server behind an application could not be reached or answered with an error (502). */
  | 'upstream_unavailable'
  /** ... did not answer in time (504, RFC 9110 §15.6.5). */
  | 'upstream_timeout'
  /** ... is overloaded: its process pool is full, or it answered 503 itself — clients back off (503). */
  | 'upstream_overloaded'
  /** Single sign-on (web/sso-routes.ts): the IdP's answer failed a check (state, login CSRF, `iss`, …); the audit record's reason says which. */
  | 'sso_refused'
  /** … the IdP signed the person in, but this account may not sign in through it (unverified or foreign e-mail, account exists, disabled). */
  | 'sso_account_refused'
  /** No such single sign-on connection. */
  | 'unknown_connection'
  /** The identity provider cannot be reached, or answered with an error (502). */
  | 'idp_unavailable'
  /** The page to return to after a sign-in is not a path on this server (no open redirect). */
  | 'invalid_return_to'
  /** The organization signs its members in only through its identity provider (`requireSso`): no password. */
  | 'sso_required'
  /** An e-mail domain another organization (or the configuration) has claimed, verified. */
  | 'domain_claimed'
  /** The domain's DNS TXT record was not found or does not carry the organization's token. */
  | 'verification_failed'
  /** A passkey's answer did not verify (origin, RP ID, challenge, signature, user verification, counter): identity/passkeys.ts; the audit record says which. */
  | 'passkey_refused'
  /** The sign-in is too old for this change (adding or removing a passkey): sign in again first. */
  | 'reauthentication_required'
  /** The pending sign-in this second step belongs to expired or was finished already (web/second-factor.ts). */
  | 'signin_expired'
  | 'internal_error';

/** The denial codes and `unavailable` (a dependency out of reach: retry shortly), then ours. */
export type ErrorCode = CheckCode | RequestErrorCode;

const STATUS: Readonly<Record<ErrorCode, number>> = {
  ...CHECK_STATUS,
  invalid_request: 400,
  invalid_credentials: 401,
  authentication_required: 401,
  forbidden: 403,
  csrf_failed: 403,
  invalid_client: 401,
  unauthorized_client: 400,
  not_found: 404,
  conflict: 409,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_attempts: 429,
  limit_too_loose: 400,
  config_invalid: 400,
  read_only: 409,
  already_exists: 409,
  path_in_use: 409,
  tool_changed: 409,
  last_owner: 409,
  already_member: 409,
  invitation_invalid: 410,
  already_revoked: 409,
  upstream_unavailable: 502,
  upstream_timeout: 504,
  upstream_overloaded: 503,
  sso_refused: 400,
  sso_account_refused: 403,
  unknown_connection: 404,
  idp_unavailable: 502,
  invalid_return_to: 400,
  sso_required: 403,
  domain_claimed: 409,
  verification_failed: 400,
  passkey_refused: 401,
  reauthentication_required: 401,
  signin_expired: 410,
  internal_error: 500,
};

export function statusFor(code: ErrorCode): number {
  return STATUS[code];
}

export interface FieldError {
  /** Dotted path of the offending field, e.g. `tokens.accessTokenTtl`. */
  path: string;
  message: string;
}

export class PortcullisError extends Error {
  readonly code: ErrorCode;
  /** The rule or check that produced the error; recorded in logs and audit, never shown to attackers. */
  readonly rule: string;
  /** Safe, client-visible details (scope lists, field errors, retry hints). */
  readonly detail: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { rule?: string; detail?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PortcullisError';
    this.code = code;
    this.rule = options.rule ?? code;
    this.detail = options.detail ?? {};
  }

  /** The server's error for a denial described by shared code (shared/denials.ts). */
  static from(denial: Denial): PortcullisError {
    return new PortcullisError(denial.code, denial.message, { rule: denial.rule, detail: denial.detail, cause: denial.cause });
  }

  get status(): number {
    return statusFor(this.code);
  }

  /** The JSON body an HTTP client sees: code and message, plus safe details. Never a stack. */
  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.detail };
  }
}

export function isPortcullisError(value: unknown): value is PortcullisError {
  return value instanceof PortcullisError;
}

/**
 * A refusal the caller can act on (4xx): bad input, not allowed, not found, a conflict. Not an
 * outage (503) and not a fault (500) — pages show a refusal in place, and let those two through
 * to the error handler that answers them.
 */
export function isRefusal(value: unknown): value is PortcullisError {
  return value instanceof PortcullisError && value.status < 500;
}

/** Is this a dependency outage (the store, a mail server, key material out of reach)? Never to be renamed. */
export function isUnavailable(value: unknown): value is PortcullisError {
  return value instanceof PortcullisError && value.code === 'unavailable';
}

/** Wrap anything thrown into a client-safe error: unknown failures become a bare `internal_error`. */
export function toPublicError(err: unknown): PortcullisError {
  if (err instanceof PortcullisError) return err;
  return new PortcullisError('internal_error', 'internal error', { cause: err });
}
