/**
 * An organization's name and settings, as its owners and admins change them (the admin API's
 * `PATCH /orgs/:org`). Settings can only narrow what the server allows (docs/design/identity.md):
 * lifetimes within the server's own, client kinds among the server's.
 */
import type { Org, OrgSettings } from '../store/orgs.ts';
import type { Config } from '../core/config.ts';
import { PortcullisError, type FieldError } from '../core/errors.ts';
import type { IdentityDeps } from './context.ts';

/** What the server allows: its token and session lifetimes, and its client kinds. */
export type ServerBounds = Pick<Config, 'tokens' | 'clientKinds'>;

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
 * Rename the organization and/or replace its settings as a whole (absent keys fall back to the
 * server's defaults): 400 `invalid_request` naming each setting beyond the server's bounds.
 */
export async function updateOrganization(deps: Pick<IdentityDeps, 'store'>, server: ServerBounds, orgId: string, change: { name?: string; settings?: OrgSettings }): Promise<Org> {
  const errors = beyondBounds(server, change.settings);
  if (errors.length) throw new PortcullisError('invalid_request', 'invalid settings', { detail: { errors } });
  await deps.store.orgs.update(orgId, { name: change.name, settings: change.settings });
  const updated = await deps.store.orgs.get(orgId);
  if (!updated) throw new PortcullisError('not_found', 'no such organization');
  return updated;
}
