/**
 * How code shared with the SDKs fails when it has to throw: one error type with a closed code
 * union, like the server's PortcullisError and each SDK's own class. It is not meant to reach an
 * SDK's user: each SDK turns it into its own error at its edge (sdk/guard → GuardError,
 * sdk/device-login → DeviceLoginError), so each keeps one error type. Refusing a request is not a
 * failure of this kind: denials are described as data (denials.ts) and never thrown from here.
 */
export type SharedErrorCode =
  /** outbound.ts will not fetch this URL: not https (plain http only to loopback, in development), or credentials in it. */
  | 'outbound_refused'
  /** discovery.ts found no authorization-server metadata, or found metadata naming another issuer. */
  | 'discovery_failed';

export class SharedError extends Error {
  readonly code: SharedErrorCode;

  constructor(code: SharedErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SharedError';
    this.code = code;
  }
}

export function isSharedError(value: unknown): value is SharedError {
  return value instanceof SharedError;
}
