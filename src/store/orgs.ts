/** Organizations, their members and their resource tree (docs/design/identity.md). */
import type { LimitSettings } from '../core/limit-settings.ts';
import type { OrgRole, ResourceKind, ResourceRole } from '../core/roles.ts';

export interface OrgSettings {
  /** Which kinds of clients may act for the org (pre-registered always includes portcullis-cli). */
  clientKinds?: ('pre-registered' | 'metadata-document' | 'dynamic')[];
  /** Only these client ids may act for the org (null/absent: any allowed kind). */
  clientAllowList?: string[] | null;
  /**
   * "Admin approval": only the clients on the allow-list act for the org (none when it is absent),
   * and a member may ask for another one from the consent page (identity/client-approvals.ts).
   */
  clientApproval?: boolean;
  /** Access-token lifetime for this org (seconds, within the server's bound). */
  accessTokenTtl?: number;
  /** Longest a sign-in session lasts for this org's members (seconds, within the server's bound). */
  sessionMaxTtl?: number;
  /** Rate limits and quotas of the org's gateway calls, within the server's (core/limit-settings.ts). */
  limits?: LimitSettings;
  /** Members must sign in with a second factor; one without is led to enrol at the next sign-in (identity/totp.ts). */
  requireMfa?: boolean;
  /** The workspace or project role a new member gets on joining, unless their invitation names one (identity/new-member-access.ts). */
  newMemberAccess?: { resourceId: string; role: ResourceRole } | null;
}

export interface Org {
  id: string;
  slug: string;
  name: string;
  settings: OrgSettings;
  createdAt: number;
}

export interface OrgMember {
  orgId: string;
  userId: string;
  role: OrgRole;
  createdAt: number;
}

export interface OrgResource {
  id: string;
  orgId: string;
  kind: ResourceKind;
  parentId: string | null;
  name: string;
  createdAt: number;
}

export interface ResourceMember {
  resourceId: string;
  userId: string;
  role: ResourceRole;
  createdAt: number;
}

export type MemberChange = 'ok' | 'not_found' | 'last_owner';

export interface OrgStore {
  /** Fails with PortcullisError('conflict') when the slug is taken. */
  create(input: { slug: string; name: string; settings?: OrgSettings }): Promise<Org>;
  get(id: string): Promise<Org | undefined>;
  bySlug(slug: string): Promise<Org | undefined>;
  list(): Promise<Org[]>;
  /** The orgs a user belongs to, with their role in each. */
  forUser(userId: string): Promise<(Org & { role: OrgRole })[]>;
  update(id: string, changes: { name?: string; settings?: OrgSettings }): Promise<boolean>;
  delete(id: string): Promise<boolean>;

  member(orgId: string, userId: string): Promise<OrgMember | undefined>;
  members(orgId: string): Promise<OrgMember[]>;
  /** Add a member; fails with PortcullisError('conflict') when already one. */
  addMember(orgId: string, userId: string, role: OrgRole, at: number): Promise<OrgMember>;
  /** Change a role; `last_owner` when it would leave the org without an owner. One transaction. */
  setRole(orgId: string, userId: string, role: OrgRole): Promise<MemberChange>;
  /** Remove a member (and their resource memberships in the org); `last_owner` likewise. */
  removeMember(orgId: string, userId: string): Promise<MemberChange>;

  resources(orgId: string): Promise<OrgResource[]>;
  resource(id: string): Promise<OrgResource | undefined>;
  createResource(input: { orgId: string; kind: ResourceKind; parentId: string | null; name: string; at: number }): Promise<OrgResource>;
  renameResource(id: string, name: string): Promise<boolean>;
  /** Deletes the node and everything below it (and their memberships). */
  deleteResource(id: string): Promise<boolean>;

  /** Memberships on resources of an org (all, or one user's). */
  resourceMembers(orgId: string, userId?: string): Promise<ResourceMember[]>;
  setResourceMember(resourceId: string, userId: string, role: ResourceRole, at: number): Promise<void>;
  removeResourceMember(resourceId: string, userId: string): Promise<boolean>;
}
