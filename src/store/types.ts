/**
 * The Store: one interface over every place Portcullis keeps state. Implementations:
 * `sqlite/` (node:sqlite, the embedded default) and `postgres/` (pg, for several processes).
 * Both must pass `test/store/contract.test.ts`. Times are epoch seconds (integers) throughout.
 *
 * Rules every implementation keeps:
 * - one-time values (authorization and device codes, setup links) are consumed by ONE conditional
 *   statement, so concurrent redemptions have exactly one winner;
 * - nothing here hashes or encrypts: callers hand in ids that are already keyed hashes and
 *   payloads that are already sealed where that matters (see authz/adapter.ts).
 */

import type { OrgRole, ResourceKind, ResourceRole } from '../core/roles.ts';
import type { Level } from '../shared/levels.ts';

/** A protocol-engine artifact (oidc-provider model instance), stored as opaque text. */
export interface OidcRecord {
  model: string;
  id: string;
  /** JSON text, or a sealed envelope for models whose payloads are encrypted at rest. */
  payload: string;
  grantId: string | null;
  userCode: string | null;
  uid: string | null;
  /** For rotated refresh tokens: the id of the token this one replaced. */
  parentId: string | null;
  /** The user an engine session or grant belongs to (sign out everywhere, connected apps). */
  accountId: string | null;
  expiresAt: number | null;
  consumedAt: number | null;
  /** Set when a refresh token lost the race for its family (see authz/refresh-family.ts). */
  killedAt: number | null;
}

export type OidcRecordInput = Pick<OidcRecord, 'model' | 'id' | 'payload'> &
  Partial<Pick<OidcRecord, 'grantId' | 'userCode' | 'uid' | 'parentId' | 'expiresAt' | 'accountId'>>;

export interface OidcStore {
  /** Insert or replace (consumed/killed marks of an existing row are kept). */
  upsert(record: OidcRecordInput): Promise<void>;
  find(model: string, id: string): Promise<OidcRecord | undefined>;
  findByUid(model: string, uid: string): Promise<OidcRecord | undefined>;
  findByUserCode(model: string, userCode: string): Promise<OidcRecord | undefined>;
  /** Mark consumed if it is not yet: one conditional statement. True only for the caller that consumed it. */
  consume(model: string, id: string, at: number): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  /** Delete every artifact of a grant, of every model. Returns how many rows went. */
  revokeByGrantId(grantId: string): Promise<number>;
  /** Records whose parentId is the given id (refresh-token rotation families). */
  children(model: string, parentId: string): Promise<OidcRecord[]>;
  /** Mark records killed unless already consumed or killed. */
  kill(model: string, ids: string[], at: number): Promise<void>;
  /** Remove records expired before `now`. */
  deleteExpired(now: number): Promise<number>;
  /** Records of one model belonging to an account (engine sessions, grants). */
  byAccount(model: string, accountId: string): Promise<OidcRecord[]>;
  /** Delete one model's records of an account; returns how many went. */
  destroyByAccount(model: string, accountId: string): Promise<number>;
}

export interface User {
  id: string;
  email: string;
  name: string | null;
  passwordHash: string | null;
  createdAt: number;
  disabledAt: number | null;
  deletedAt: number | null;
  /** Server administrator (the first user created through the setup link). */
  isAdmin: boolean;
}

export interface UserStore {
  /** Fails with PortcullisError('conflict') when the e-mail is taken (case-insensitive). */
  create(input: { email: string; name?: string | null; passwordHash?: string | null; isAdmin?: boolean }): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  setPassword(id: string, passwordHash: string): Promise<void>;
  /** The display name (null clears it); false when unknown or deleted. */
  setName(id: string, name: string | null): Promise<boolean>;
  /** Disable (at) or enable (null). False when unknown. */
  setDisabled(id: string, at: number | null): Promise<boolean>;
  /** Erase personal data (e-mail becomes a tombstone, name and password go); the id stays. */
  erase(id: string, at: number): Promise<boolean>;
  list(): Promise<User[]>;
  count(): Promise<number>;
}

export type ClientRecordKind = 'static' | 'dynamic';

/** A registered OAuth client: engine metadata, with `client_secret` replaced by its keyed hash. */
export interface ClientRecord {
  clientId: string;
  metadata: Record<string, unknown>;
  kind: ClientRecordKind;
  createdAt: number;
  /** First successful authorization; dynamic clients that never get one are removed after a while. */
  lastUsedAt: number | null;
}

