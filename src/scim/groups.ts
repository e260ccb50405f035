/**
 * SCIM Groups of one organization (RFC 7643 §4.2, RFC 7644 §3): stored with their members (the
 * org's provisioned users); a group the org maps to a role gives it to its members (roles.ts).
 */
import type { ScimGroupRow } from '../store/scim.ts';
import { randomBase62 } from '../core/crypto.ts';
import { record, type ScimDeps } from './context.ts';
import { badRequest, notFound, notUnique } from './errors.ts';
import { keyIn } from './filter.ts';
import { page, type ListQuery } from './list.ts';
import { applyPatch, readPatch } from './patch.ts';
import { applyRoles } from './roles.ts';
import { isoTime, URN } from './schema.ts';

type Json = Record<string, unknown>;

interface GroupInput {
  displayName: string;
  externalId: string | null;
  members: string[];
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const MAX_NAME = 256;

function readGroup(body: unknown): GroupInput {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'send a Group object');
  const displayName = body[keyIn(body, 'displayName')];
  if (typeof displayName !== 'string' || displayName.trim() === '' || displayName.length > MAX_NAME) throw badRequest('invalidValue', 'displayName is required (a non-empty string)');
  const externalId = body[keyIn(body, 'externalId')] ?? null;
  if (externalId !== null && typeof externalId !== 'string') throw badRequest('invalidValue', 'externalId is a string');
  const raw = body[keyIn(body, 'members')] ?? [];
  if (!Array.isArray(raw)) throw badRequest('invalidValue', 'members is a list');
  const members = raw.map((m) => {
    const value = isObject(m) ? m[keyIn(m, 'value')] : undefined;
    if (typeof value !== 'string' || value === '') throw badRequest('invalidValue', 'each member has a value (a User id)');
    return value;
  });
  return { displayName: displayName.trim(), externalId, members: [...new Set(members)] };
}

async function memberIds(deps: ScimDeps, orgId: string, groupId: string): Promise<string[]> {
  return (await deps.store.scim.memberships(orgId)).filter((m) => m.groupId === groupId).map((m) => m.scimUserId);
}

async function render(deps: ScimDeps, group: ScimGroupRow, withMembers = true): Promise<Json> {
  const users = new Map((await deps.store.scim.users(group.orgId)).map((u) => [u.id, u]));
  const members = withMembers ? (await memberIds(deps, group.orgId, group.id)).map((id) => ({ value: id, display: users.get(id)?.userName, $ref: `${deps.baseUrl}/Users/${id}` })) : undefined;
  return {
    schemas: [URN.group],
    id: group.id,
    displayName: group.displayName,
    ...(group.externalId === null ? {} : { externalId: group.externalId }),
    ...(members ? { members } : {}),
    meta: { resourceType: 'Group', created: isoTime(group.createdAt), lastModified: isoTime(group.updatedAt), location: `${deps.baseUrl}/Groups/${group.id}` },
  };
}

async function rowOf(deps: ScimDeps, orgId: string, id: string): Promise<ScimGroupRow> {
  const row = await deps.store.scim.group(orgId, id);
  if (!row) throw notFound('Group');
  return row;
}

/** Members are the org's provisioned users; an id of anyone else is refused, never dropped silently. */
async function checkMembers(deps: ScimDeps, orgId: string, members: string[]): Promise<void> {
  const known = new Set((await deps.store.scim.users(orgId)).map((u) => u.id));
  const unknown = members.filter((m) => !known.has(m));
  if (unknown.length > 0) throw badRequest('invalidValue', `no such User in this organization: ${unknown.slice(0, 3).join(', ')}`);
}

async function refuseTakenName(deps: ScimDeps, orgId: string, displayName: string, except?: string): Promise<void> {
  const key = displayName.toLowerCase();
  if ((await deps.store.scim.groups(orgId)).some((g) => g.displayName.toLowerCase() === key && g.id !== except)) throw notUnique('a group with this displayName exists in this organization');
}

/** `excludedAttributes=members` (RFC 7644 §3.4.2.5): Entra asks for groups without their members. */
export async function listGroups(deps: ScimDeps, orgId: string, query: ListQuery & { excludedAttributes?: string }) {
  const withMembers = !(query.excludedAttributes ?? '').split(',').some((a) => a.trim().toLowerCase() === 'members');
  const all = await Promise.all((await deps.store.scim.groups(orgId)).map((g) => render(deps, g, withMembers)));
  return page(all, query);
}

export async function getGroup(deps: ScimDeps, orgId: string, id: string, excludedAttributes?: string): Promise<Json> {
  const withMembers = !(excludedAttributes ?? '').split(',').some((a) => a.trim().toLowerCase() === 'members');
  return render(deps, await rowOf(deps, orgId, id), withMembers);
}

export async function createGroup(deps: ScimDeps, orgId: string, body: unknown): Promise<Json> {
  const input = readGroup(body);
  await refuseTakenName(deps, orgId, input.displayName);
  await checkMembers(deps, orgId, input.members);
  const now = deps.now();
  const group: ScimGroupRow = { id: `scg_${randomBase62(20)}`, orgId, displayName: input.displayName, externalId: input.externalId, createdAt: now, updatedAt: now };
  await deps.store.scim.insertGroup(group);
  await deps.store.scim.setGroupMembers(group.id, input.members);
  await record(deps, orgId, 'scim.group.created', null, { group: group.id, members: input.members.length });
  await applyRoles(deps, orgId, input.members);
  return render(deps, group);
}

async function replaceWith(deps: ScimDeps, group: ScimGroupRow, input: GroupInput): Promise<Json> {
  await refuseTakenName(deps, group.orgId, input.displayName, group.id);
  await checkMembers(deps, group.orgId, input.members);
  const before = await memberIds(deps, group.orgId, group.id);
  const next = { ...group, displayName: input.displayName, externalId: input.externalId, updatedAt: deps.now() };
  await deps.store.scim.updateGroup(next);
  await deps.store.scim.setGroupMembers(group.id, input.members);
  const added = input.members.filter((m) => !before.includes(m)).length;
  const removed = before.filter((m) => !input.members.includes(m)).length;
  await record(deps, group.orgId, 'scim.group.updated', null, { group: group.id, added, removed });
  // A rename may change the mapped role of everyone in it; a membership change, of those who moved.
  await applyRoles(deps, group.orgId, [...before, ...input.members]);
  return render(deps, next);
}

export async function replaceGroup(deps: ScimDeps, orgId: string, id: string, body: unknown): Promise<Json> {
  return replaceWith(deps, await rowOf(deps, orgId, id), readGroup(body));
}

export async function patchGroup(deps: ScimDeps, orgId: string, id: string, body: unknown): Promise<Json> {
  const group = await rowOf(deps, orgId, id);
  const operations = readPatch(body);
  const current = { displayName: group.displayName, ...(group.externalId === null ? {} : { externalId: group.externalId }), members: (await memberIds(deps, orgId, id)).map((value) => ({ value })) };
  return replaceWith(deps, group, readGroup(applyPatch(current, operations)));
}

export async function deleteGroup(deps: ScimDeps, orgId: string, id: string): Promise<void> {
  const group = await rowOf(deps, orgId, id);
  const before = await memberIds(deps, orgId, id);
  await deps.store.scim.deleteGroup(orgId, id);
  await record(deps, orgId, 'scim.group.deleted', null, { group: id, members: before.length });
  await applyRoles(deps, orgId, before);
}
