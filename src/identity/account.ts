/**
 * What a person does with their own account, without HTTP: their name, their password, their
 * sign-in sessions, and the apps they connected. The pages in console/account/ are thin forms
 * over these functions; the org admin pages use the connected-apps part for a whole organization.
 *
 * Decisions (issue 5):
 * - changing the password ends every OTHER browser session of the user (the one that changed it
 *   stays) and every engine session (single sign-on for authorizations: the browser that stays
 *   signed in answers the next sign-in prompt from its own session, so nothing is lost there);
 * - "sign out everywhere" ends browser and engine sessions, but does NOT disconnect apps: grants
 *   are a separate decision (connected apps), and the page says so;
 * - session ids (keyed hashes of cookies) never reach a page: a page names a session by a
 *   reference derived from it with the pepper.
 */
import type { Store } from '../store/store.ts';
import type { GrantContext } from '../store/grant-contexts.ts';
import type { SessionRecord } from '../store/sessions.ts';
import type { User } from '../store/users.ts';
import type Provider from 'oidc-provider';
import type { GrantRevoker } from '../revocation/grant-revoker.ts';
import type { ProtectedResources } from '../core/protected-resource.ts';
import { keyedHash, verifyPassword, type SecretKey } from '../core/crypto.ts';
import { endAllSessions } from './password-reset.ts';
import { MAX_NAME_LENGTH } from './new-users.ts';
import { checkNewPassword, hashNewPassword } from './passwords.ts';

export interface AccountDeps {
  store: Store;
  pepper: SecretKey;
  now: () => number;
}

export interface ConnectedAppsDeps extends AccountDeps {
  provider: () => Provider;
  resources: ProtectedResources;
  revokeGrant: GrantRevoker;
}

// ---- profile ----

/** Set the display name (trimmed; empty clears it). False when the name is too long. */
export async function updateName(deps: AccountDeps, userId: string, raw: string): Promise<boolean> {
  const name = raw.trim();
  if (name.length > MAX_NAME_LENGTH) return false;
  await deps.store.users.setName(userId, name || null);
  return true;
}

// ---- password ----

export type PasswordChange = 'changed' | 'wrong_current';

/**
 * Change the password after checking the current one (Argon2id both ways). The new one must pass
 * the password policy (identity/passwords.ts: 400 `invalid_request` naming `password`), checked
 * first, so a refused new password costs no guess at the current one. The caller has checked the
 * confirmation. Every other browser session, and every engine session, of the user ends.
 */
export async function changePassword(deps: AccountDeps, user: User, current: string, next: string, keepSessionId: string): Promise<PasswordChange> {
  checkNewPassword(next);
  if (!user.passwordHash || !(await verifyPassword(current, user.passwordHash))) return 'wrong_current';
  await deps.store.users.setPassword(user.id, await hashNewPassword(next));
  const sessions = await deps.store.sessions.listForUser(user.id);
  await Promise.all(sessions.filter((s) => s.id !== keepSessionId).map((s) => deps.store.sessions.delete(s.id)));
  await deps.store.oidc.destroyByAccount('Session', user.id);
  return 'changed';
}

// ---- sign-in sessions ----

export interface SessionView {
  /** Names the session on a page (never the stored id). */
  ref: string;
  ip: string | null;
  userAgent: string | null;
  createdAt: number;
  lastSeenAt: number;
  current: boolean;
  /** How the person proved who they are (RFC 8176 method values: pwd, otp, hwk, mfa, ext…). */
  amr: string[];
  /** The single sign-on connection that signed them in, when one did. */
  ssoConnection: string | undefined;
}

export function sessionRef(pepper: SecretKey, sessionId: string): string {
  return keyedHash(pepper, `session-ref:${sessionId}`).slice(0, 24);
}

async function liveSessions(deps: AccountDeps, userId: string): Promise<SessionRecord[]> {
  const now = deps.now();
  return (await deps.store.sessions.listForUser(userId)).filter((s) => s.expiresAt > now);
}

/** The user's live browser sessions, most recently seen first. */
export async function listSessions(deps: AccountDeps, userId: string, currentId: string): Promise<SessionView[]> {
  return (await liveSessions(deps, userId))
    .sort((a, b) => b.lastSeenAt - a.lastSeenAt)
    .map((s) => ({ ref: sessionRef(deps.pepper, s.id), ip: s.ip, userAgent: s.userAgent, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, current: s.id === currentId, amr: s.amr, ssoConnection: s.ssoConnection }));
}

/** End one of the user's own sessions; false when `ref` names none of theirs. */
export async function endSession(deps: AccountDeps, userId: string, ref: string): Promise<{ ended: boolean; id?: string }> {
  const session = (await liveSessions(deps, userId)).find((s) => sessionRef(deps.pepper, s.id) === ref);
  if (!session) return { ended: false };
  await deps.store.sessions.delete(session.id);
  return { ended: true, id: session.id };
}

/** Every browser and engine session of the user; connected apps keep their grants. */
export function signOutEverywhere(deps: AccountDeps, userId: string): Promise<{ browser: number; engine: number }> {
  return endAllSessions(deps.store, userId);
}

// ---- connected apps ----

