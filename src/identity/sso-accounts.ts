/**
 * Just-in-time accounts for single sign-on: who a validated identity from a company's IdP is here.
 * Takes claims the relying party has already verified (web/sso-relying-party.ts, openid-client)
 * and decides: the linked user (issuer + sub), an existing account to link, or a new account in
 * the connection's organization with the role its groups map to. No HTTP here.
 *
 * Takeover rule: an existing account is linked only when the IdP asserts `email_verified: true`
 * for an address in one of the connection's own domains. Any IdP can assert any e-mail; only the
 * domains a server administrator gave the connection are its to vouch for.
 */
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { OrgRole } from '../core/roles.ts';
import { mappedRole, type OidcConnection, type SsoConnection } from '../core/identity-providers.ts';
import { PortcullisError } from '../core/errors.ts';
import { syncSsoMemberships } from './sso-memberships.ts';
import { joinWithStartingAccess } from './new-member-access.ts';
import type { Logger } from 'pino';

export interface SsoClaims {
  iss: string;
  sub: string;
  email?: unknown;
  email_verified?: unknown;
  name?: unknown;
  hd?: unknown;
  tid?: unknown;
  [claim: string]: unknown;
}

export interface SsoAccountDeps {
  store: Pick<Store, 'users' | 'orgs' | 'ssoLinks' | 'oneTime'>;
  audit: AuditLog;
  now: () => number;
  log?: Pick<Logger, 'warn'>;
}

/** Why an SSO sign-in is refused (the audit record's reason; stable, documented). */
export type SsoRefusal = 'hosted_domain' | 'tenant' | 'no_email' | 'unverified_email' | 'email_domain' | 'account_exists' | 'disabled' | 'other_connection';

export type SsoAccount = { kind: 'ok'; user: User; orgId: string; role: OrgRole } | { kind: 'refused'; reason: SsoRefusal };

/** The organization a connection signs people into: created when it does not exist yet. */
export async function connectionOrg(store: Pick<Store, 'orgs'>, connection: SsoConnection): Promise<string> {
  const existing = await store.orgs.bySlug(connection.organization);
  if (existing) return existing.id;
  try {
    return (await store.orgs.create({ slug: connection.organization, name: connection.organization })).id;
  } catch (err) {
    // Another instance created it first.
    if (err instanceof PortcullisError && err.code === 'conflict') {
      const org = await store.orgs.bySlug(connection.organization);
      if (org) return org.id;
    }
    throw err;
  }
}

/** The preset's extra checks (Google: the Workspace domain `hd`; Entra: the directory `tid`). */
function presetRefusal(connection: SsoConnection, claims: SsoClaims): SsoRefusal | undefined {
  // Google: only `hd` proves the account belongs to the Workspace domain (a consumer account
  // may carry any address); Google's "Authenticate users" guide, "hd" claim.
  if (connection.type === 'oidc' && connection.preset === 'google' && !(typeof claims.hd === 'string' && connection.domains.includes(claims.hd.toLowerCase()))) return 'hosted_domain';
  if (connection.type === 'oidc' && connection.preset === 'entra' && !entraTenantAllowed(connection, claims.tid)) return 'tenant';
  return undefined;
}

/**
 * Entra: the directory that signed the person in (`tid`) must be the connection's. With
 * `tenantIds` (the multi-tenant `organizations` endpoint), openid-client has already required the
 * token's `iss` to be the issuer template with this same `tid` (web/sso-relying-party.ts); any
 * directory can have the app consented, so the list is what keeps strangers' directories out.
 */
function entraTenantAllowed(connection: OidcConnection, tid: unknown): boolean {
  if (typeof tid !== 'string') return false;
  const tenants = connection.tenantIds ?? (connection.tenantId ? [connection.tenantId] : []);
  return tenants.some((tenant) => tenant.toLowerCase() === tid.toLowerCase());
}

