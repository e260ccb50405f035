/**
 * API keys for scripts and CI (docs/design/identity.md "API keys"). The functions the admin API
 * and the account pages call:
 *
 *   issueApiKey(deps, creator, input)  → { key: ApiKeyView, secret }   the secret exists only in this answer
 *   listApiKeys(deps, filter)          → ApiKeyView[]                  never the secret (the prefix tells keys apart)
 *   revokeApiKey(deps, owner, keyId, by) → ApiKeyView                   permanent; 409 already_revoked the second time
 *
 * `creator` = `{orgId, userId}`; `input` is unchecked JSON (validated by ApiKeyInputSchema, errors
 * as 400 `invalid_request` with `errors: [{path, message}]`); `owner` limits which keys may be
 * revoked (`{orgId}` for an org admin, `{orgId, userId}` for a user's own keys) — another's key is
 * 404, never a hint. A key never exceeds its creator when it is made (refused field by field);
 * at use, the resolver shrinks it with the creator's current permissions.
 */
import type { ApiKeyPermissions, ApiKeyRecord } from '../store/api-keys.ts';
import * as z from 'zod';
import { PortcullisError } from '../core/errors.ts';
import { generateApiKey, hashApiKey, apiKeyDisplayPrefix } from './format.ts';
import { randomToken } from '../core/crypto.ts';
import { highestLevel, levelOn, memberLevels, reaches, treeOf } from '../identity/permissions.ts';
import { recordRevocation, type IdentityDeps } from '../identity/context.ts';
import { parseInput } from '../core/input.ts';
import type { FieldError } from '../core/errors.ts';
import type { OrgRole } from '../core/roles.ts';
import type { Level } from '../shared/levels.ts';
import { ALL_RESOURCES, LEVELS } from '../shared/levels.ts';

/** Also here for callers that found them here first. */


const DAY = 86400;
export const KEY_EXPIRY_DAYS = ['7d', '30d', '90d', '365d'] as const;

export const ApiKeyInputSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** Application slugs the key may be used with; null = all. */
  applications: z.array(z.string().min(1).max(100)).min(1).max(100).nullable().default(null),
  /** Resource ids (workspaces, projects, folders of the org) the key is limited to; null = all. */
  resources: z.array(z.string().min(1).max(100)).min(1).max(500).nullable().default(null),
  permissions: z.discriminatedUnion('mode', [
    z.strictObject({ mode: z.literal('simple'), level: z.enum(['read', 'read-write']) }),
    z.strictObject({ mode: z.literal('granular'), levels: z.record(z.string().min(1).max(100), z.enum(LEVELS as [Level, ...Level[]])) }),
  ]),
  /** `never`, a number of days, or an ISO date (or date-time) in the future. Default 90 days. */
  expiry: z.union([z.literal('never'), z.enum(KEY_EXPIRY_DAYS), z.iso.datetime({ offset: true }), z.iso.date()]).default('90d'),
  /** May call the org's admin API (org owners and admins only). */
  admin: z.boolean().default(false),
});
export type ApiKeyInput = z.input<typeof ApiKeyInputSchema>;

export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

/** What anyone listing keys sees: never the secret or its hash. */
export interface ApiKeyView {
  id: string;
  orgId: string;
  userId: string;
  name: string;
  prefix: string;
  applications: string[] | null;
  resources: string[] | null;
  permissions: { mode: 'simple'; level: 'read' | 'read-write' } | { mode: 'granular'; levels: Record<string, Level> };
  admin: boolean;
  status: ApiKeyStatus;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
}


const iso = (at: number | null) => (at === null ? null : new Date(at * 1000).toISOString());

export function apiKeyStatus(key: Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt'>, now: number): ApiKeyStatus {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return 'active';
}

export function apiKeyView(key: ApiKeyRecord, now: number): ApiKeyView {
  const p = key.permissions;
  return {
    id: key.id,
    orgId: key.orgId,
    userId: key.userId,
    name: key.name,
    prefix: key.prefix,
    applications: key.applications,
    resources: key.resources,
    permissions: p.mode === 'simple' ? { mode: 'simple', level: p.level === 'write' ? 'read-write' : 'read' } : { mode: 'granular', levels: p.levels },
    admin: p.admin === true,
    status: apiKeyStatus(key, now),
    createdAt: iso(key.createdAt)!,
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
    revokedBy: key.revokedBy,
    lastUsedAt: iso(key.lastUsedAt),
    lastUsedIp: key.lastUsedIp,
  };
}

function expiryOf(expiry: z.output<typeof ApiKeyInputSchema>['expiry'], now: number, problems: FieldError[]): number | null {
  if (expiry === 'never') return null;
  if ((KEY_EXPIRY_DAYS as readonly string[]).includes(expiry)) return now + Number.parseInt(expiry, 10) * DAY;
  // A bare date means the end of that day (UTC): "expires on the 31st" includes the 31st.
  const at = Math.floor(Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(expiry) ? `${expiry}T23:59:59Z` : expiry) / 1000);
  if (!Number.isFinite(at) || at <= now) problems.push({ path: 'expiry', message: 'must be in the future' });
  else if (at > now + 10 * 365 * DAY) problems.push({ path: 'expiry', message: 'must be within ten years (or "never")' });
  return at;
}

