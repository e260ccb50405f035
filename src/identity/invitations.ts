/**
 * Invitations to an organization by one-time link (docs/design/identity.md): `<publicUrl>/invitations/<token>`.
 * Only the keyed hash of the token is stored (it is the invitation's id), so a database reader
 * cannot accept anyone's invitation. A link expires (7 days unless told otherwise), works once
 * (the store's accept is one conditional statement), and can be revoked.
 *
 * Who may accept: a signed-in user whose e-mail is the invited address (case-insensitive). A link
 * forwarded, leaked into a chat or a proxy log is then worth nothing to anyone else — the safer of
 * the two choices, at the price of inviting people by the address they sign in with.
 *
 *   invite(deps, inviter, orgId, input, mail?)   → { invitation, link?, sent }
 *   listInvitations(deps, orgId)                 → InvitationView[]
 *   revokeInvitation(deps, orgId, id)
 *   findInvitation(deps, token)                  → the pending invitation and its org (the accept page)
 *   createInvitedAccount(deps, invitation, …)    → an account for the invited address (the password policy applies)
 *   acceptInvitation(deps, token, user)          → the membership
 */
import type { Invitation } from '../store/invitations.ts';
import type { Org } from '../store/orgs.ts';
import type { User } from '../store/users.ts';
import * as z from 'zod';
import { isPortcullisError, PortcullisError } from '../core/errors.ts';
import { keyedHash, randomToken } from '../core/crypto.ts';
import { parseInput } from '../core/input.ts';
import type { IdentityDeps } from './context.ts';
import type { Mailer } from './mailer.ts';
import type { Actor } from './people.ts';
import { hashNewPassword } from './passwords.ts';
import { checkStartingAccess, giveStartingAccess, StartingAccessSchema, type StartingAccess } from './new-member-access.ts';
import type { OrgRole } from '../core/roles.ts';

const DAY = 86400;
export const DEFAULT_INVITATION_DAYS = 7;

export const InvitationInputSchema = z.strictObject({
  email: z.email().max(320),
  role: z.enum(['owner', 'admin', 'member']).default('member'),
  /** How long the link works. */
  expiresInDays: z.int().min(1).max(30).default(DEFAULT_INVITATION_DAYS),
  /** A workspace or project role given on acceptance, instead of the organization's default access for new members. */
  startingAccess: StartingAccessSchema.optional(),
});

export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

export interface InvitationView {
  id: string;
  email: string;
  role: OrgRole;
  invitedBy: string;
  status: InvitationStatus;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedBy: string | null;
  revokedAt: string | null;
  /** The workspace or project role given on acceptance; null: the organization's default access. */
  startingAccess: StartingAccess | null;
}

const iso = (at: number | null) => (at === null ? null : new Date(at * 1000).toISOString());

export function invitationId(deps: Pick<IdentityDeps, 'pepper'>, token: string): string {
  return keyedHash(deps.pepper, `invitation:${token}`);
}

export function invitationStatus(inv: Invitation, now: number): InvitationStatus {
  if (inv.acceptedAt !== null) return 'accepted';
  if (inv.revokedAt !== null) return 'revoked';
  return inv.expiresAt <= now ? 'expired' : 'pending';
}

export function invitationView(inv: Invitation, now: number): InvitationView {
  return {
    id: inv.id,
    email: inv.email,
    role: inv.role,
    invitedBy: inv.invitedBy,
    status: invitationStatus(inv, now),
    createdAt: iso(inv.createdAt)!,
    expiresAt: iso(inv.expiresAt)!,
    acceptedAt: iso(inv.acceptedAt),
    acceptedBy: inv.acceptedBy,
    revokedAt: iso(inv.revokedAt),
    startingAccess: inv.startResourceId && inv.startRole ? { resourceId: inv.startResourceId, role: inv.startRole } : null,
  };
}

export function invitationLink(publicUrl: string, token: string): string {
  return `${publicUrl}/invitations/${token}`;
}

/**
 * Invite `email` with `role`. Only an owner may invite an owner. With a mailer the link goes by
 * e-mail (`sent: true`, no link in the answer); without one the inviter gets the link to pass on.
 */