export interface ClientStore {
  /** Insert or replace metadata; `createdAt`/`lastUsedAt` of an existing client are kept. */
  upsert(record: Omit<ClientRecord, 'createdAt' | 'lastUsedAt'> & { createdAt?: number }): Promise<void>;
  find(clientId: string): Promise<ClientRecord | undefined>;
  list(): Promise<ClientRecord[]>;
  delete(clientId: string): Promise<boolean>;
  markUsed(clientId: string, at: number): Promise<void>;
  /** Delete dynamic clients created before `createdBefore` that were never used. */
  deleteUnusedDynamic(createdBefore: number): Promise<number>;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** Public JWK as JSON text. */
  publicJwk: string;
  /** Private JWK sealed under the data-encryption key. */
  privateJwkSealed: string;
  createdAt: number;
  /** When it stopped signing; it stays published for verification until its tokens have expired. */
  retiredAt: number | null;
}

export interface SigningKeyStore {
  list(): Promise<SigningKeyRecord[]>;
  insert(record: SigningKeyRecord): Promise<void>;
  /** Retire every key except `keepKid` that is not yet retired. */
  retireAllExcept(keepKid: string, at: number): Promise<void>;
  deleteRetiredBefore(at: number): Promise<number>;
}

/**
 * `user`: every token issued to the user (iat ≤ the event's `at`); `member`: id `<org>:<user>`,
 * every token of that user for that org issued until then; `key`: an API key id.
 */
export type RevocationKind = 'grant' | 'token' | 'user' | 'member' | 'key' | 'session';

export interface RevocationEvent {
  /** Monotonic sequence number: consumers replay from the last one they saw. */
  seq: number;
  kind: RevocationKind;
  id: string;
  at: number;
  /** After this, every credential the event concerns has expired anyway, and the event can go. */
  expiresAt: number;
}

export interface RevocationStore {
  /** Record a revocation; idempotent per (kind, id), returning the event's sequence number. */
  add(input: { kind: RevocationKind; id: string; at: number; expiresAt: number }): Promise<number>;
  since(seq: number, limit?: number): Promise<RevocationEvent[]>;
  isRevoked(kind: RevocationKind, id: string): Promise<boolean>;
  deleteExpired(now: number): Promise<number>;
}

export interface OneTimeStore {
  put(kind: string, key: string, value: string, expiresAt: number): Promise<void>;
  /** Return the value and delete it, in one statement; undefined if absent, expired, or already taken. */
  consume(kind: string, key: string, now: number): Promise<string | undefined>;
  deleteExpired(now: number): Promise<number>;
}

export interface SessionRecord {
  /** Keyed hash of the cookie value. */
  id: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  /** When the user last proved who they are (password etc.), for auth_time and step-up. */
  authTime: number;
  amr: string[];
  ip: string | null;
  userAgent: string | null;
}

export interface SessionStore {
  create(record: SessionRecord): Promise<void>;
  find(id: string): Promise<SessionRecord | undefined>;
  touch(id: string, at: number): Promise<void>;
  delete(id: string): Promise<void>;
  deleteForUser(userId: string): Promise<number>;
  listForUser(userId: string): Promise<SessionRecord[]>;
  deleteExpired(now: number): Promise<number>;
}

export interface DemoProject {
  id: string;
  name: string;
  createdAt: number;
}

export interface DemoNote {
  id: string;
  projectId: string;
  title: string;
  body: string;
  updatedAt: number;
}

/** Data of the built-in demo MCP server (projects and notes). */
export interface DemoStore {
  listProjects(): Promise<DemoProject[]>;
  putProject(project: DemoProject): Promise<void>;
  listNotes(projectId: string): Promise<DemoNote[]>;
  getNote(id: string): Promise<DemoNote | undefined>;
  putNote(note: DemoNote): Promise<void>;
  deleteNote(id: string): Promise<boolean>;
}

export type ApplicationSource = 'config' | 'api' | 'builtin';

export interface StoredApplication {
  slug: string;
  /** The definition as JSON text (validated by apps/definition.ts before it is stored). */
  definition: string;
  source: ApplicationSource;
  createdAt: number;
  updatedAt: number;
}

export interface ApplicationStore {
  list(): Promise<StoredApplication[]>;
  get(slug: string): Promise<StoredApplication | undefined>;
  /** Insert or replace; createdAt of an existing application is kept. */
  upsert(app: { slug: string; definition: string; source: ApplicationSource; at: number }): Promise<void>;
  /** Insert a new application; false (and nothing written) when the slug is taken. One statement. */
  create(app: { slug: string; definition: string; source: ApplicationSource; at: number }): Promise<boolean>;
  delete(slug: string): Promise<boolean>;
  /** Changes whenever any application changes (polled by every process to reload). */
  fingerprint(): Promise<string>;
}

