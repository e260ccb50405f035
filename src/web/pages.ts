/**
 * Shared plumbing for our server-rendered pages (Hono): security headers, CSRF cookie and tokens,
 * the signed-in user, client IP.
 */
import type { Store } from '../store/store.ts';
import type { Context, MiddlewareHandler } from 'hono';
import type { GrantRevoker } from '../revocation/grant-revoker.ts';
import type { SecretKey } from '../core/crypto.ts';
import type { RevocationList } from '../revocation/revocation-list.ts';
import { getCookie, setCookie } from 'hono/cookie';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { bodyLimit } from 'hono/body-limit';
import { BODY_LIMITS } from '../http/body-limits.ts';
import { requestIp } from '../http/io.ts';
import type { AttemptLimiter } from '../limits/attempts.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ResourceRegistry } from '../applications/protected-resources.ts';
import { CSRF_COOKIE, type Csrf } from './csrf.ts';
import { html, page } from './html.ts';
import { SESSION_COOKIE, type BrowserSessions, type SignedIn } from './session.ts';

export interface WebDeps {
  config: Config;
  store: Store;
  sessions: BrowserSessions;
  csrf: Csrf;
  /** The current engine (it is rebuilt when signing keys rotate). */
  provider: () => Provider;
  resources: ResourceRegistry;
  /**
   * Failed sign-ins per account and per client IP; "forgot password" requests per address and per
   * IP (in this process when not given). Shared by every instance when Redis is configured.
   */
  limits: { account: AttemptLimiter; ip: AttemptLimiter; forgotAddress?: AttemptLimiter; forgotIp?: AttemptLimiter };
  log: Logger;
  now: () => number;
  /** Issuer path prefix ('' at the root). */
  base: string;
  /** Keyed hashes of one-time links, API keys and secrets. */
  pepper: SecretKey;
  /** Seals secrets kept for people (TOTP secrets: identity/totp.ts). */
  dataKey: SecretKey;
  /** Revoke a grant's tokens at once (connected apps, member removal). */
  revokeGrant: GrantRevoker;
  /** The process's audit log: changes made through pages and the admin API are written before they answer. */
  audit: AuditLog;
  /** This process's revocation list: `apply` an event recorded in the store so local guards hear at once. */
  revocations: RevocationList;
}

export type NodeBindings = { incoming: IncomingMessage; outgoing: ServerResponse };
export type WebEnv = { Bindings: NodeBindings; Variables: { csrfCookie: string } };
export type WebContext = Context<WebEnv>;

// script-src/connect-src 'self': the passkey buttons (WebAuthn has no form-only API) run two files
// we serve ourselves (console/passkey-assets.ts) and post JSON back here; still no inline script.
const BASE_CSP = ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "style-src 'self'", "img-src 'self' https: data:", "base-uri 'none'", "frame-ancestors 'none'"];

/**
 * CSP with no inline script or style. `formTargets` widens form-action for pages whose form
 * submission ends in a redirect to a client (browsers apply form-action to the redirect chain).
 */
export function contentSecurityPolicy(formTargets: string[] = []): string {
  return [...BASE_CSP, `form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}`].join('; ');
}

export function securityHeaders(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    if (!headers.has('content-security-policy')) headers.set('content-security-policy', contentSecurityPolicy());
    headers.set('x-content-type-options', 'nosniff');
    // Not 'no-referrer': with it, browsers send `Origin: null` on every form POST (Fetch spec,
    // "append a request Origin header"), so the CSRF Origin check refused every real browser's
    // sign-in and setup. 'same-origin' still sends nothing to other sites (clients, logo hosts).
    headers.set('referrer-policy', 'same-origin');
    headers.set('x-frame-options', 'DENY');
    if (!headers.has('cache-control')) headers.set('cache-control', 'no-store');
  };
}

const FORM_TYPES = /^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i;

/**
 * A form body that cannot be read (a broken multipart boundary, a truncated upload) is the
 * sender's mistake: 400, before any page handler runs. Handlers call c.req.parseBody() themselves;
 * Hono caches the parsed form on the request, so reading it here first costs nothing more.
 */
export function readableForms(): MiddlewareHandler<WebEnv> {
  // Counted while reading (a chunked body has no length to refuse up front; the front door,
  // server/router.ts, refuses declared lengths before any byte is read).
  const bounded = bodyLimit({
    maxSize: BODY_LIMITS.page,
    onError: (c) => c.html(page({ title: 'Form too large', body: html`<h1>This form is too large</h1><p data-code="payload_too_large">Go back and send less.</p>` }), 413),
  });
  return async (c, next) => {
    if (c.req.method !== 'POST' || !FORM_TYPES.test(c.req.header('content-type') ?? '')) return next();
    // bodyLimit answers what its `next` returns: the 400 below, or nothing (the page answers).
    return bounded(c, (() => parsedOr400(c, next)) as () => Promise<void>);
  };
}

async function parsedOr400(c: WebContext, next: () => Promise<void>): Promise<Response | void> {
  try {
    await c.req.parseBody({ all: true });
  } catch {
    return c.html(page({ title: 'Form not readable', body: html`<h1>This form could not be read</h1><p>Go back, reload the page and try again.</p>` }), 400);
  }
  await next();
}

/** Make sure the browser has a CSRF cookie; its value is available as c.get('csrfCookie'). */
export function csrfCookie(deps: WebDeps): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    let value = getCookie(c, CSRF_COOKIE);
    if (!value || !/^[\w-]{20,64}$/.test(value)) {
      value = deps.csrf.newCookieValue();
      setCookie(c, CSRF_COOKIE, value, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' });
    }
    c.set('csrfCookie', value);
    await next();
  };
}

export function csrfToken(deps: WebDeps, c: WebContext, purpose: string): string {
  return deps.csrf.token(c.get('csrfCookie'), purpose);
}

export function csrfValid(deps: WebDeps, c: WebContext, submitted: unknown, purpose: string): boolean {
  return deps.csrf.verify({
    cookieValue: getCookie(c, CSRF_COOKIE),
    submitted,
    purpose,
    origin: c.req.header('origin'),
  });
}

export async function signedIn(deps: WebDeps, c: WebContext): Promise<SignedIn | undefined> {
  return deps.sessions.read(getCookie(c, SESSION_COOKIE));
}

export function setSessionCookie(c: WebContext, value: string, maxAge: number): void {
  setCookie(c, SESSION_COOKIE, value, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge });
}

export function clearSessionCookie(c: WebContext): void {
  setCookie(c, SESSION_COOKIE, '', { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge: 0 });
}

/** The client's address (see http/io.ts requestIp). */
export function clientIp(deps: WebDeps, c: WebContext): string {
  return requestIp(c.env.incoming, deps.config.trustProxy);
}

/** Form field as a string ('' when absent or repeated). */
export function field(form: Record<string, unknown>, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : '';
}