export async function invite(
  deps: IdentityDeps & { publicUrl: string },
  inviter: Actor,
  org: Org,
  input: unknown,
  mailer?: Mailer,
): Promise<{ invitation: InvitationView; link?: string; sent: boolean }> {
  const parsed = parseInput(InvitationInputSchema, input);
  if (parsed.role === 'owner' && inviter.role !== 'owner') throw new PortcullisError('forbidden', 'only an owner may invite an owner');
  await checkStartingAccess(deps.store, org.id, parsed.startingAccess, 'startingAccess');
  const email = parsed.email.toLowerCase();
  const existing = await deps.store.users.findByEmail(email);
  if (existing && (await deps.store.orgs.member(org.id, existing.id))) {
    throw new PortcullisError('already_member', `${email} is a member already`, { detail: { errors: [{ path: 'email', message: 'already a member' }] } });
  }
  const token = randomToken();
  const now = deps.now();
  const invitation: Omit<Invitation, 'acceptedAt' | 'acceptedBy' | 'revokedAt'> = {
    id: invitationId(deps, token),
    orgId: org.id,
    email,
    role: parsed.role,
    invitedBy: inviter.userId,
    createdAt: now,
    expiresAt: now + parsed.expiresInDays * DAY,
    startResourceId: parsed.startingAccess?.resourceId ?? null,
    startRole: parsed.startingAccess?.role ?? null,
  };
  await deps.store.invitations.create(invitation);
  const view = invitationView({ ...invitation, acceptedAt: null, acceptedBy: null, revokedAt: null }, now);
  const link = invitationLink(deps.publicUrl, token);
  if (!mailer) return { invitation: view, link, sent: false };
  await mailer.send({
    to: email,
    subject: `You are invited to ${org.name.replace(/[\r\n]+/g, ' ')} on Portcullis`,
    text: `You have been invited to join ${org.name} as ${parsed.role}.\n\nAccept the invitation (the link works once, until ${view.expiresAt}):\n${link}\n\nIf you did not expect this, ignore this message.\n`,
  });
  return { invitation: view, sent: true };
}

export async function listInvitations(deps: IdentityDeps, orgId: string): Promise<InvitationView[]> {
  const now = deps.now();
  return (await deps.store.invitations.list(orgId)).map((inv) => invitationView(inv, now));
}

export async function revokeInvitation(deps: IdentityDeps, orgId: string, id: string): Promise<void> {
  const inv = await deps.store.invitations.get(id);
  if (!inv || inv.orgId !== orgId) throw new PortcullisError('not_found', 'no such invitation');
  if (invitationStatus(inv, deps.now()) !== 'pending' || !(await deps.store.invitations.revoke(id, deps.now()))) {
    throw new PortcullisError('invitation_invalid', 'this invitation is no longer pending');
  }
}

/** The pending invitation a link names, with its org; undefined when unknown, used, revoked or expired. */
export async function findInvitation(deps: IdentityDeps, token: string): Promise<{ invitation: Invitation; org: Org } | undefined> {
  if (!/^[\w-]{20,100}$/.test(token)) return undefined;
  const invitation = await deps.store.invitations.get(invitationId(deps, token));
  if (!invitation || invitationStatus(invitation, deps.now()) !== 'pending') return undefined;
  const org = await deps.store.orgs.get(invitation.orgId);
  return org ? { invitation, org } : undefined;
}

export function emailMatches(invitation: Pick<Invitation, 'email'>, user: Pick<User, 'email'>): boolean {
  return invitation.email.toLowerCase() === user.email.toLowerCase();
}

/**
 * An account for the address `invitation` names, to accept it with: the password policy applies
 * (400 `invalid_request` naming `password`). undefined when the address has an account by now
 * (created meanwhile, in another tab): the person signs in with it instead.
 */
export async function createInvitedAccount(
  deps: Pick<IdentityDeps, 'store'>,
  invitation: Pick<Invitation, 'email'>,
  account: { name: string | null; password: string },
): Promise<User | undefined> {
  const passwordHash = await hashNewPassword(account.password);
  try {
    return await deps.store.users.create({ email: invitation.email, name: account.name, passwordHash });
  } catch (err) {
    if (isPortcullisError(err) && err.code === 'conflict') return undefined;
    throw err;
  }
}

/**
 * `user` accepts the invitation `token` names: 410 `invitation_invalid` when it is not pending
 * (or loses a race for it), 403 `forbidden` when it is for another address, 409 `already_member`.
 */
export async function acceptInvitation(deps: IdentityDeps, token: string, user: User): Promise<{ org: Org; role: OrgRole }> {
  const found = await findInvitation(deps, token);
  if (!found) throw new PortcullisError('invitation_invalid', 'this invitation is unknown, used, revoked or expired');
  const { invitation, org } = found;
  if (!emailMatches(invitation, user)) throw new PortcullisError('forbidden', `this invitation is for ${invitation.email}`);
  if (await deps.store.orgs.member(org.id, user.id)) throw new PortcullisError('already_member', `you are a member of ${org.name} already`);
  const accepted = await deps.store.invitations.accept(invitation.id, user.id, deps.now());
  if (!accepted) throw new PortcullisError('invitation_invalid', 'this invitation is unknown, used, revoked or expired');
  await deps.store.orgs.addMember(org.id, user.id, accepted.role, deps.now());
  await giveStartingAccess(deps, org, user.id, accepted);
  return { org, role: accepted.role };
}
