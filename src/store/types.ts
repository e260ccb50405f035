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
  expiresAt: number | null;
  consumedAt: number | null;
  /** Set when a refresh token lost the race for its family (see authz/refresh-family.ts). */
  killedAt: number | null;
}

export type OidcRecordInput = Pick<OidcRecord, 'model' | 'id' | 'payload'> &
  Partial<Pick<OidcRecord, 'grantId' | 'userCode' | 'uid' | 'parentId' | 'expiresAt'>>;

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
}

export interface User {
  id: string;
  email: string;
  name: string | null;
  passwordHash: string | null;
  createdAt: number;
  disabledAt: number | null;
  /** Server administrator (the first user created through the setup link). */
  isAdmin: boolean;
}

export interface UserStore {
  /** Fails with PortcullisError('conflict') when the e-mail is taken (case-insensitive). */
  create(input: { email: string; name?: string | null; passwordHash?: string | null; isAdmin?: boolean }): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  setPassword(id: string, passwordHash: string): Promise<void>;
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

export type RevocationKind = 'grant' | 'token' | 'user' | 'key' | 'session';

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
}
