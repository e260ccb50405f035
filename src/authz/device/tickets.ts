/**
 * Between the device pages the user code travels in the URL with a ticket: a MAC of the code bound
 * to this browser's CSRF cookie, handed out only after the code was entered through the guess
 * limits (guesses.ts). Without one no page reveals whether a code exists.
 */
import { csrfToken, csrfValid, type WebContext, type WebDeps } from '../../web/pages.ts';
import { formatUserCode, normalizeUserCode } from './user-codes.ts';

/** This browser's ticket for a (normalized) user code. */
export function ticketFor(deps: WebDeps, c: WebContext, userCode: string): string {
  return csrfToken(deps, c, `device-ticket:${userCode}`);
}

/** The page after the code was entered: sign-in, then the confirmation. */
export function continueUrl(deps: WebDeps, c: WebContext, userCode: string): string {
  return `${deps.base}/device/continue?${new URLSearchParams({ user_code: formatUserCode(userCode), ticket: ticketFor(deps, c, userCode) })}`;
}

/** The code and ticket a later step carries; undefined unless the ticket is this browser's for this code. */
export function ticketed(deps: WebDeps, c: WebContext, input: { user_code?: unknown; ticket?: unknown }): string | undefined {
  const userCode = typeof input.user_code === 'string' ? normalizeUserCode(input.user_code) : undefined;
  if (!userCode || !csrfValid(deps, c, input.ticket, `device-ticket:${userCode}`)) return undefined;
  return userCode;
}
