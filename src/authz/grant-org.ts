/**
 * Every grant acts for one organization (docs/design/identity.md). Where the organization is
 * chosen (the consent page; the device confirmation page) the user is offered only the orgs that
 * let the client act for them, and the choice is recorded as the grant's context. At the token
 * endpoint the grant's organization is resolved again at every issuance — membership, the user's
 * state, the org's client rules and session limit — because all of these can change after consent.
 */
import type { Store } from '../store/store.ts';
import type { Org } from '../store/orgs.ts';
import { awaitsApproval, clientKindOf, orgRefusesClient, type OrgClientRefusal } from '../identity/org-clients.ts';
import { orgAccess, type OrgAccess } from '../identity/token-permissions.ts';
import type { OrgRole } from '../core/roles.ts';

export type MemberOrg = Org & { role: OrgRole };

export interface OrgChoices {
  /** The user's orgs that let this client act for them, in the store's order. */
  offered: MemberOrg[];
  /** The user's other orgs, with why they refuse the client. */
  refused: { org: MemberOrg; reason: OrgClientRefusal }[];
}

/** What a client is to an org's rules: its kind, from its id and its stored registration. */
async function kindOfClient(store: Store, clientId: string) {
  return clientKindOf(clientId, await store.clients.find(clientId));
}

/** The orgs a user may pick for a client. */
export async function orgChoices(store: Store, userId: string, clientId: string): Promise<OrgChoices> {
  const [orgs, kind] = await Promise.all([store.orgs.forUser(userId), kindOfClient(store, clientId)]);
  const choices: OrgChoices = { offered: [], refused: [] };
  for (const org of orgs) {
    const reason = orgRefusesClient(org, clientId, kind);
    // Not approved yet, in "admin approval" mode: offered, and consenting asks the org's
    // administrators (identity/client-approvals.ts) — no grant until they approve, and the token
    // endpoint refuses any grant for it meanwhile (resolveGrantOrg below).
    if (reason && !awaitsApproval(org, clientId, kind)) choices.refused.push({ org, reason });
    else choices.offered.push(org);
  }
  return choices;
}

/** Does this org still have to approve the client before the member's consent can make a grant? */
export async function clientAwaitsApproval(store: Store, org: Org, clientId: string): Promise<boolean> {
  return awaitsApproval(org, clientId, await kindOfClient(store, clientId));
}

/** Record which org a grant acts for (a grant re-consented for another org moves there). */
export function bindGrantToOrg(store: Store, context: { grantId: string; userId: string; clientId: string; orgId: string }, now: number): Promise<void> {
  return store.grantContexts.put({ ...context, createdAt: now });
}

/**
 * Why the token endpoint refuses a grant for its org. All are `invalid_grant` on the wire: the grant
 * can no longer produce tokens, and the client's answer (start a new authorization, where the user
 * picks an org that accepts it) is the same for each.
 */
export type GrantOrgRefusal = 'no_org' | 'not_member' | 'client_not_allowed' | 'client_kind_not_allowed' | 'session_expired' | 'revoked';

export type GrantOrg = { ok: true; org: Org; access: OrgAccess } | { ok: false; reason: GrantOrgRefusal };

export interface GrantOrgRequest {
  grantId: string;
  userId: string;
  clientId: string;
  /** When the grant's first refresh token was issued (the refresh token's `iiat`), for a refresh. */
  firstIssuedAt?: number;
}

/**
 * The org a grant acts for, and the user's access there now. A grant with no recorded org (made
 * before organizations existed) acts for the user's only org, and is bound to it from then on; a
 * user in several orgs must authorize again and pick one.
 */
export async function resolveGrantOrg(store: Store, request: GrantOrgRequest, now: number): Promise<GrantOrg> {
  const { grantId, userId, clientId } = request;
  const [context, kind] = await Promise.all([store.grantContexts.get(grantId), kindOfClient(store, clientId)]);
  let orgId = context?.orgId;
  if (context && (context.revokedAt !== null || context.userId !== userId || context.clientId !== clientId)) return { ok: false, reason: 'revoked' };
  if (!orgId) {
    const orgs = await store.orgs.forUser(userId);
    if (orgs.length !== 1) return { ok: false, reason: 'no_org' };
    orgId = orgs[0]!.id;
    await bindGrantToOrg(store, { grantId, userId, clientId, orgId }, now);
  }
  const [org, access] = await Promise.all([store.orgs.get(orgId), orgAccess(store, userId, orgId)]);
  if (!org || !access) return { ok: false, reason: 'not_member' };
  const refusal = orgRefusesClient(org, clientId, kind);
  if (refusal) return { ok: false, reason: refusal };
  const sessionMax = org.settings.sessionMaxTtl;
  if (sessionMax !== undefined && request.firstIssuedAt !== undefined && now > request.firstIssuedAt + sessionMax) {
    return { ok: false, reason: 'session_expired' };
  }
  return { ok: true, org, access };
}

/** The error description for a refusal (the code is always `invalid_grant`). */
export const GRANT_ORG_REFUSALS: Record<GrantOrgRefusal, string> = {
  no_org: 'the grant acts for no organization: authorize again and choose one',
  not_member: 'the user is no longer an active member of the organization the grant acts for',
  client_not_allowed: "the organization's allow-list does not include this client",
  client_kind_not_allowed: 'the organization does not allow this kind of client',
  session_expired: "the organization's maximum session lifetime has passed: sign in again",
  revoked: 'the grant has been revoked',
};
