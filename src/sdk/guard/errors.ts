/**
 * How the guard SDK fails: one error class with a closed code union, so an MCP server author can
 * branch on `err.code` and never on message text. Codes: the denials a token check ends in
 * (`invalid_token`, `invalid_audience`, `token_revoked`, `insufficient_scope`, …), `unavailable`
 * (keys, revocation feed or introspection out of reach: retry, do not sign the user out), and
 * `config_invalid` (createGuard was given options it cannot work with).
 *
 * It is the only error class the SDK lets out: shared code describes refusals as data
 * (shared/denials.ts, turned into a GuardError by `GuardError.from`), and its plumbing's own
 * failures (shared/errors.ts SharedError: a refused URL, metadata not found) are caught where the
 * guard calls it and reported as `unavailable` or `config_invalid`.
 */
import type { CheckCode, Denial } from '../../shared/denials.ts';

export type GuardErrorCode = CheckCode | 'config_invalid';

export class GuardError extends Error {
  readonly code: GuardErrorCode;
  /** The check that refused (logs); never needed to decide anything. */
  readonly rule: string;
  /** Safe details (the scopes a request needs). */
  readonly detail: Readonly<Record<string, unknown>>;

  constructor(code: GuardErrorCode, message: string, options: { rule?: string; detail?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GuardError';
    this.code = code;
    this.rule = options.rule ?? code;
    this.detail = options.detail ?? {};
  }

  static from(denial: Denial): GuardError {
    return new GuardError(denial.code, denial.message, { rule: denial.rule, detail: denial.detail, cause: denial.cause });
  }
}

export function isGuardError(value: unknown): value is GuardError {
  return value instanceof GuardError;
}

/** Keys, metadata, revocation feed or introspection out of reach: 503, never 401, so a client keeps its tokens. */
export function unavailable(rule: string, cause?: unknown): GuardError {
  return new GuardError('unavailable', 'the access token cannot be checked right now', { rule, cause });
}
