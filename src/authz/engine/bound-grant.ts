/**
 * The organization the grant being used acts for, resolved once per engine request (by findAccount,
 * which the engine calls before it issues anything) and read by the scope, claim and lifetime
 * decisions that follow in the same request (issuance.ts, lifetimes.ts).
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Store } from '../../store/store.ts';
import { GRANT_ORG_REFUSALS, resolveGrantOrg, type GrantOrg } from '../grant-org.ts';

export type BoundGrant = Extract<GrantOrg, { ok: true }> & { grantId: string };

const grantOrgs = new WeakMap<object, BoundGrant>();

/** The org the grant of this engine request acts for, once findAccount bound it. */
export function grantOrgOf(ctx: KoaContextWithOIDC): BoundGrant | undefined {
  return grantOrgs.get(ctx);
}

/**
 * At the token endpoint (code, device code, refresh) and userinfo: the org the grant acts for,
 * checked now. A refusal at the token endpoint is `invalid_grant` (refresh included: a removed
 * member, a disabled user, an org that stopped allowing the client); at userinfo the token is
 * refused (null). undefined when no grant is involved (sign-in pages).
 */
export function grantOrgBinder(store: Store, now: () => number) {
  return async function bindGrantOrg(ctx: KoaContextWithOIDC | undefined, userId: string, token: unknown): Promise<BoundGrant | null | undefined> {
    const route = ctx?.oidc?.route;
    const source = token as { grantId?: string; clientId?: string; iiat?: number; kind?: string } | undefined;
    if (!ctx || (route !== 'token' && route !== 'userinfo') || !source?.grantId || !source.clientId) return undefined;
    const cached = grantOrgOf(ctx);
    if (cached?.grantId === source.grantId) return cached;
    const resolved = await resolveGrantOrg(
      store,
      {
        grantId: source.grantId,
        userId,
        clientId: source.clientId,
        // The session maximum counts from the first refresh token of the grant.
        firstIssuedAt: source.kind === 'RefreshToken' ? source.iiat : undefined,
      },
      now(),
    );
    if (!resolved.ok) {
      if (route === 'token') throw new errors.InvalidGrant(GRANT_ORG_REFUSALS[resolved.reason]);
      return null;
    }
    const bound: BoundGrant = { ...resolved, grantId: source.grantId };
    grantOrgs.set(ctx, bound);
    // Last used (connected apps): every issuance from the grant.
    if (route === 'token') await store.grantContexts.touch(source.grantId, now());
    return bound;
  };
}
