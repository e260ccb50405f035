/**
 * What a token may do on an organization's resources (docs/design/identity.md): the `res` claim of
 * access tokens, a map of resource id → level, `*` for every resource. Whoever checks a token reads
 * it with these — the gateway and the guard SDK alike — and applies inheritance down the
 * organization's tree (identity/permissions.ts).
 */

export type Level = 'read' | 'write' | 'delete';

/** Resource id → level. `*` applies to every resource of the organization (owners and admins). */
export type ResourceLevels = Record<string, Level>;

export const ALL_RESOURCES = '*';

export const LEVELS: readonly Level[] = ['read', 'write', 'delete'];

export function isLevel(value: unknown): value is Level {
  return value === 'read' || value === 'write' || value === 'delete';
}

/** The `res` claim, keeping only well-formed entries (an unknown level grants nothing). */
export function readLevels(value: unknown): ResourceLevels | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const levels: ResourceLevels = {};
  for (const [id, level] of Object.entries(value)) if (isLevel(level)) levels[id] = level;
  return levels;
}
