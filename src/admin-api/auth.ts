/**
 * Who may use the admin API, decided in two steps:
 *
 * 1. `authenticateCaller` — who is asking: an API key (`Authorization: Bearer pcs_…`, live, with
 *    `admin: true`, its creator still enabled and still an owner or admin of the key's org), or a
 *    browser session (`__Host-pc_session`). Neither → 401.
 * 2. the route group decides whether that caller may act (admin-api/route-guards.ts): server-wide routes
 *    (applications, users) need a server administrator's session; `/orgs/:org/…` needs an owner or
 *    admin of that org (`orgManagersOnly`).
 *
 * Then `checkCsrf`: cookies ride along on cross-site requests, so every unsafe method of a session
 * must also prove it comes from our own pages — an `X-CSRF-Token` header derived from the browser's
 * CSRF cookie (web/csrf.ts, purpose `admin-api`; the page gets it from `GET /session`), a
 * matching Origin when the browser sends one, and no `Sec-Fetch-Site: cross-site` (Fetch
 * Metadata). A bearer key is never sent by a browser on its own, so key requests need none.
 * Authorization comes before the CSRF check, so a caller who may not act at all hears 403
 * `forbidden` / 404, not a CSRF complaint.
 */
import { isApiKeyShaped } from '../shared/api-key-shape.ts';
import { getCookie } from 'hono/cookie';
import { CSRF_COOKIE } from '../web/csrf.ts';
import { clientIp, signedIn, type WebContext, type WebDeps } from '../web/pages.ts';
import { hashApiKey } from '../api-keys/format.ts';
import { apiKeyStatus, isManager } from '../api-keys/service.ts';
import { PortcullisError } from '../core/errors.ts';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_PURPOSE = 'admin-api';

interface PrincipalBase {
  userId: string;
  email: string;
  name: string | null;
  /** A server administrator (sessions only: a key never acts server-wide). */
  isAdmin: boolean;
  /** Recorded as the reviewer of tool approvals, in logs and as `revokedBy`. */
  label: string;
}

export type AdminPrincipal =
  | (PrincipalBase & { kind: 'session' })
  /** An admin API key: acts only in `orgId`, as its creator (never beyond them). */
  | (PrincipalBase & { kind: 'key'; keyId: string; orgId: string });

/** Who acted, as the audit trail names them: a user's id, or `key:<id>` for an API key. */
export function actorOf(principal: AdminPrincipal): string {
  return principal.kind === 'key' ? `key:${principal.keyId}` : principal.userId;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function bearer(c: WebContext): string | undefined {
  const header = c.req.header('authorization');
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}

/** RFC 6750 §3: a refused bearer credential gets a challenge naming the error. */
function badKey(c: WebContext, why: string): PortcullisError {
  c.header('www-authenticate', 'Bearer error="invalid_token"');
  return new PortcullisError('invalid_token', why);
}

async function keyPrincipal(deps: WebDeps, c: WebContext, secret: string): Promise<AdminPrincipal> {
  if (!isApiKeyShaped(secret)) throw badKey(c, 'not an API key');
  const key = await deps.store.apiKeys.byHash(hashApiKey(deps.pepper, secret));
  if (!key || apiKeyStatus(key, deps.now()) !== 'active' || deps.revocations.has('key', key.id)) throw badKey(c, 'the API key is unknown, revoked or expired');
  const user = await deps.store.users.findById(key.userId);
  if (!user || user.disabledAt !== null || user.deletedAt !== null) throw badKey(c, 'the API key\'s owner can no longer act');
  if (key.permissions.admin !== true) throw new PortcullisError('forbidden', 'this API key has no admin permission');
  // The key never exceeds its creator: an admin key of someone no longer managing the org is powerless.
  const member = await deps.store.orgs.member(key.orgId, key.userId);
  if (!member || !isManager(member.role)) throw new PortcullisError('forbidden', 'the API key\'s owner no longer manages its organization');
  await deps.store.apiKeys.touch(key.id, deps.now(), clientIp(deps, c));
  return { kind: 'key', keyId: key.id, orgId: key.orgId, userId: user.id, email: user.email, name: user.name, isAdmin: false, label: `key:${key.id}` };
}

/** Who is asking (401 when nobody we know). */
export async function authenticateCaller(deps: WebDeps, c: WebContext): Promise<AdminPrincipal> {
  const secret = bearer(c);
  if (secret !== undefined) return keyPrincipal(deps, c, secret);
  if (c.req.header('authorization')) throw badKey(c, 'send Authorization: Bearer pcs_…');
  const me = await signedIn(deps, c);
  if (!me) throw new PortcullisError('authentication_required', 'sign in, or send an admin API key');
  return { kind: 'session', userId: me.user.id, email: me.user.email, name: me.user.name, isAdmin: me.user.isAdmin, label: me.user.email };
}

/** Server-wide routes: a server administrator's session. */
export function requireServerAdmin(principal: AdminPrincipal): void {
  if (principal.kind !== 'session' || !principal.isAdmin) throw new PortcullisError('forbidden', 'only server administrators may do this');
}

/** Unsafe methods of a session must carry our CSRF token (see the top of this file). */
export function checkCsrf(deps: WebDeps, c: WebContext, principal: AdminPrincipal): void {
  if (principal.kind === 'key' || SAFE_METHODS.has(c.req.method)) return;
  const crossSite = c.req.header('sec-fetch-site') === 'cross-site';
  const valid = deps.csrf.verify({
    cookieValue: getCookie(c, CSRF_COOKIE),
    submitted: c.req.header(CSRF_HEADER),
    purpose: CSRF_PURPOSE,
    origin: c.req.header('origin'),
  });
  if (crossSite || !valid) throw new PortcullisError('csrf_failed', `send the ${CSRF_HEADER} header from GET /session, from this site`);
}

/** The token a page of ours embeds for this browser (its CSRF cookie was set by web.ts csrfCookie). */
export function adminCsrfToken(deps: WebDeps, c: WebContext): string {
  return deps.csrf.token(c.get('csrfCookie'), CSRF_PURPOSE);
}
