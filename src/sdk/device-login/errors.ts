/**
 * The device-login kit's one error type. `code` comes from a closed union so that a bridge, a
 * CLI and an MCP server author can branch on it (and tests match it), never on message text.
 * Messages are written for the person at the keyboard: they say what happened and what to do.
 */
export type DeviceLoginCode =
  /** The token file is not valid JSON of the expected shape: not trusted, kept as a backup on the next save. */
  | 'auth_file_corrupt'
  /** The token file (or its directory) can be read by group or others: its tokens may have leaked, so not used. */
  | 'auth_file_insecure'
  /** The MCP server or its authorization server could not be discovered (RFC 9728 / RFC 8414). */
  | 'discovery_failed'
  /** The authorization server does not offer the device authorization grant (RFC 8628). */
  | 'device_flow_unsupported'
  /** No account is signed in for this server. */
  | 'not_signed_in'
  /** The tokens stopped working (refresh refused: revoked, expired or signed out elsewhere). */
  | 'signed_out'
  /** `auth_complete` without a started `auth_login`. */
  | 'no_pending_login'
  /** The device code expired before it was approved (RFC 8628 §3.5 `expired_token`). */
  | 'expired_token'
  /** The user denied the request (RFC 8628 §3.5 `access_denied`). */
  | 'access_denied'
  /** `auth_switch` to an account that is not signed in for this server. */
  | 'unknown_account'
  /** `PORTCULLIS_TOKEN` is set: it is used instead of the file, so signing in or out here would change nothing. */
  | 'token_from_environment'
  /** The authorization server answered with an error the kit cannot act on, or could not be reached. */
  | 'server_error'
  /** DeviceLogin was given options it cannot work with (neither `mcpUrl` nor `issuer`). */
  | 'config_invalid';

export class DeviceLoginError extends Error {
  readonly code: DeviceLoginCode;
  readonly detail: Readonly<Record<string, unknown>>;
  constructor(code: DeviceLoginCode, message: string, options: { detail?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeviceLoginError';
    this.code = code;
    this.detail = options.detail ?? {};
  }
}

export function isDeviceLoginError(value: unknown): value is DeviceLoginError {
  return value instanceof DeviceLoginError;
}
