/**
 * Who may use the admin API. For now: an administrator's browser session (`__Host-pc_session` of a
 * user with `isAdmin`). Cookies ride along on cross-site requests, so every unsafe method must
 * also prove it comes from our own pages: an `X-CSRF-Token` header derived from the browser's CSRF
 * cookie (console/csrf.ts, purpose `admin-api`; the page gets it from `GET /session`), a matching
 * Origin when the browser sends one, and no `Sec-Fetch-Site: cross-site` (Fetch Metadata).
 *
 * One function decides, so API keys (a later issue) become one more branch here: a bearer key is
 * not sent automatically by browsers, so requests authenticated by it will not need the CSRF token.
 */
import { getCookie } from 'hono/cookie';
import { CSRF_COOKIE } from '../console/csrf.ts';
import { signedIn, type WebContext, type WebDeps } from '../console/web.ts';
import { AdminError } from './errors.ts';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_PURPOSE = 'admin-api';

export interface AdminPrincipal {
  kind: 'session';
  userId: string;
  email: string;
  name: string | null;
  /** Recorded as the reviewer of tool approvals and in logs. */
  label: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The administrator making this request, or an AdminError (401, 403 forbidden, 403 csrf_failed). */
export async function authenticateAdmin(deps: WebDeps, c: WebContext): Promise<AdminPrincipal> {
  const me = await signedIn(deps, c);
  if (!me) throw new AdminError('authentication_required', 'sign in as an administrator');
  if (!me.user.isAdmin) throw new AdminError('forbidden', 'only administrators may manage applications');
  if (!SAFE_METHODS.has(c.req.method)) {
    const crossSite = c.req.header('sec-fetch-site') === 'cross-site';
    const valid = deps.csrf.verify({
      cookieValue: getCookie(c, CSRF_COOKIE),
      submitted: c.req.header(CSRF_HEADER),
      purpose: CSRF_PURPOSE,
      origin: c.req.header('origin'),
    });
    if (crossSite || !valid) throw new AdminError('csrf_failed', `send the ${CSRF_HEADER} header from GET /session, from this site`);
  }
  return { kind: 'session', userId: me.user.id, email: me.user.email, name: me.user.name, label: me.user.email };
}

/** The token a page of ours embeds for this browser (its CSRF cookie was set by web.ts csrfCookie). */
export function adminCsrfToken(deps: WebDeps, c: WebContext): string {
  return deps.csrf.token(c.get('csrfCookie'), CSRF_PURPOSE);
}
