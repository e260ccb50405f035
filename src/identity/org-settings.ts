/**
 * An organization's name and settings, as its owners and admins change them (the admin API's
 * `PATCH /orgs/:org`). Settings can only narrow what the server allows (docs/design/identity.md):
 * lifetimes within the server's own, client kinds among the server's.
 */
import type { Org, OrgSettings } from '../store/orgs.ts';
import type { Config } from '../core/config.ts';
import type { LimitSettings } from '../core/limit-settings.ts';
import { PortcullisError, type FieldError } from '../core/errors.ts';
import type { IdentityDeps } from './context.ts';
import { limitProblems } from '../limits/org-limits.ts';
import { checkStartingAccess } from './new-member-access.ts';

/** What the server allows: its token and session lifetimes, its client kinds, and its limits. */
export type ServerBounds = Pick<Config, 'tokens' | 'clientKinds'> & { limits?: Config['limits'] };

/** Field errors for settings beyond the server's bounds (none when within). */
function beyondBounds(server: ServerBounds, settings: OrgSettings | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const { tokens } = server;
  if (settings?.accessTokenTtl !== undefined && settings.accessTokenTtl > tokens.accessTokenTtl) {
    errors.push({ path: 'settings.accessTokenTtl', message: `at most ${tokens.accessTokenTtl} seconds (the server's access-token lifetime)` });
  }
  if (settings?.sessionMaxTtl !== undefined && settings.sessionMaxTtl > tokens.sessionTtl) {
    errors.push({ path: 'settings.sessionMaxTtl', message: `at most ${tokens.sessionTtl} seconds (the server's session lifetime)` });
  }
  settings?.clientKinds?.forEach((kind, i) => {
    if (!server.clientKinds.includes(kind)) errors.push({ path: `settings.clientKinds.${i}`, message: `${kind} clients are not allowed on this server` });
  });
  return errors;
}

/**
 * Replace the organization's limits only (the admin API's `PUT /orgs/:org/limits`), leaving its
 * other settings as they are: 400 `limit_too_loose` naming each limit looser than what bounds it.
 */
export async function setOrganizationLimits(deps: Pick<IdentityDeps, 'store'>, server: ServerBounds, org: Org, limits: LimitSettings): Promise<Org> {
  const tooLoose = limitProblems(server.limits ?? {}, limits, 'limits');
  if (tooLoose.length) throw new PortcullisError('limit_too_loose', 'a limit is looser than what bounds it', { detail: { errors: tooLoose } });
  await deps.store.orgs.update(org.id, { settings: { ...org.settings, limits } });
  const updated = await deps.store.orgs.get(org.id);
  if (!updated) throw new PortcullisError('not_found', 'no such organization');
  return updated;
}

/**
 * Rename the organization and/or replace its settings as a whole (absent keys fall back to the
 * server's defaults): 400 `invalid_request` naming each setting beyond the server's bounds.
 */
export async function updateOrganization(deps: Pick<IdentityDeps, 'store'>, server: ServerBounds, orgId: string, change: { name?: string; settings?: OrgSettings }): Promise<Org> {
  const errors = beyondBounds(server, change.settings);
  if (errors.length) throw new PortcullisError('invalid_request', 'invalid settings', { detail: { errors } });
  // Limits only narrow: the server's, and a key's or a client's the organization's (limits/org-limits.ts).
  const tooLoose = change.settings?.limits ? limitProblems(server.limits ?? {}, change.settings.limits) : [];
  if (tooLoose.length) throw new PortcullisError('limit_too_loose', 'a limit is looser than what bounds it', { detail: { errors: tooLoose } });
  await checkStartingAccess(deps.store, orgId, change.settings?.newMemberAccess, 'settings.newMemberAccess');
  await deps.store.orgs.update(orgId, { name: change.name, settings: change.settings });
  const updated = await deps.store.orgs.get(orgId);
  if (!updated) throw new PortcullisError('not_found', 'no such organization');
  return updated;
}
