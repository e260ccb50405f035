/**
 * What every organization route module shares (admin-api/orgs.ts mounts them): the identity
 * services' deps, the caller as those services see them, the audit record of each change, and
 * how times and organizations are shown.
 */
import type { Org } from '../../store/orgs.ts';
import type { Context } from 'hono';
import type { AuditRecord } from '../../audit/audit-log.ts';
import type { OrgRole } from '../../core/roles.ts';
import { identityDeps, type IdentityDeps } from '../../identity/context.ts';
import type { Actor } from '../../identity/people.ts';
import type { AdminApiDeps, OrgEnv } from '../deps.ts';
import { actorOf } from '../auth.ts';

export type OrgContext = Context<OrgEnv>;

export interface OrgRouteKit {
  deps: AdminApiDeps;
  ids: IdentityDeps;
  /** Who acts, and their role in this org (for the identity services' owner rules). */
  actor(c: OrgContext): Actor;
  /** Record an admin change (before the API answers). */
  audit(c: OrgContext, kind: string, record?: Omit<AuditRecord, 'kind'>): Promise<void>;
}

export const iso = (at: number | null) => (at === null ? null : new Date(at * 1000).toISOString());

export function orgView(org: Org, role?: OrgRole) {
  return { id: org.id, slug: org.slug, name: org.name, settings: org.settings, createdAt: iso(org.createdAt), ...(role ? { role } : {}) };
}

export function orgRouteKit(deps: AdminApiDeps): OrgRouteKit {
  // Admin changes are recorded before the API answers; records name people by id only (never an
  // e-mail), so erasing a user never touches the chain.
  return {
    deps,
    ids: identityDeps(deps),
    actor: (c) => ({ userId: c.get('admin').userId, role: c.get('orgRole') }),
    async audit(c, kind, record = {}) {
      const principal = c.get('admin');
      const org = c.get('org') as Org | undefined;
      await deps.audit.write({ orgId: org?.id ?? null, actor: actorOf(principal), ...record, kind });
    },
  };
}