/**
 * Entra ID sends no `email_verified`; its optional claim `xms_edov` says the e-mail's domain is
 * verified by the tenant ("email domain owner verified") — without it, any tenant could assert any
 * address (the "nOAuth" takeover).
 */
function emailVerified(connection: SsoConnection, claims: SsoClaims): boolean {
  return claims.email_verified === true || (connection.type === 'oidc' && connection.preset === 'entra' && (claims.xms_edov === true || claims.xms_edov === '1'));
}

function groupsOf(connection: SsoConnection, claims: SsoClaims): string[] {
  // GitHub's groups are the memberships the connection looked up (web/sso-github.ts); SAML's
  // the values of the connection's group attribute (web/saml-assertion.ts).
  const value = connection.type === 'oidc' ? claims[connection.roles.claim] : claims.groups;
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

const nameOf = (claims: SsoClaims): string | null => (typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : null);

/** Resolve (and create or link) the account for a verified sign-in through `connection`. */
export async function ssoAccount(deps: SsoAccountDeps, connection: SsoConnection, claims: SsoClaims): Promise<SsoAccount> {
  const preset = presetRefusal(connection, claims);
  if (preset) return { kind: 'refused', reason: preset };
  const orgId = await connectionOrg(deps.store, connection);
  const groups = groupsOf(connection, claims);
  const role = mappedRole(connection, groups);
  const linked = await deps.store.ssoLinks.find(claims.iss, claims.sub);
  // A SAML issuer is only a name: whoever writes a connection (an organization's owner too) types
  // the entityID and brings the certificates, so a link made through another connection proves
  // nothing here — unlike an OIDC issuer, whose tokens only that issuer's keys sign.
  if (linked && connection.type === 'saml' && linked.connectionId !== connection.id) return { kind: 'refused', reason: 'other_connection' };
  let user: User | undefined = linked ? await deps.store.users.findById(linked.userId) : undefined;
  if (linked && user) {
    await deps.store.ssoLinks.touch(claims.iss, claims.sub, deps.now());
    // A disabled account changes nothing (and signs in nowhere).
    if (user.disabledAt === null) user = await updateEmail(deps, connection, claims, user, orgId);
  } else {
    const found = await linkOrCreate(deps, connection, claims, orgId, role);
    if (found.kind === 'refused') return found;
    user = found.user;
  }
  if (user.disabledAt !== null) return { kind: 'refused', reason: 'disabled' };
  const name = nameOf(claims);
  if (name && name !== user.name) await deps.store.users.setName(user.id, name);
  await ensureRole(deps, orgId, user.id, role);
  await syncSsoMemberships(deps, connection, orgId, user.id, groups);
  return { kind: 'ok', user: { ...user, name: name ?? user.name }, orgId, role };
}

/**
 * A later sign-in's e-mail becomes the account's only on the terms that would have linked it: the
 * IdP verified it and it is in one of the connection's own domains (so a GitHub connection without
 * domains never changes an address). An address another account has is never taken — accounts are
 * not merged, and that account's owner did not sign in here: the old address stays, and the
 * conflict is audited for an administrator to look at.
 */
async function updateEmail(deps: SsoAccountDeps, connection: SsoConnection, claims: SsoClaims, user: User, orgId: string): Promise<User> {
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  if (!email.includes('@') || email === user.email.toLowerCase()) return user;
  if (!emailVerified(connection, claims) || !connection.domains.includes(email.slice(email.lastIndexOf('@') + 1))) return user;
  const changed = await deps.store.users.setEmail(user.id, email);
  const details = { connection: connection.id, from: user.email, to: email };
  if (changed === 'taken') {
    deps.log?.warn({ connection: connection.id, user: user.id }, 'sso: the IdP asserts an e-mail address another account has; the old address stays');
    await deps.audit.write({ kind: 'sso.email.conflict', orgId, actor: user.id, subject: user.id, reason: 'email_taken', details });
    return user;
  }
  if (changed !== 'ok') return user;
  await deps.audit.write({ kind: 'sso.email.changed', orgId, actor: user.id, subject: user.id, reason: 'sso', details });
  return { ...user, email };
}

async function linkOrCreate(deps: SsoAccountDeps, connection: SsoConnection, claims: SsoClaims, orgId: string, role: OrgRole) {
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  if (!email.includes('@')) return { kind: 'refused' as const, reason: 'no_email' as const };
  // OpenID Connect Core §5.7: only a verified address identifies a person across issuers.
  if (!emailVerified(connection, claims)) return { kind: 'refused' as const, reason: 'unverified_email' as const };
  // A GitHub connection without domains signs in any address GitHub verified as primary.
  if (connection.domains.length > 0 && !connection.domains.includes(email.slice(email.lastIndexOf('@') + 1))) return { kind: 'refused' as const, reason: 'email_domain' as const };
  const now = deps.now();
  const existing = await deps.store.users.findByEmail(email);
  // Without domains of its own, a connection vouches for nobody's existing account: it may create
  // new ones, but an account that exists is never taken over by whoever verified its address at
  // the provider (the person signs in as before and can be linked by an administrator's domains).
  if (existing && connection.domains.length === 0) return { kind: 'refused' as const, reason: 'account_exists' as const };
  const user = existing ?? (await deps.store.users.create({ email, name: nameOf(claims), passwordHash: null }));
  const link = { issuer: claims.iss, subject: claims.sub, connectionId: connection.id, userId: user.id, createdAt: now, lastLoginAt: now };
  if (!(await deps.store.ssoLinks.create(link))) {
    // A concurrent first sign-in linked this subject: use its user.
    const winner = await deps.store.ssoLinks.find(claims.iss, claims.sub);
    const other = winner ? await deps.store.users.findById(winner.userId) : undefined;
    if (other) return { kind: 'ok' as const, user: other };
  }
  await deps.audit.write({
    kind: existing ? 'sso.user.linked' : 'sso.user.created',
    orgId,
    actor: user.id,
    subject: user.id,
    reason: 'sso',
    details: { connection: connection.id, role },
  });
  return { kind: 'ok' as const, user };
}

/** Membership with the mapped role; the org's last owner keeps ownership (never left ownerless). */
async function ensureRole(deps: SsoAccountDeps, orgId: string, userId: string, role: OrgRole): Promise<void> {
  const member = await deps.store.orgs.member(orgId, userId);
  if (!member) {
    // Just in time: the organization's default access for new members comes with the membership.
    await joinWithStartingAccess(deps, orgId, userId, role);
    return;
  }
  if (member.role === role) return;
  const change = await deps.store.orgs.setRole(orgId, userId, role);
  if (change === 'ok') {
    await deps.audit.write({ kind: 'sso.role.changed', orgId, actor: userId, subject: userId, reason: 'sso', details: { from: member.role, to: role } });
  }
}

/**
 * `requireSso`: may this user still sign in with a password? Not when they belong to an
 * organization whose connection requires SSO — unless they own that organization and are named
 * in the connection's `breakGlass` list (the way in when the IdP is down or misconfigured).
 * Returns the connection that refuses the password, or undefined.
 */
export async function passwordRefusedBy(
  store: Pick<Store, 'orgs'>,
  connections: readonly SsoConnection[],
  user: User,
): Promise<SsoConnection | undefined> {
  const enforcing = connections.filter((c) => c.requireSso);
  if (enforcing.length === 0) return undefined;
  const memberships = await store.orgs.forUser(user.id);
  for (const connection of enforcing) {
    const membership = memberships.find((org) => org.slug === connection.organization);
    if (!membership) continue;
    const breakGlass = membership.role === 'owner' && connection.breakGlass.includes(user.email.toLowerCase());
    if (!breakGlass) return connection;
  }
  return undefined;
}