export interface AppPermission {
  scope: string;
  /** Plain English from the application's scope definition (the scope itself when unknown). */
  description: string;
}

export interface ConnectedApp {
  grantId: string;
  clientId: string;
  clientName: string;
  /**
   * How the client came to be known, which is how far anyone vouches for it: `registered` by an
   * administrator, identified by a `metadata-document` at its own https address (its client id),
   * or `dynamic` — it registered itself (RFC 7591) and nobody checked who runs it.
   */
  registration: ClientRegistration;
  userId: string;
  orgId: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  /** Per application (protected resource), what the grant allows. */
  applications: { name: string; url: string; permissions: AppPermission[] }[];
  /** OpenID scopes (who you are, e-mail, staying connected). */
  accountScopes: string[];
}

type EngineGrant = { accountId?: string; clientId?: string; iat?: number; resources?: Record<string, string>; openid?: { scope?: string } };

async function engineGrant(deps: ConnectedAppsDeps, grantId: string): Promise<EngineGrant | undefined> {
  return ((await deps.provider().Grant.find(grantId)) as EngineGrant | undefined) ?? undefined;
}

export type ClientRegistration = 'registered' | 'metadata-document' | 'dynamic';

/** A client's display name and registration from our registry (never fetched from the network here). */
async function clientInfo(deps: ConnectedAppsDeps, clientId: string): Promise<{ clientName: string; registration: ClientRegistration }> {
  const stored = await deps.store.clients.find(clientId);
  const name = stored?.metadata.client_name;
  const registration = stored?.kind === 'dynamic' ? 'dynamic' : !stored && URL.parse(clientId)?.protocol === 'https:' ? 'metadata-document' : 'registered';
  return { clientName: typeof name === 'string' && name.trim() ? name : URL.parse(clientId)?.host || clientId, registration };
}

function describe(deps: ConnectedAppsDeps, grant: EngineGrant): Pick<ConnectedApp, 'applications' | 'accountScopes'> {
  const applications = Object.entries(grant.resources ?? {}).map(([url, scopeText]) => {
    const resource = deps.resources.get(url);
    const permissions = scopeText
      .split(' ')
      .filter(Boolean)
      .map((scope) => ({ scope, description: resource?.scopes.find((s) => s.name === scope)?.description ?? scope }));
    return { name: resource?.name ?? url, url, permissions };
  });
  return { applications, accountScopes: (grant.openid?.scope ?? '').split(' ').filter(Boolean) };
}

/**
 * Every live grant of a user (their own page) or of an organization (its admins' page). A user's
 * grants made before organizations existed have no context; they are found through the engine's
 * grants by account so that they can still be seen and disconnected.
 */
export async function listConnectedApps(deps: ConnectedAppsDeps, filter: { userId: string } | { orgId: string }): Promise<ConnectedApp[]> {
  const contexts = await deps.store.grantContexts.list(filter);
  const entries: { grantId: string; context: GrantContext | undefined }[] = contexts.map((context) => ({ grantId: context.grantId, context }));
  if ('userId' in filter) {
    const known = new Set(contexts.map((c) => c.grantId));
    for (const record of await deps.store.oidc.byAccount('Grant', filter.userId)) {
      if (record.grantId && !known.has(record.grantId) && !(await deps.store.grantContexts.get(record.grantId))?.revokedAt) {
        entries.push({ grantId: record.grantId, context: undefined });
      }
    }
  }
  const apps: ConnectedApp[] = [];
  for (const { grantId, context } of entries) {
    const grant = await engineGrant(deps, grantId);
    // Gone from the engine (expired, or revoked elsewhere): nothing is connected any more.
    if (!grant?.clientId || !grant.accountId) continue;
    apps.push({
      grantId,
      clientId: grant.clientId,
      ...(await clientInfo(deps, grant.clientId)),
      userId: grant.accountId,
      orgId: context?.orgId ?? null,
      createdAt: context?.createdAt ?? grant.iat ?? 0,
      lastUsedAt: context?.lastUsedAt ?? null,
      ...describe(deps, grant),
    });
  }
  return apps.sort((a, b) => b.createdAt - a.createdAt);
}

/**
 * Disconnect: revoke the grant at once (its stored tokens go, and a revocation event makes every
 * guard refuse its access tokens — authz/grant-revoker.ts) and mark its context revoked. False
 * when the grant is not one of `owner`'s (another user's or another org's grant: the caller
 * answers 404, no existence leak).
 */
export async function disconnectApp(deps: ConnectedAppsDeps, owner: { userId: string } | { orgId: string }, grantId: string): Promise<boolean> {
  if (!/^[\w-]{1,200}$/.test(grantId)) return false;
  const context = await deps.store.grantContexts.get(grantId);
  if (context?.revokedAt) return false;
  let mine: boolean;
  if ('orgId' in owner) mine = context?.orgId === owner.orgId;
  else if (context) mine = context.userId === owner.userId;
  else mine = (await engineGrant(deps, grantId))?.accountId === owner.userId;
  if (!mine) return false;
  await deps.revokeGrant(grantId);
  if (context) await deps.store.grantContexts.markRevoked(grantId, deps.now());
  return true;
}