/**
 * Issue a key for `creator` in their org. Refused (400, field by field) when it names unknown
 * applications or resources outside the org, or asks for more than the creator holds now; 403
 * when a non-manager asks for `admin`, 404 when the creator is not a member.
 */
export async function issueApiKey(deps: IdentityDeps, creator: { orgId: string; userId: string }, input: unknown): Promise<{ key: ApiKeyView; secret: string }> {
  const parsed = parseInput(ApiKeyInputSchema, input);
  const { store } = deps;
  const now = deps.now();
  const member = await store.orgs.member(creator.orgId, creator.userId);
  if (!member) throw new PortcullisError('not_found', 'not a member of this organization');
  const problems: FieldError[] = [];

  if (parsed.applications) {
    for (const [i, slug] of parsed.applications.entries()) {
      if (!(await store.applications.get(slug))) problems.push({ path: `applications.${i}`, message: `no application ${slug}` });
    }
  }
  const tree = treeOf(await store.orgs.resources(creator.orgId));
  const creatorLevels = memberLevels(member.role, await store.orgs.resourceMembers(creator.orgId, creator.userId));
  parsed.resources?.forEach((id, i) => {
    if (!tree.kindOf(id)) problems.push({ path: `resources.${i}`, message: 'no such resource in this organization' });
  });

  let permissions: ApiKeyPermissions;
  if (parsed.permissions.mode === 'simple') {
    const level: Level = parsed.permissions.level === 'read-write' ? 'write' : 'read';
    permissions = { mode: 'simple', level: level as 'read' | 'write' };
    const reach = parsed.resources ?? [];
    const held = parsed.resources ? undefined : highestLevel(creatorLevels);
    if (!parsed.resources && !reaches(held, level)) problems.push({ path: 'permissions.level', message: `you hold at most ${held ?? 'nothing'} in this organization` });
    reach.forEach((id, i) => {
      if (tree.kindOf(id) && !reaches(levelOn(creatorLevels, id, tree), level)) problems.push({ path: `resources.${i}`, message: `you cannot ${level} this resource` });
    });
  } else {
    const levels = parsed.permissions.levels;
    if (Object.keys(levels).length === 0) problems.push({ path: 'permissions.levels', message: 'name at least one resource' });
    for (const [id, level] of Object.entries(levels)) {
      const path = `permissions.levels.${id}`;
      if (id === ALL_RESOURCES || !tree.kindOf(id)) problems.push({ path, message: 'no such resource in this organization' });
      else if (parsed.resources && !parsed.resources.includes(id)) problems.push({ path, message: 'not among the key\'s resources' });
      else if (!reaches(levelOn(creatorLevels, id, tree), level)) problems.push({ path, message: `you cannot ${level} this resource` });
    }
    permissions = { mode: 'granular', levels };
  }
  const expiresAt = expiryOf(parsed.expiry, now, problems);
  if (problems.length) throw new PortcullisError('invalid_request', 'the key cannot be issued as asked', { detail: { errors: problems } });
  if (parsed.admin) {
    if (!isManager(member.role)) throw new PortcullisError('forbidden', 'only owners and admins of the organization may issue admin keys');
    permissions = { ...permissions, admin: true };
  }

  const secret = generateApiKey();
  const record = {
    id: `key_${randomToken(12)}`,
    orgId: creator.orgId,
    userId: creator.userId,
    name: parsed.name,
    prefix: apiKeyDisplayPrefix(secret),
    hash: hashApiKey(deps.pepper, secret),
    applications: parsed.applications,
    resources: parsed.resources,
    permissions,
    createdAt: now,
    expiresAt,
  };
  await store.apiKeys.create(record);
  return { key: apiKeyView({ ...record, revokedAt: null, revokedBy: null, lastUsedAt: null, lastUsedIp: null }, now), secret };
}

export function isManager(role: OrgRole): boolean {
  return role === 'owner' || role === 'admin';
}

export async function listApiKeys(deps: IdentityDeps, filter: { orgId?: string; userId?: string }): Promise<ApiKeyView[]> {
  const now = deps.now();
  return (await deps.store.apiKeys.list(filter)).map((k) => apiKeyView(k, now));
}

/** Revoke for good. `owner` scopes which keys the caller may touch; `by` is recorded. */
export async function revokeApiKey(deps: IdentityDeps, owner: { orgId?: string; userId?: string }, keyId: string, by: string): Promise<ApiKeyView> {
  const key = await deps.store.apiKeys.get(keyId);
  if (!key || (owner.orgId !== undefined && key.orgId !== owner.orgId) || (owner.userId !== undefined && key.userId !== owner.userId)) {
    throw new PortcullisError('not_found', 'no such API key');
  }
  if (key.revokedAt !== null || !(await deps.store.apiKeys.revoke(keyId, by, deps.now()))) {
    throw new PortcullisError('already_revoked', 'this key is revoked already (revoking is permanent)');
  }
  await recordRevocation(deps, 'key', keyId);
  return apiKeyView((await deps.store.apiKeys.get(keyId))!, deps.now());
}
