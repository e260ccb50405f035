/**
 * The route groups' checks (step 2 of admin-api/auth.ts), as middleware: server-wide groups need
 * a server administrator's session; `/orgs/:org/…` needs an owner or admin of THAT org — others
 * never learn whether it exists. Authorization first, then the CSRF check, so a caller who may not
 * act at all hears 403 / 404, not a CSRF complaint.
 */
import type { Store } from '../store/store.ts';
import type { Org } from '../store/orgs.ts';
import type { Context } from 'hono';
import { isManager } from '../api-keys/service.ts';
import { PortcullisError } from '../core/errors.ts';
import type { WebDeps } from '../web/pages.ts';
import { checkCsrf, requireServerAdmin } from './auth.ts';
import type { AdminEnv, OrgEnv } from './deps.ts';

type Next = () => Promise<void>;

/** Server-wide routes (applications, users): a server administrator's session. */
export function serverAdminOnly(deps: WebDeps) {
  return async (c: Context<AdminEnv> | Context<OrgEnv>, next: Next): Promise<void> => {
    const principal = (c as Context<AdminEnv>).get('admin');
    requireServerAdmin(principal);
    checkCsrf(deps, c as never, principal);
    await next();
  };
}

/** `:org` names an org by id (`org_…`) or slug. */
async function findOrg(store: Store, ref: string): Promise<Org | undefined> {
  return ref.startsWith('org_') ? store.orgs.get(ref) : store.orgs.bySlug(ref);
}

/** `/orgs/:org/…`: an owner or admin of that org (an admin API key only of its own org); sets `org` and `orgRole`. */
export function orgManagersOnly(deps: WebDeps) {
  return async (c: Context<OrgEnv>, next: Next): Promise<void> => {
    const principal = c.get('admin');
    const org = await findOrg(deps.store, c.req.param('org') ?? '');
    const member = org && (principal.kind !== 'key' || principal.orgId === org.id) ? await deps.store.orgs.member(org.id, principal.userId) : undefined;
    if (!org || !member) throw new PortcullisError('not_found', 'no such organization');
    if (!isManager(member.role)) throw new PortcullisError('forbidden', 'only owners and admins manage the organization');
    checkCsrf(deps, c as never, principal);
    c.set('org', org);
    c.set('orgRole', member.role);
    await next();
  };
}
