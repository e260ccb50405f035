/**
 * The permission model as pure functions (docs/design/identity.md): roles give levels, levels are
 * inherited down the organization's resource tree unless a lower membership overrides them, and
 * scopes need a minimum role. Tokens and API keys carry a `res` map (resource id → level, `*` for
 * every resource); whoever checks applies inheritance with the tree.
 */
import type { OrgResource, ResourceMember } from '../store/orgs.ts';
import type { OrgRole, ResourceRole } from '../core/roles.ts';
import { ALL_RESOURCES, type Level, type ResourceLevels } from '../shared/levels.ts';

const RANK: Record<Level, number> = { read: 1, write: 2, delete: 3 };
const ROLE_LEVEL: Record<ResourceRole, Level> = { viewer: 'read', editor: 'write', manager: 'delete' };
const LEVEL_ROLE: Record<Level, ResourceRole> = { read: 'viewer', write: 'editor', delete: 'manager' };

export function levelOfRole(role: ResourceRole): Level {
  return ROLE_LEVEL[role];
}

export function roleOfLevel(level: Level): ResourceRole {
  return LEVEL_ROLE[level];
}

/** Does `have` reach `need`? */
export function reaches(have: Level | undefined, need: Level): boolean {
  return have !== undefined && RANK[have] >= RANK[need];
}

export function lower(a: Level | undefined, b: Level | undefined): Level | undefined {
  if (a === undefined || b === undefined) return undefined;
  return RANK[a] <= RANK[b] ? a : b;
}

export function higher(a: Level | undefined, b: Level | undefined): Level | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** The minimum role a scope needs: declared, else by its suffix (`:read` viewer, `:write` editor, `:delete` manager). */
export function scopeMinRole(scope: { name: string; minRole?: ResourceRole }): ResourceRole {
  if (scope.minRole) return scope.minRole;
  if (scope.name.endsWith(':write')) return 'editor';
  if (scope.name.endsWith(':delete')) return 'manager';
  return 'viewer';
}

export function scopeLevel(scope: { name: string; minRole?: ResourceRole }): Level {
  return levelOfRole(scopeMinRole(scope));
}

/** What a member's org role and memberships give: owners and admins reach everything. */
export function memberLevels(orgRole: OrgRole, memberships: Pick<ResourceMember, 'resourceId' | 'role'>[]): ResourceLevels {
  if (orgRole === 'owner' || orgRole === 'admin') return { [ALL_RESOURCES]: 'delete' };
  const levels: ResourceLevels = {};
  for (const m of memberships) levels[m.resourceId] = levelOfRole(m.role);
  return levels;
}

/** The highest level held anywhere (what decides which scopes a token may carry). */
export function highestLevel(levels: ResourceLevels): Level | undefined {
  let best: Level | undefined;
  for (const level of Object.values(levels)) best = higher(best, level);
  return best;
}

/** Scopes (of an application) whose minimum role's level is held somewhere. */
export function scopesAllowedBy<S extends { name: string; minRole?: ResourceRole }>(scopes: readonly S[], levels: ResourceLevels): S[] {
  const best = highestLevel(levels);
  return scopes.filter((scope) => reaches(best, scopeLevel(scope)));
}

/** Parent links of an organization's resource tree. */
export interface ResourceTree {
  parentOf(id: string): string | null | undefined;
  /** undefined when the id is not a resource of this organization. */
  kindOf(id: string): OrgResource['kind'] | undefined;
}

export function treeOf(resources: readonly Pick<OrgResource, 'id' | 'parentId' | 'kind'>[]): ResourceTree {
  const byId = new Map(resources.map((r) => [r.id, r]));
  return {
    parentOf: (id) => byId.get(id)?.parentId,
    kindOf: (id) => byId.get(id)?.kind,
  };
}

/**
 * The level `levels` gives on one resource: the nearest explicit entry on the path from the
 * resource up to its workspace (a lower membership overrides what it inherits, even downward),
 * else `*`, else none. A resource outside the tree gets nothing.
 */
export function levelOn(levels: ResourceLevels, resourceId: string, tree: ResourceTree): Level | undefined {
  if (tree.kindOf(resourceId) === undefined) return undefined;
  let current: string | null | undefined = resourceId;
  for (let depth = 0; current && depth < 16; depth++) {
    const explicit = Object.hasOwn(levels, current) ? levels[current] : undefined;
    if (explicit) return explicit;
    current = tree.parentOf(current);
  }
  return Object.hasOwn(levels, ALL_RESOURCES) ? levels[ALL_RESOURCES] : undefined;
}
