/**
 * SCIM Users of one organization (RFC 7644 §3.3–3.6): list with filters, create, read, replace,
 * patch, delete. A provisioned user is an account with a membership of the token's organization;
 * `active` and DELETE are lifecycle.ts's. A user the IdP names that already has an account is
 * linked only when that account is already a member of this organization: an organization's
 * token never pulls in someone else's account (409 `uniqueness`).
 */
import type { ScimUserRow } from '../store/scim.ts';
import type { Store } from '../store/store.ts';
import { randomBase62 } from '../core/crypto.ts';
import { record, type ScimDeps } from './context.ts';
import { joinWithStartingAccess } from '../identity/new-member-access.ts';
import { notFound, notUnique } from './errors.ts';
import { deactivate, reactivate, remove } from './lifecycle.ts';
import { page, type ListQuery } from './list.ts';
import { applyPatch, readPatch } from './patch.ts';
import { applyRoles } from './roles.ts';
import { emailOf, nameOf, patchableUser, readUser, renderUser, type UserInput } from './user-resource.ts';

type Json = Record<string, unknown>;

async function groupsByUser(store: Store, orgId: string): Promise<Map<string, { id: string; displayName: string }[]>> {
  const groups = new Map((await store.scim.groups(orgId)).map((g) => [g.id, g]));
  const byUser = new Map<string, { id: string; displayName: string }[]>();
  for (const m of await store.scim.memberships(orgId)) {
    const group = groups.get(m.groupId);
    if (group) byUser.set(m.scimUserId, [...(byUser.get(m.scimUserId) ?? []), group]);
  }
  return byUser;
}

async function render(deps: ScimDeps, row: ScimUserRow): Promise<Json> {
  return renderUser(deps.baseUrl, row, (await groupsByUser(deps.store, row.orgId)).get(row.id) ?? []);
}

async function rowOf(deps: ScimDeps, orgId: string, id: string): Promise<ScimUserRow> {
  const row = await deps.store.scim.user(orgId, id);
  if (!row) throw notFound('User');
  return row;
}

export async function listUsers(deps: ScimDeps, orgId: string, query: ListQuery) {
  const byUser = await groupsByUser(deps.store, orgId);
  const all = (await deps.store.scim.users(orgId)).map((row) => renderUser(deps.baseUrl, row, byUser.get(row.id) ?? []));
  return page(all, query);
}

export async function getUser(deps: ScimDeps, orgId: string, id: string): Promise<Json> {
  return render(deps, await rowOf(deps, orgId, id));
}

async function refuseTakenUserName(deps: ScimDeps, orgId: string, userName: string, except?: string): Promise<void> {
  const key = userName.toLowerCase();
  if ((await deps.store.scim.users(orgId)).some((u) => u.userName.toLowerCase() === key && u.id !== except)) throw notUnique('a user with this userName exists in this organization');
}

/** The account a new SCIM user stands for: a member already here (linked), or a new one. */
async function accountFor(deps: ScimDeps, orgId: string, input: UserInput): Promise<{ userId: string; linked: boolean }> {
  const existing = await deps.store.users.findByEmail(emailOf(input));
  if (existing) {
    const member = await deps.store.orgs.member(orgId, existing.id);
    if (!member) throw notUnique('an account with this e-mail address exists outside this organization');
    if ((await deps.store.scim.users(orgId)).some((u) => u.userId === existing.id)) throw notUnique('this account is provisioned already');
    return { userId: existing.id, linked: true };
  }
  // No password: the person signs in through the organization's single sign-on (or sets one through "forgot password").
  const user = await deps.store.users.create({ email: emailOf(input), name: nameOf(input) });
  await joinWithStartingAccess(deps, orgId, user.id, 'member');
  return { userId: user.id, linked: false };
}

export async function createUser(deps: ScimDeps, orgId: string, body: unknown): Promise<Json> {
  const input = readUser(body);
  await refuseTakenUserName(deps, orgId, input.userName);
  const { userId, linked } = await accountFor(deps, orgId, input);
  const now = deps.now();
  let row: ScimUserRow = { id: `scu_${randomBase62(20)}`, orgId, userId, userName: input.userName, externalId: input.externalId, active: true, disabledAccount: false, attributes: input.attributes, createdAt: now, updatedAt: now };
  await deps.store.scim.insertUser(row);
  await record(deps, orgId, 'scim.user.created', userId, { scimId: row.id, linked });
  if (!input.active) row = await changeActive(deps, row, false);
  return render(deps, row);
}

/** A change of `active`, with its consequences (lifecycle.ts) and its audit record. */
async function changeActive(deps: ScimDeps, row: ScimUserRow, active: boolean): Promise<ScimUserRow> {
  if (row.active === active) return row;
  let disabledAccount = row.disabledAccount;
  if (active) {
    await reactivate(deps, row);
    disabledAccount = false;
  } else disabledAccount = await deactivate(deps, row);
  const next = { ...row, active, disabledAccount, updatedAt: deps.now() };
  await deps.store.scim.updateUser(next);
  await record(deps, row.orgId, active ? 'scim.user.reactivated' : 'scim.user.deactivated', row.userId, { scimId: row.id, accountDisabled: disabledAccount });
  if (active) await applyRoles(deps, row.orgId, [row.id]);
  return next;
}

/** PUT and PATCH end here: the new resource replaces the old (RFC 7644 §3.5.1). */
async function replaceWith(deps: ScimDeps, row: ScimUserRow, input: UserInput): Promise<Json> {
  await refuseTakenUserName(deps, row.orgId, input.userName, row.id);
  // Deactivation first (it may be refused for an owner, leaving everything as it was).
  const afterActive = input.active ? row : await changeActive(deps, row, false);
  const next: ScimUserRow = { ...afterActive, userName: input.userName, externalId: input.externalId, attributes: input.attributes, updatedAt: deps.now() };
  await deps.store.scim.updateUser(next);
  const name = nameOf(input);
  if (name !== null) await deps.store.users.setName(row.userId, name);
  const final = input.active ? await changeActive(deps, next, true) : next;
  await record(deps, row.orgId, 'scim.user.updated', row.userId, { scimId: row.id });
  return render(deps, final);
}

export async function replaceUser(deps: ScimDeps, orgId: string, id: string, body: unknown): Promise<Json> {
  const row = await rowOf(deps, orgId, id);
  return replaceWith(deps, row, readUser(body));
}

export async function patchUser(deps: ScimDeps, orgId: string, id: string, body: unknown): Promise<Json> {
  const row = await rowOf(deps, orgId, id);
  const operations = readPatch(body);
  return replaceWith(deps, row, readUser(applyPatch(patchableUser(row), operations)));
}

export async function deleteUser(deps: ScimDeps, orgId: string, id: string): Promise<void> {
  const row = await rowOf(deps, orgId, id);
  const erased = await remove(deps, row);
  await record(deps, orgId, 'scim.user.deleted', row.userId, { scimId: row.id, accountErased: erased });
}