export type ToolStatus = 'approved' | 'needs_review';

/** One tool an upstream listed, as the gateway last saw it. */
export interface ToolRecord {
  appSlug: string;
  name: string;
  description: string | null;
  /** Annotations as JSON text. */
  annotations: string | null;
  /** Hash of what a reviewer approves: description, input schema, annotations. */
  fingerprint: string;
  status: ToolStatus;
  /** The fingerprint an administrator (or auto-approval) last approved. */
  approvedFingerprint: string | null;
  firstSeenAt: number;
  lastSeenAt: number;
  reviewedAt: number | null;
  reviewedBy: string | null;
}

export interface SeenTool {
  name: string;
  description: string | null;
  annotations: string | null;
  fingerprint: string;
}

export interface ToolStore {
  list(appSlug: string): Promise<ToolRecord[]>;
  /**
   * Record what an upstream listed. A new tool, or one whose fingerprint differs from the approved
   * one, is `needs_review` unless `autoApprove`; an unchanged approved tool stays approved.
   */
  record(appSlug: string, tools: SeenTool[], at: number, autoApprove: boolean): Promise<ToolRecord[]>;
  /**
   * Approve the tool as currently seen, or send it back to review. False when unknown — or, when
   * `expectedFingerprint` is given, when the tool has changed since the reviewer looked at it (an
   * approval never covers a description the reviewer did not see).
   */
  review(appSlug: string, name: string, status: ToolStatus, by: string, at: number, expectedFingerprint?: string): Promise<boolean>;
  deleteApp(appSlug: string): Promise<void>;
}

/** The last self-test of an application (apps/self-test.ts). */
export interface SelfTestRecord {
  appSlug: string;
  ranAt: number;
  passed: boolean;
  /** Hash of the definition tested: after a change, the application needs a new self-test. */
  definitionHash: string;
  /** The gateway URL that was tested. */
  url: string;
  /** Each check's name, outcome and detail, as JSON text. */
  checks: string;
}

export interface SelfTestStore {
  /** Record an application's latest self-test, replacing the previous one. */
  put(record: SelfTestRecord): Promise<void>;
  get(appSlug: string): Promise<SelfTestRecord | undefined>;
  delete(appSlug: string): Promise<void>;
}

