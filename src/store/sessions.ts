/** Browser sign-in sessions (web/session.ts). */

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
  /** The single sign-on connection that signed the person in (absent: not through SSO). */
  ssoConnection?: string;
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
