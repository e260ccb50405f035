/**
 * `DELETE /orgs/:org` (`:org` a slug or an `org_…` id): delete an organization, through
 * identity/org-deletion.ts — the service the console's `/server/people` page calls. Deleting is
 * the server's decision, not the organization's: a server administrator's session, even one who
 * is not a member; the org's own owners and its admin API keys are refused (403). Mounted before
 * the `/orgs/:org` group (admin-api/orgs.ts), whose guard admits only that org's managers.
 */
import type { Hono } from 'hono';
import { PortcullisError } from '../core/errors.ts';
import { identityDeps } from '../identity/context.ts';
import { deleteOrganization } from '../identity/org-deletion.ts';
import type { AdminApiDeps, AdminEnv } from './deps.ts';
import { actorOf } from './auth.ts';
import { serverAdminOnly } from './route-guards.ts';

export function orgDeletionRoute(api: Hono<AdminEnv>, deps: AdminApiDeps): void {
  const ids = identityDeps(deps);
  api.delete('/orgs/:org', serverAdminOnly(deps), async (c) => {
    const ref = c.req.param('org') ?? '';
    const org = ref.startsWith('org_') ? await deps.store.orgs.get(ref) : await deps.store.orgs.bySlug(ref);
    if (!org) throw new PortcullisError('not_found', 'no such organization');
    const principal = c.get('admin');
    const done = await deleteOrganization(ids, org.id, principal.userId);
    await deps.audit.write({ kind: 'admin.org.deleted', actor: actorOf(principal), details: { org: org.id, slug: org.slug, ...done } });
    return c.body(null, 204);
  });
}
