/**
 * Deleting an organization (server administrators: console `/server/people`, admin API
 * `DELETE /orgs/:org`). What goes with it: every membership, workspace and project, invitation,
 * SSO connection and domain, SCIM token, access request and API key (the store cascades), and —
 * before the rows go — every member's grants and tokens for it, as removing each member would
 * (people.ts): the revocation event first, so tokens already out are refused everywhere at once.
 * Accounts stay. An organization that still owns applications is refused (409 `conflict`): the
 * store would turn them server-wide (0016_app_orgs.sql, ON DELETE SET NULL), which widens who may
 * use them — delete them or move them first.
 */
import { PortcullisError } from '../core/errors.ts';
import { memberRevocationId, recordRevocation, type IdentityDeps } from './context.ts';
import { revokeGrants } from './people.ts';

export interface OrgDeletion {
  members: number;
  grants: number;
  keys: number;
}

export async function deleteOrganization(deps: IdentityDeps, orgId: string, by: string): Promise<OrgDeletion> {
  const org = await deps.store.orgs.get(orgId);
  if (!org) throw new PortcullisError('not_found', 'no such organization');
  const apps = await deps.store.applications.list({ orgId });
  if (apps.length) throw new PortcullisError('conflict', `the organization owns applications (${apps.map((a) => a.slug).join(', ')}): delete them or make them server-wide first`, { rule: 'owns_applications' });
  const members = await deps.store.orgs.members(orgId);
  const done: OrgDeletion = { members: members.length, grants: 0, keys: 0 };
  for (const { userId } of members) {
    await recordRevocation(deps, 'member', memberRevocationId(orgId, userId));
    done.grants += await revokeGrants(deps, userId, orgId);
  }
  // Every live key of the org, also those of people who left it: the event reaches caches first.
  for (const key of await deps.store.apiKeys.list({ orgId })) {
    if (key.revokedAt !== null || !(await deps.store.apiKeys.revoke(key.id, by, deps.now()))) continue;
    await recordRevocation(deps, 'key', key.id);
    done.keys += 1;
  }
  if (!(await deps.store.orgs.delete(orgId))) throw new PortcullisError('not_found', 'no such organization');
  return done;
}
