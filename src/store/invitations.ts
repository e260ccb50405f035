/** Invitations to join an organization (identity/invitations.ts). */
import type { OrgRole, ResourceRole } from '../core/roles.ts';

export interface Invitation {
  /** Keyed hash of the one-time token. */
  id: string;
  orgId: string;
  email: string;
  role: OrgRole;
  invitedBy: string;
  createdAt: number;
  expiresAt: number;
  acceptedAt: number | null;
  acceptedBy: string | null;
  revokedAt: number | null;
  /** A workspace or project role given on acceptance (migration 0014); absent: the org's default access. */
  startResourceId?: string | null;
  startRole?: ResourceRole | null;
}

export interface InvitationStore {
  create(invitation: Omit<Invitation, 'acceptedAt' | 'acceptedBy' | 'revokedAt'>): Promise<void>;
  get(id: string): Promise<Invitation | undefined>;
  list(orgId: string): Promise<Invitation[]>;
  /** Accept once: one conditional statement; undefined when unknown, used, revoked or expired. */
  accept(id: string, userId: string, at: number): Promise<Invitation | undefined>;
  revoke(id: string, at: number): Promise<boolean>;
}
