/** SCIM 2.0 provisioning state (scim/): each org's token and group → role map, provisioned users, groups. */
import type { OrgRole } from '../core/roles.ts';

export interface ScimConfig {
  orgId: string;
  /** Keyed hash of the org's bearer token; null when none is issued (or it was revoked). */
  tokenHash: string | null;
  tokenCreatedAt: number | null;
  tokenCreatedBy: string | null;
  /** An IdP group's displayName (lower-cased) → the org role its members get. */
  groupRoles: Record<string, OrgRole>;
}

export interface ScimUserRow {
  /** The SCIM resource id (not the account id: the IdP never learns that). */
  id: string;
  orgId: string;
  userId: string;
  userName: string;
  externalId: string | null;
  active: boolean;
  /** Deactivation disabled the account (it belonged to no other org): reactivation enables it again. */
  disabledAccount: boolean;
  /** What else the IdP sent (name, emails, extensions …), answered back as sent. */
  attributes: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface ScimGroupRow {
  id: string;
  orgId: string;
  displayName: string;
  externalId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ScimStore {
  config(orgId: string): Promise<ScimConfig | undefined>;
  /** Replace the org's token (the previous one stops working with this statement). */
  setToken(orgId: string, hash: string, by: string, at: number): Promise<void>;
  /** False when the org had no token. */
  clearToken(orgId: string): Promise<boolean>;
  orgOfToken(hash: string): Promise<string | undefined>;
  setGroupRoles(orgId: string, roles: Record<string, OrgRole>): Promise<void>;

  users(orgId: string): Promise<ScimUserRow[]>;
  user(orgId: string, id: string): Promise<ScimUserRow | undefined>;
  /** Fails with PortcullisError('conflict') when the userName (case-insensitive) or the account is taken in the org. */
  insertUser(row: ScimUserRow): Promise<void>;
  /** Same conflict rule for a changed userName. */
  updateUser(row: ScimUserRow): Promise<void>;
  deleteUser(orgId: string, id: string): Promise<boolean>;

  groups(orgId: string): Promise<ScimGroupRow[]>;
  group(orgId: string, id: string): Promise<ScimGroupRow | undefined>;
  /** Fails with PortcullisError('conflict') when the displayName (case-insensitive) is taken in the org. */
  insertGroup(row: ScimGroupRow): Promise<void>;
  updateGroup(row: ScimGroupRow): Promise<void>;
  deleteGroup(orgId: string, id: string): Promise<boolean>;
  /** Every (group, user) pair of the org's groups. */
  memberships(orgId: string): Promise<{ groupId: string; scimUserId: string }[]>;
  /** Replace a group's members (one transaction). */
  setGroupMembers(groupId: string, scimUserIds: string[]): Promise<void>;
}
