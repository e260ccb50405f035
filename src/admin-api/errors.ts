/**
 * How the admin API fails: a JSON body `{error: <code>, message, ...detail}` whose code comes from
 * one closed union, with the HTTP status derived from the code in one table (as core/errors.ts
 * does for the rest of Portcullis). Errors raised elsewhere as PortcullisError keep their code
 * and status; anything else becomes a bare `internal_error` — never a stack trace.
 *
 * The codes below exist only here because the core union has no words yet for "who are you" and
 * "you may not"; when the identity work adds them to core/errors.ts, these fold into it.
 */
import { isPortcullisError } from '../core/errors.ts';
import { RETRY_AFTER_SECONDS } from '../http/refusal.ts';

export type AdminErrorCode =
  /** No session and no API key. */
  | 'authentication_required'
  /** A bearer credential that is not a live API key (RFC 6750 §3.1). */
  | 'invalid_token'
  /** Signed in, but not an administrator (of the server, or of the organization). */
  | 'forbidden'
  /** Unsafe method without a valid X-CSRF-Token, or from a foreign Origin. */
  | 'csrf_failed'
  | 'invalid_request'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'not_found'
  /** Defined in the configuration file or built in: change it there, not through the API. */
  | 'read_only'
  /** An application with this slug exists already. */
  | 'already_exists'
  /** Another application is served at this path. */
  | 'path_in_use'
  /** The tool changed after the reviewer looked at it (the given fingerprint is not the current one). */
  | 'tool_changed'
  /** The MCP server behind the application could not be asked for its tools. */
  | 'upstream_unavailable'
  /** The change would leave an organization without an owner (docs/design/identity.md). */
  | 'last_owner'
  /** Already a member of the organization (adding, inviting). */
  | 'already_member'
  /** The invitation is unknown, used, revoked or expired. */
  | 'invitation_invalid'
  /** The API key is revoked already (revoking is permanent; a second revoke changes nothing). */
  | 'already_revoked'
  | 'internal_error';

const STATUS: Readonly<Record<AdminErrorCode, 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 500 | 502>> = {
  authentication_required: 401,
  invalid_token: 401,
  forbidden: 403,
  csrf_failed: 403,
  invalid_request: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  not_found: 404,
  read_only: 409,
  already_exists: 409,
  path_in_use: 409,
  tool_changed: 409,
  upstream_unavailable: 502,
  last_owner: 409,
  already_member: 409,
  invitation_invalid: 410,
  already_revoked: 409,
  internal_error: 500,
};

export class AdminError extends Error {
  readonly code: AdminErrorCode;
  /** Safe, client-visible details (field errors, current fingerprint…). */
  readonly detail: Readonly<Record<string, unknown>>;

  constructor(code: AdminErrorCode, message: string, detail: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AdminError';
    this.code = code;
    this.detail = detail;
  }

  get status(): (typeof STATUS)[AdminErrorCode] {
    return STATUS[this.code];
  }
}

export interface ErrorAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The answer for anything thrown by a handler; `internal` says whether it must be logged as a fault. */
export function errorAnswer(err: unknown): ErrorAnswer & { internal: boolean; headers?: Record<string, string> } {
  if (err instanceof AdminError) return { status: err.status, body: { error: err.code, message: err.message, ...err.detail }, internal: false };
  if (isPortcullisError(err) && err.code !== 'internal_error') return { status: err.status, body: err.toJSON(), internal: false, ...(err.code === 'unavailable' ? { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } } : {}) };
  return { status: 500, body: { error: 'internal_error' }, internal: true };
}
