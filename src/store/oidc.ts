/**
 * Protocol-engine artifacts (oidc-provider models: codes, tokens, sessions, grants), stored as opaque text.
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
