/**
 * Workspace and project memberships from the IdP's groups (a connection's `memberships`,
 * core/identity-providers.ts), brought up to date at every SSO sign-in: a group's memberships are
 * granted, and those this connection granted earlier whose group is gone are taken away. A
 * membership an administrator granted by hand is never touched — not even when a group would
 * grant the same one — so the connection keeps a ledger of what it granted, and an administrator's
 * change to a membership (workspace-tree.ts) strikes it from the ledger: from then on it is theirs.
 *
 * The ledger lives in the store's one-time values (kind `sso-membership`, key `<resource>:<user>`,
 * the connection's id as value, no practical expiry): `consume` is an atomic take, which is all
 * that taking a grant away needs, and it needs no table of its own on either dialect. Two sign-ins
 * of the same person at the same instant may both re-write an entry; the worst outcome is an entry
 * lost, which leaves a membership in place as if granted by hand — never one granted wrongly.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import type { OrgResource } from '../store/orgs.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ResourceRole } from '../core/roles.ts';
import type { SsoConnection } from '../core/identity-providers.ts';

export interface SsoMembershipDeps {
  store: Pick<Store, 'orgs' | 'oneTime'>;
  audit: AuditLog;
  now: () => number;
  log?: Pick<Logger, 'warn'>;
}

const LEDGER = 'sso-membership';
/** 9999-12-31: a grant lasts until the group is gone, not until a time. */
const FOREVER = 253_402_300_799;
const RANK: Record<ResourceRole, number> = { viewer: 0, editor: 1, manager: 2 };

const ledgerKey = (resourceId: string, userId: string) => `${resourceId}:${userId}`;

/**
 * An administrator set or removed this membership by hand: it is no longer the connection's to
 * take away (called by workspace-tree.ts).
 */
export async function forgetSsoGrant(store: Pick<Store, 'oneTime'>, resourceId: string, userId: string, now: number): Promise<void> {
  await store.oneTime.consume(LEDGER, ledgerKey(resourceId, userId), now);
}

/** The connection's memberships configuration (connection types without one grant nothing). */
function membershipsOf(connection: SsoConnection): Record<string, { workspace: string; project?: string; role: ResourceRole }[]> {
  return 'memberships' in connection ? connection.memberships : {};
}

/** The resource a grant names: exactly one workspace (and one project in it) with that name, case-insensitively. */
function resolve(resources: readonly OrgResource[], grant: { workspace: string; project?: string }): OrgResource | 'missing' | 'ambiguous' {
  const named = (name: string, kind: OrgResource['kind'], parentId: string | null) =>
    resources.filter((r) => r.kind === kind && r.parentId === parentId && r.name.trim().toLowerCase() === name.toLowerCase());
  const workspaces = named(grant.workspace, 'workspace', null);
  if (workspaces.length !== 1) return workspaces.length ? 'ambiguous' : 'missing';
  if (grant.project === undefined) return workspaces[0]!;
  const projects = named(grant.project, 'project', workspaces[0]!.id);
  if (projects.length !== 1) return projects.length ? 'ambiguous' : 'missing';
  return projects[0]!;
}

/** Resource id → the role the person's groups grant there (the highest when several do). */
async function wantedFrom(deps: SsoMembershipDeps, connection: SsoConnection, orgId: string, groups: readonly string[]): Promise<Map<string, ResourceRole>> {
  const wanted = new Map<string, ResourceRole>();
  const mine = new Set(groups.map((g) => (connection.type === 'github' ? g.toLowerCase() : g)));
  const entries = Object.entries(membershipsOf(connection)).filter(([group]) => mine.has(connection.type === 'github' ? group.toLowerCase() : group));
  if (entries.length === 0) return wanted;
  const resources = await deps.store.orgs.resources(orgId);
  for (const [group, grants] of entries) {
    for (const grant of grants) {
      const resource = resolve(resources, grant);
      if (typeof resource === 'string') {
        deps.log?.warn({ connection: connection.id, group, ...grant, problem: resource }, 'sso: a group’s membership names no single workspace or project; nothing granted');
        continue;
      }
      const had = wanted.get(resource.id);
      if (!had || RANK[grant.role] > RANK[had]) wanted.set(resource.id, grant.role);
    }
  }
  return wanted;
}

/** Bring the person's SSO-granted memberships in `orgId` in line with `groups`. */
export async function syncSsoMemberships(deps: SsoMembershipDeps, connection: SsoConnection, orgId: string, userId: string, groups: readonly string[]): Promise<void> {
  const wanted = await wantedFrom(deps, connection, orgId, groups);
  const current = new Map((await deps.store.orgs.resourceMembers(orgId, userId)).map((m) => [m.resourceId, m.role]));
  for (const [resourceId, role] of wanted) {
    const had = current.get(resourceId);
    if (had === undefined) await grant(deps, connection, orgId, userId, resourceId, role);
    else if (had !== role) await regrant(deps, connection, orgId, userId, resourceId, { from: had, to: role });
  }
  for (const resourceId of current.keys()) {
    if (!wanted.has(resourceId)) await revoke(deps, connection, orgId, userId, resourceId);
  }
}

async function grant(deps: SsoMembershipDeps, connection: SsoConnection, orgId: string, userId: string, resourceId: string, role: ResourceRole): Promise<void> {
  await deps.store.orgs.setResourceMember(resourceId, userId, role, deps.now());
  await deps.store.oneTime.put(LEDGER, ledgerKey(resourceId, userId), connection.id, FOREVER);
  await deps.audit.write({ kind: 'sso.membership.added', orgId, actor: userId, subject: userId, reason: 'sso', details: { connection: connection.id, resource: resourceId, role } });
}

/** A role the groups now grant differently: changed only when the connection granted the membership. */
async function regrant(deps: SsoMembershipDeps, connection: SsoConnection, orgId: string, userId: string, resourceId: string, change: { from: ResourceRole; to: ResourceRole }) {
  const owner = await deps.store.oneTime.consume(LEDGER, ledgerKey(resourceId, userId), deps.now());
  if (owner === undefined) return;
  await deps.store.oneTime.put(LEDGER, ledgerKey(resourceId, userId), owner, FOREVER);
  if (owner !== connection.id) return;
  await deps.store.orgs.setResourceMember(resourceId, userId, change.to, deps.now());
  await deps.audit.write({ kind: 'sso.membership.changed', orgId, actor: userId, subject: userId, reason: 'sso', details: { connection: connection.id, resource: resourceId, ...change } });
}

/** The group is gone: the membership goes if (and only if) this connection granted it. */
async function revoke(deps: SsoMembershipDeps, connection: SsoConnection, orgId: string, userId: string, resourceId: string): Promise<void> {
  const owner = await deps.store.oneTime.consume(LEDGER, ledgerKey(resourceId, userId), deps.now());
  if (owner === undefined) return;
  if (owner !== connection.id) {
    await deps.store.oneTime.put(LEDGER, ledgerKey(resourceId, userId), owner, FOREVER);
    return;
  }
  await deps.store.orgs.removeResourceMember(resourceId, userId);
  await deps.audit.write({ kind: 'sso.membership.removed', orgId, actor: userId, subject: userId, reason: 'sso', details: { connection: connection.id, resource: resourceId } });
}
