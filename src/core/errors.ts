/**
 * One way to fail. Every error Portcullis raises on purpose is a `PortcullisError` whose `code`
 * comes from a closed union; the HTTP status is derived from the code in one table, so the
 * guard, the admin API and the CLI cannot drift apart. Tests match `code`, never message text.
 *
 * OAuth protocol errors raised inside the protocol engine keep the engine's own error classes
 * (they already serialize per RFC 6749 §5.2); this type covers everything else.
 */

/** Denials shared by guard, gateway, audit and console (DESIGN.md "Denial codes"). */
export type DenialCode =
  | 'invalid_token'
  | 'invalid_audience'
  | 'token_revoked'
  | 'insufficient_scope'
  | 'step_up_required'
  | 'policy_denied'
  | 'rate_limited'
  | 'quota_exceeded';

/** Request and operation failures outside the OAuth wire protocol. */
export type RequestErrorCode =
  | 'invalid_request'
  | 'invalid_credentials'
  | 'csrf_failed'
  | 'not_found'
  | 'conflict'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_attempts'
  | 'config_invalid'
  | 'unavailable'
  | 'internal_error';

export type ErrorCode = DenialCode | RequestErrorCode;

const STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_token: 401,
  invalid_audience: 401,
  token_revoked: 401,
  insufficient_scope: 403,
  step_up_required: 403,
  policy_denied: 403,
  rate_limited: 429,
  quota_exceeded: 429,
  invalid_request: 400,
  invalid_credentials: 401,
  csrf_failed: 403,
  not_found: 404,
  conflict: 409,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_attempts: 429,
  config_invalid: 400,
  unavailable: 503,
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

/** Is this a dependency outage (the store, a mail server, key material out of reach)? Never to be renamed. */
export function isUnavailable(value: unknown): value is PortcullisError {
  return value instanceof PortcullisError && value.code === 'unavailable';
}

/** Wrap anything thrown into a client-safe error: unknown failures become a bare `internal_error`. */
export function toPublicError(err: unknown): PortcullisError {
  if (err instanceof PortcullisError) return err;
  return new PortcullisError('internal_error', 'internal error', { cause: err });
}
