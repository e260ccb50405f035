/**
 * The denial reference: for every error code (core/errors.ts, shared/denials.ts) what it means
 * and how to fix it. One table typed by the closed union, so a new code cannot ship without its
 * entry (tsc refuses; test/console/denial-reference.test.ts checks at run time too). The public
 * page (console/denial-reference-page.ts) is drawn from it, and refusals point at it: OAuth
 * errors carry `error_uri` (RFC 6749 §5.2), gateway JSON-RPC errors `data.help`.
 * The status and the wire codes are not written here: they come from the renderers' own tables.
 */
import type { ErrorCode } from './errors.ts';

/** Where the reference is served, below the server's public URL; each code is an anchor (its own name). */
export const DENIAL_REFERENCE_PATH = '/docs/denials';

/** The reference's entry for `code`: what a client's developer opens from `error_uri` / `data.help`. */
export function denialHelpUrl(publicUrl: string, code: ErrorCode): string {
  return `${publicUrl}${DENIAL_REFERENCE_PATH}#${code}`;
}

export interface DenialEntry {
  /** What went wrong, for the person reading a client's log. */
  meaning: string;
  /** What to do about it. */
  fix: string;
}

export const DENIAL_REFERENCE: Readonly<Record<ErrorCode, DenialEntry>> = {
  invalid_token: {
    meaning: 'The access token is missing, malformed, expired, not signed by one of this server’s keys, or issued by another server.',
    fix: 'Get a new access token (refresh it, or sign in again). Send it as `Authorization: Bearer <token>`, once.',
  },
  invalid_audience: {
    meaning: 'The token was issued for another application (its `aud` is not this application’s resource URL). Sent as `invalid_token` (RFC 6750 §3.1).',
    fix: 'Request the token with `resource` set to this application’s URL (RFC 8707), as its protected resource metadata says.',
  },
  token_revoked: {
    meaning: 'The grant behind the token was revoked: the person disconnected the client, an administrator revoked it, or the account was disabled. Sent as `invalid_token`.',
    fix: 'Start the authorization again; the person must approve the client anew.',
  },
  insufficient_scope: {
    meaning: 'The token lacks a scope this tool, resource or prompt needs. The challenge’s `scope` lists every scope needed.',
    fix: 'Ask for the scopes named in the `WWW-Authenticate` challenge and have the person approve them.',
  },
  step_up_required: {
    meaning: 'The tool needs a recent sign-in (and possibly a second factor) and the token’s sign-in is too old (RFC 9470).',
    fix: 'Send the person through authorization again with the challenge’s `max_age` / `acr_values`, then retry with the new token.',
  },
  policy_denied: {
    meaning: 'A rule of the application refused the call: the tool is not approved, the caller’s IP or the time is outside what is allowed, or an argument names a resource outside the caller’s grant. `data.rule` names the rule.',
    fix: 'Ask the server administrator; the policy simulator (Server · Policy simulator) shows which rule decided and why.',
  },
  rate_limited: {
    meaning: 'Too many requests in a short time for this caller, client, key or application.',
    fix: 'Wait the number of seconds in `Retry-After`, then retry; slow down.',
  },
  quota_exceeded: {
    meaning: 'The caller used up its quota for the period.',
    fix: 'Wait for the period to end (`Retry-After`), or ask an administrator for a larger quota.',
  },
  unavailable: {
    meaning: 'The server could not check the request right now: its database, cache, keys or revocation feed are out of reach. Nothing is wrong with the request.',
    fix: 'Retry after `Retry-After` seconds.',
  },
  invalid_request: {
    meaning: 'The request is malformed: a missing or invalid parameter, a bad JSON-RPC message, conflicting headers.',
    fix: 'Correct the request as the message says.',
  },
  invalid_credentials: {
    meaning: 'The e-mail address, password, API key or code is not right.',
    fix: 'Check the credential; reset the password if needed.',
  },
  authentication_required: {
    meaning: 'The request carried no session and no API key.',
    fix: 'Sign in, or send an administrator API key.',
  },
  forbidden: {
    meaning: 'You are signed in but may not do this (not an administrator of the server or of the organization).',
    fix: 'Ask an administrator for the role, or use an account that has it.',
  },
  csrf_failed: {
    meaning: 'A form was sent without a valid anti-forgery token, or from another site.',
    fix: 'Reload the page and send the form again.',
  },
  invalid_client: {
    meaning: 'Client authentication failed (unknown client, wrong secret, bad assertion, or not the method the client registered) (RFC 6749 §5.2).',
    fix: 'Authenticate with the client’s registered `token_endpoint_auth_method` and current credentials.',
  },
  unauthorized_client: {
    meaning: 'The client is known but may not do this, e.g. revoke or introspect another client’s token (RFC 7009 §2.2).',
    fix: 'Only act on tokens issued to this client, or register the client for this use.',
  },
  not_found: {
    meaning: 'Nothing exists at this address, or it is not visible to you.',
    fix: 'Check the identifier or URL.',
  },
  conflict: {
    meaning: 'The change conflicts with the current state.',
    fix: 'Reload the current state, then change it again.',
  },
  method_not_allowed: {
    meaning: 'This address does not accept this HTTP method; `Allow` lists the ones it does.',
    fix: 'Use a method from the `Allow` header.',
  },
  payload_too_large: {
    meaning: 'The request body is larger than this endpoint accepts.',
    fix: 'Send a smaller body (split a batch, shorten arguments).',
  },
  unsupported_media_type: {
    meaning: 'The body’s content type or content encoding is not one this endpoint reads.',
    fix: 'Send the content type the endpoint expects, uncompressed.',
  },
  too_many_attempts: {
    meaning: 'Too many failed attempts (sign-in, codes); further attempts are locked for a while.',
    fix: 'Wait for the lock to expire (`Retry-After`), then try again carefully.',
  },
  limit_too_loose: {
    meaning: 'A rate limit or quota was set looser than the limit that bounds it.',
    fix: 'Choose a value within the server’s (or organization’s) limit.',
  },
  config_invalid: {
    meaning: 'The configuration or definition does not validate; the field errors say where.',
    fix: 'Correct the fields named.',
  },
  read_only: {
    meaning: 'This is defined in the configuration file or built in, so it cannot be changed here.',
    fix: 'Change it in the configuration file and restart or reload.',
  },
  already_exists: {
    meaning: 'Something with this name (an application’s slug) exists already.',
    fix: 'Choose another name, or change the existing one.',
  },
  path_in_use: {
    meaning: 'Another application is served at this path.',
    fix: 'Choose another path.',
  },
  tool_changed: {
    meaning: 'The tool changed after it was reviewed: the fingerprint given is not the current one.',
    fix: 'Review the tool’s current definition, then approve it again.',
  },
  last_owner: {
    meaning: 'The change would leave the organization without an owner.',
    fix: 'Make someone else an owner first.',
  },
  already_member: {
    meaning: 'The person is already a member of the organization.',
    fix: 'Nothing to do; change their role instead if needed.',
  },
  invitation_invalid: {
    meaning: 'The invitation is unknown, used, revoked or expired.',
    fix: 'Ask for a new invitation.',
  },
  already_revoked: {
    meaning: 'It was revoked already; revoking is permanent.',
    fix: 'Nothing to do.',
  },
  upstream_unavailable: {
    meaning: 'The MCP server behind the application could not be reached, or answered with an error.',
    fix: 'Retry later; administrators: the connection doctor checks the upstream.',
  },
  upstream_timeout: {
    meaning: 'The MCP server behind the application did not answer in time.',
    fix: 'Retry later; administrators: check the upstream’s health and the timeout.',
  },
  upstream_overloaded: {
    meaning: 'The MCP server behind the application is overloaded (its process pool is full, or it said 503).',
    fix: 'Back off and retry after `Retry-After`.',
  },
  sso_refused: {
    meaning: 'The identity provider’s answer failed a check (state, issuer, signature, timing).',
    fix: 'Start the single sign-on again from this server’s sign-in page; administrators: the audit trail says which check failed.',
  },
  sso_account_refused: {
    meaning: 'The identity provider signed you in, but this account may not sign in through it (unverified or foreign e-mail, existing account, disabled).',
    fix: 'Sign in another way, or ask an administrator to link the account.',
  },
  unknown_connection: {
    meaning: 'There is no such single sign-on connection.',
    fix: 'Use the sign-in page’s own link for your organization.',
  },
  idp_unavailable: {
    meaning: 'The identity provider could not be reached, or answered with an error.',
    fix: 'Retry later.',
  },
  invalid_return_to: {
    meaning: 'The page to return to after signing in is not a page of this server.',
    fix: 'Start from a link on this server.',
  },
  sso_required: {
    meaning: 'Your organization signs its members in only through its identity provider: no password.',
    fix: 'Use “Sign in with single sign-on”.',
  },
  domain_claimed: {
    meaning: 'Another organization (or the configuration) has claimed and verified this e-mail domain.',
    fix: 'Use another domain, or ask the server administrator.',
  },
  verification_failed: {
    meaning: 'The domain’s DNS TXT record was not found or does not carry the organization’s token.',
    fix: 'Publish the TXT record shown, wait for DNS to update, and verify again.',
  },
  passkey_refused: {
    meaning: 'The passkey’s answer did not verify (origin, challenge, signature, user verification or counter).',
    fix: 'Try again on this site’s own address, or sign in another way.',
  },
  reauthentication_required: {
    meaning: 'Your sign-in is too old for this change.',
    fix: 'Sign in again, then repeat the change.',
  },
  signin_expired: {
    meaning: 'The pending sign-in this step belongs to expired or was finished already.',
    fix: 'Start signing in again.',
  },
  internal_error: {
    meaning: 'The server failed unexpectedly; nothing about the failure is shown.',
    fix: 'Retry; if it persists, administrators: the server log has the details.',
  },
};
