/**
 * Consent, as a service: which organization the consent page is for, what the engine's consent
 * prompt asks, and — when the user approves — the engine Grant with what they granted and refused,
 * bound to the organization they chose (grant-org.ts).
 */
import type { WebDeps } from '../../web/pages.ts';
import { allowedScopesOf, orgAccess, type OrgAccess } from '../../identity/token-permissions.ts';
import { bindGrantToOrg, type MemberOrg, type OrgChoices } from '../grant-org.ts';
import type { ConsentResourceRequest } from './consent-page.ts';
import type { Interaction } from './details.ts';
import { recordConsent, type DoctorDeps } from './doctor-steps.ts';

/** Which org the consent page is for, and the user's access there. */
export interface ConsentOrg {
  choices: OrgChoices;
  selected: MemberOrg;
  access: OrgAccess;
}

/** The org the client's previous grant for this user acted for (preselected on the picker). */
export async function previousOrg(deps: WebDeps, grantId: string | undefined, userId: string, clientId: string): Promise<string | undefined> {
  const context = grantId ? await deps.store.grantContexts.get(grantId) : undefined;
  if (context) return context.orgId;
  const earlier = (await deps.store.grantContexts.list({ userId })).filter((g) => g.clientId === clientId);
  earlier.sort((a, b) => (b.lastUsedAt ?? b.createdAt) - (a.lastUsedAt ?? a.createdAt));
  return earlier[0]?.orgId;
}

/**
 * The org to show: `wanted` when given (undefined if it is not one the user may pick), else the
 * previous grant's, else the first the user may pick.
 */
export async function consentOrg(
  deps: WebDeps,
  choices: OrgChoices,
  userId: string,
  wanted: string | undefined,
  previous: () => Promise<string | undefined>,
): Promise<ConsentOrg | undefined> {
  const id = wanted ?? (await previous());
  const selected = choices.offered.find((org) => org.id === id) ?? (wanted === undefined ? choices.offered[0] : undefined);
  if (!selected) return undefined;
  const access = await orgAccess(deps.store, userId, selected.id);
  return access && { choices, selected, access };
}

/** The scopes the user is asked for, per resource, from the engine's consent prompt. */
export function consentRequests(deps: WebDeps, details: Interaction) {
  const prompt = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  const requests: ConsentResourceRequest[] = Object.entries(prompt.missingResourceScopes ?? {}).map(([indicator, scopes]) => ({
    indicator,
    resource: deps.resources.get(indicator),
    scopes,
  }));
  return { requests, oidcScopes: prompt.missingOIDCScope ?? [], oidcClaims: prompt.missingOIDCClaims ?? [] };
}

/** Scopes of a request the user's access allows (none for a resource this server no longer serves). */
export function allowedFor(access: OrgAccess) {
  return (request: ConsentResourceRequest): ReadonlySet<string> => new Set(request.resource ? allowedScopesOf(request.resource, access.levels) : []);
}

/**
 * Record the user's consent on the interaction's grant (a new one when it has none): the OpenID
 * scopes and claims asked for, and per resource the ticked scopes granted and the others refused.
 * `ticked` holds `<request index>|<scope>` (consent-page.ts). Returns the grant's id.
 */
export async function grantConsent(deps: WebDeps & DoctorDeps, details: Interaction, userId: string, clientId: string, org: ConsentOrg, ticked: ReadonlySet<string>): Promise<string> {
  const provider = deps.provider();
  const { requests, oidcScopes, oidcClaims } = consentRequests(deps, details);
  const allowed = allowedFor(org.access);
  const grant = details.grantId
    ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId: userId, clientId }))
    : new provider.Grant({ accountId: userId, clientId });
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  if (oidcClaims.length) grant.addOIDCClaims(oidcClaims);
  const grantedScopes: string[] = [];
  const refusedScopes: string[] = [];
  requests.forEach((request, index) => {
    // Granted: ticked and allowed by the user's role in the chosen org (a ticked scope the role
    // does not allow is dropped — the page never offers it, but a form can be forged).
    const mayGrant = allowed(request);
    const granted = request.scopes.filter((s) => ticked.has(`${index}|${s}`) && mayGrant.has(s));
    const refused = request.scopes.filter((s) => !granted.includes(s));
    grantedScopes.push(...granted);
    refusedScopes.push(...refused);
    // Refused scopes are recorded as encountered, so the engine does not ask again (partial consent).
    if (granted.length) grant.addResourceScope(request.indicator, granted.join(' '));
    if (refused.length) grant.rejectResourceScope(request.indicator, refused.join(' '));
  });
  const grantId = await grant.save();
  await bindGrantToOrg(deps.store, { grantId, userId, clientId, orgId: org.selected.id }, deps.now());
  deps.log.info({ event: 'consent.granted', user: userId, client: clientId, grant: grantId, org: org.selected.id }, 'consent granted');
  await deps.audit.write({
    kind: 'consent.given',
    orgId: org.selected.id,
    actor: userId,
    subject: userId,
    clientId,
    details: { grantId, scopes: grantedScopes, resources: requests.map((r) => r.indicator) },
  });
  recordConsent(deps, clientId, userId, refusedScopes.length ? 'partial' : 'approved', { granted: grantedScopes, refused: refusedScopes });
  return grantId;
}
