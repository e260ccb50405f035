/**
 * Creating a person who signs in with a password, in an organization — written once for first-run
 * setup (identity/first-run.ts) and `portcullis admin create-user`: the account, then its
 * organization (the Default one unless another is named), then the membership. Every token acts
 * for an organization (docs/design/identity.md), so nobody is created without one.
 */
import type { Store } from '../store/store.ts';
import type { Org } from '../store/orgs.ts';
import type { User } from '../store/users.ts';
import { PortcullisError } from '../core/errors.ts';
import type { OrgRole } from '../core/roles.ts';
import type { NewPasswordHash } from './passwords.ts';

/** The organization first-run setup (and `admin create-user` without --org) puts people in. */
export const DEFAULT_ORG = { slug: 'default', name: 'Default' } as const;

export interface NewUserDeps {
  store: Store;
  /** Epoch seconds. */
  now: () => number;
}

export interface NewUser {
  email: string;
  name: string | null;
  /** From identity/passwords.ts `hashNewPassword`: the password policy has been applied. */
  passwordHash: NewPasswordHash;
  /** A server administrator. */
  isAdmin?: boolean;
  /** An existing organization's slug (404 `not_found` when there is none); default: the Default organization. */
  orgSlug?: string;
  /** Default: owner when the organization has no owner yet, otherwise member. */
  role?: OrgRole;
}

/** The longest display name kept. */
export const MAX_NAME_LENGTH = 200;

/** A display name as typed on a form that creates an account: trimmed, cut to the longest kept; none when empty. */
export function displayName(raw: string): string | null {
  return raw.trim().slice(0, MAX_NAME_LENGTH) || null;
}

/** The shape of an e-mail address: something, an @, something — the mail server has the last word. */
export function isEmailAddress(text: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(text);
}

/** The Default organization, created on first use (by another process meanwhile is fine too). */
export async function defaultOrganization(store: Store): Promise<Org> {
  const existing = await store.orgs.bySlug(DEFAULT_ORG.slug);
  if (existing) return existing;
  try {
    return await store.orgs.create({ slug: DEFAULT_ORG.slug, name: DEFAULT_ORG.name });
  } catch (err) {
    const raced = await store.orgs.bySlug(DEFAULT_ORG.slug);
    if (raced) return raced;
    throw err;
  }
}

/**
 * Create the user, then make them a member of their organization. A named organization must exist
 * (it is never created here: not by a typo either) and is looked up before the user is created,
 * so a wrong name leaves nothing behind. 409 `conflict` when the e-mail address has an account.
 */
export async function createUserWithOrganization(deps: NewUserDeps, input: NewUser): Promise<{ user: User; org: Org; role: OrgRole }> {
  const named = input.orgSlug === undefined ? undefined : await deps.store.orgs.bySlug(input.orgSlug);
  if (input.orgSlug !== undefined && !named) throw new PortcullisError('not_found', `no organization ${input.orgSlug}`, { rule: 'org_not_found' });
  const user = await deps.store.users.create({ email: input.email, name: input.name, passwordHash: input.passwordHash, isAdmin: input.isAdmin ?? false });
  const org = named ?? (await defaultOrganization(deps.store));
  const role = input.role ?? ((await deps.store.orgs.members(org.id)).some((m) => m.role === 'owner') ? 'member' : 'owner');
  await deps.store.orgs.addMember(org.id, user.id, role, deps.now());
  return { user, org, role };
}