/** A gateway session or an upstream task, bound to the caller that opened it. */
export interface Binding {
  kind: string;
  appSlug: string;
  key: string;
  /** Who may use it: `<subject> <client id>`. */
  owner: string;
  value: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface BindingStore {
  /** Insert; false when the key exists (never overwrite another caller's binding). */
  create(binding: Binding): Promise<boolean>;
  find(kind: string, appSlug: string, key: string, now: number): Promise<Binding | undefined>;
  extend(kind: string, appSlug: string, key: string, expiresAt: number): Promise<void>;
  delete(kind: string, appSlug: string, key: string): Promise<void>;
  deleteExpired(now: number): Promise<number>;
}

// ---- Identity and permissions (docs/design/identity.md) ----

/** What a role allows on a resource: viewer → read, editor → write, manager → delete. */

export interface OrgSettings {
  /** Which kinds of clients may act for the org (pre-registered always includes portcullis-cli). */
  clientKinds?: ('pre-registered' | 'metadata-document' | 'dynamic')[];
  /** Only these client ids may act for the org (null/absent: any allowed kind). */
  clientAllowList?: string[] | null;
  /** Access-token lifetime for this org (seconds, within the server's bound). */
  accessTokenTtl?: number;
  /** Longest a sign-in session lasts for this org's members (seconds, within the server's bound). */
  sessionMaxTtl?: number;
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
}

export interface InvitationStore {
  create(invitation: Omit<Invitation, 'acceptedAt' | 'acceptedBy' | 'revokedAt'>): Promise<void>;
  get(id: string): Promise<Invitation | undefined>;
  list(orgId: string): Promise<Invitation[]>;
  /** Accept once: one conditional statement; undefined when unknown, used, revoked or expired. */
  accept(id: string, userId: string, at: number): Promise<Invitation | undefined>;
  revoke(id: string, at: number): Promise<boolean>;
}

/** `admin`: the key may also call its org's admin API (only org owners and admins can issue one). */
export type ApiKeyPermissions = ({ mode: 'simple'; level: 'read' | 'write' } | { mode: 'granular'; levels: Record<string, Level> }) & { admin?: boolean };

export interface ApiKeyRecord {
  id: string;
  orgId: string;
  /** The creator: the key never exceeds their permissions. */
  userId: string;
  name: string;
  /** `pcs_` + the first characters, to tell keys apart. */
  prefix: string;
  /** HMAC-SHA-256(pepper, key). */
  hash: string;
  /** Application slugs the key may be used with; null = all. */
  applications: string[] | null;
  /** Resource ids the key is limited to; null = all resources. */
  resources: string[] | null;
  permissions: ApiKeyPermissions;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  revokedBy: string | null;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
}

export interface ApiKeyStore {
  create(key: Omit<ApiKeyRecord, 'revokedAt' | 'revokedBy' | 'lastUsedAt' | 'lastUsedIp'>): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  byHash(hash: string): Promise<ApiKeyRecord | undefined>;
  list(filter: { orgId?: string; userId?: string }): Promise<ApiKeyRecord[]>;
  /** Permanent: revoked_at is set once and never cleared. False when unknown or already revoked. */
  revoke(id: string, by: string, at: number): Promise<boolean>;
  /** Revoke every live key of a user (in one org, or everywhere). Returns the ids revoked. */
  revokeForUser(userId: string, by: string, at: number, orgId?: string): Promise<string[]>;
  touch(id: string, at: number, ip: string | null): Promise<void>;
}

export interface GrantContext {
  grantId: string;
  userId: string;
  clientId: string;
  orgId: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface GrantContextStore {
  /** Insert or update the org of a grant (a grant re-consented for another org moves). */
  put(context: Omit<GrantContext, 'lastUsedAt' | 'revokedAt'>): Promise<void>;
  get(grantId: string): Promise<GrantContext | undefined>;
  list(filter: { userId?: string; orgId?: string; includeRevoked?: boolean }): Promise<GrantContext[]>;
  touch(grantId: string, at: number): Promise<void>;
  markRevoked(grantId: string, at: number): Promise<void>;
}

export interface AuditEvent {
  seq: number;
  at: number;
  orgId: string | null;
  /** Who acted: a user id, `key:<id>`, `client:<id>`, or `system`. */
  actor: string | null;
  kind: string;
  /** The user the event is about (id). */
  subject: string | null;
  clientId: string | null;
  app: string | null;
  tool: string | null;
  decision: 'allow' | 'deny' | null;
  /** The rule or code behind the decision. */
  reason: string | null;
  details: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

export type AuditInput = Omit<AuditEvent, 'seq' | 'prevHash' | 'hash'>;

export interface AuditStore {
  /** Append, chaining the hash to the previous event (one transaction: the chain never forks). */
  append(event: AuditInput, hash: (prevHash: string, event: AuditInput) => string): Promise<AuditEvent>;
  /** Append several, in order, in one transaction (the gateway batches its events). */
  appendMany(events: AuditInput[], hash: (prevHash: string, event: AuditInput) => string): Promise<AuditEvent[]>;
  list(filter: { orgId?: string; since?: number; until?: number; kind?: string; subject?: string; app?: string; decision?: 'allow' | 'deny'; afterSeq?: number; limit?: number }): Promise<AuditEvent[]>;
  /** Every event in order, from the start (chain verification, export). */
  all(afterSeq: number, limit: number): Promise<AuditEvent[]>;
}

export interface MigrationReport {
  dialect: 'sqlite' | 'postgres';
  /** Versions applied by this call, in order. */
  applied: number[];
  /** The schema version after the call. */
  version: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Apply pending numbered migrations (idempotent; safe to call from several processes). */
  migrate(options?: { to?: number }): Promise<MigrationReport>;
  /** Fails when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly oidc: OidcStore;
  readonly users: UserStore;
  readonly clients: ClientStore;
  readonly signingKeys: SigningKeyStore;
  readonly revocations: RevocationStore;
  readonly oneTime: OneTimeStore;
  readonly sessions: SessionStore;
  readonly demo: DemoStore;
  readonly applications: ApplicationStore;
  readonly tools: ToolStore;
  readonly selfTests: SelfTestStore;
  readonly bindings: BindingStore;
  readonly orgs: OrgStore;
  readonly invitations: InvitationStore;
  readonly apiKeys: ApiKeyStore;
  readonly grantContexts: GrantContextStore;
  readonly audit: AuditStore;
}
