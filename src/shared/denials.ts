/**
 * Why a request was refused, in words the authorization server, the gateway, the guard SDK and
 * the audit log share (DESIGN.md "Denial codes"), and the status each one answers with. On the
 * wire, OAuth challenges keep to RFC 6750 (`invalid_token`, `insufficient_scope`; shared/challenge.ts);
 * the finer reason is logged and audited.
 *
 * Code shared with the SDKs does not throw for a refusal: it describes it as a `Denial` and lets its
 * caller build the error — the server's PortcullisError (core/errors.ts), the guard SDK's GuardError —
 * so each side keeps one error type. (Failures of the shared plumbing itself, a refused URL or
 * metadata not found, are SharedError, errors.ts, which each SDK turns into its own at its edge.)
 */
export type DenialCode =
  | 'invalid_token'
  | 'invalid_audience'
  | 'token_revoked'
  | 'insufficient_scope'
  | 'step_up_required'
  | 'policy_denied'
  | 'rate_limited'
  | 'quota_exceeded';

/** What checking a request can end in: a denial, or "cannot check right now" (keys, store, feed out of reach). */
export type CheckCode = DenialCode | 'unavailable';

/** HTTP status per code (RFC 6750 §3.1, RFC 9110 §15). */
export const CHECK_STATUS: Readonly<Record<CheckCode, number>> = {
  invalid_token: 401,
  invalid_audience: 401,
  token_revoked: 401,
  insufficient_scope: 403,
  step_up_required: 403,
  policy_denied: 403,
  rate_limited: 429,
  quota_exceeded: 429,
  unavailable: 503,
};

/** A refusal as data: the code, the rule that produced it (logs and audit), a safe message, safe details. */
export interface Denial {
  code: CheckCode;
  rule: string;
  message: string;
  detail?: Record<string, unknown>;
  cause?: unknown;
}

/** Builds the error a side throws for a denial (PortcullisError.from, GuardError.from). */
export type Refuse = (denial: Denial) => Error;
