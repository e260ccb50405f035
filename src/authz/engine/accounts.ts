/**
 * Who a token is for: the engine's findAccount, and the claims an account releases — who the user
 * is and, with the `openid` scope, the organization the grant acts for and the workspaces the user
 * can read there.
 */
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Store } from '../../store/store.ts';
import { userActive } from '../../identity/token-permissions.ts';
import { levelOn, reaches, treeOf } from '../../identity/permissions.ts';
import { grantOrgBinder, type BoundGrant } from './bound-grant.ts';
import { OPENID_CLAIMS } from '../protocol.ts';

/** The claims each scope releases (ID token, userinfo). */
export const CLAIMS: Configuration['claims'] = { openid: OPENID_CLAIMS, email: ['email', 'email_verified'], profile: ['name'] };

/** Claims about the organization a grant acts for: the ID token and userinfo (`openid` scope). */
async function orgClaims(store: Store, bound: BoundGrant): Promise<Record<string, unknown>> {
  const { org, access } = bound;
  const resources = await store.orgs.resources(org.id);
  const tree = treeOf(resources);
  // Workspaces the user can read: their level on the workspace itself (memberships lower down
  // give access inside it, not to it).
  const workspaces = resources
    .filter((r) => r.kind === 'workspace' && reaches(levelOn(access.levels, r.id, tree), 'read'))
    .map((r) => ({ id: r.id, name: r.name }));
  return { org_id: org.id, org_slug: org.slug, org_name: org.name, org_role: access.role, workspaces };
}

/**
 * A refresh is where a leaver's access ends (issue 13 §6): the company's IdP is asked whether
 * the account still is, and its "no" is `invalid_grant` — the client's own credential is at an end.
 */
async function refuseLeaver(ctx: KoaContextWithOIDC | undefined, userId: string, recheck: ((userId: string) => Promise<'ok' | 'refused'>) | undefined): Promise<void> {
  if (!recheck || ctx?.oidc?.route !== 'token' || ctx.oidc.params?.grant_type !== 'refresh_token') return;
  if ((await recheck(userId)) === 'refused') throw new errors.InvalidGrant('the identity provider no longer signs this account in');
}

/** An active user, with the grant's organization bound (bound-grant.ts); none when the grant's org refuses. */
export function findAccount(store: Store, now: () => number, recheck?: (userId: string) => Promise<'ok' | 'refused'>): NonNullable<Configuration['findAccount']> {
  const bindGrantOrg = grantOrgBinder(store, now);
  return async (ctx, sub, token) => {
    const user = await store.users.findById(sub);
    if (!user || !userActive(user)) return undefined;
    await refuseLeaver(ctx, user.id, recheck);
    const bound = await bindGrantOrg(ctx, sub, token);
    if (bound === null) return undefined;
    return {
      accountId: user.id,
      claims: async (_use, scope) => ({
        sub: user.id,
        email: user.email,
        email_verified: false,
        name: user.name ?? undefined,
        ...(bound && (scope ?? '').split(' ').includes('openid') ? await orgClaims(store, bound) : {}),
      }),
    };
  };
}
