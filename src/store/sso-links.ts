/** Single sign-on account links: an identity provider's subject (issuer + sub) → our user. */

export interface SsoLink {
  issuer: string;
  subject: string;
  connectionId: string;
  userId: string;
  createdAt: number;
  lastLoginAt: number;
  /**
   * The provider's credential for re-checking the account (a refresh token, or GitHub's access
   * token), sealed by the caller; null when there is none (identity/sso-recheck.ts).
   */
  credentialSealed: string | null;
  /** When the account was last re-checked at the provider; null: never. */
  checkedAt: number | null;
}

/** What a new link carries (its credential and check time are set afterwards). */
export type NewSsoLink = Omit<SsoLink, 'credentialSealed' | 'checkedAt'>;

export interface SsoLinkStore {
  find(issuer: string, subject: string): Promise<SsoLink | undefined>;
  /** False when the subject is linked already (a concurrent first sign-in won). */
  create(link: NewSsoLink): Promise<boolean>;
  touch(issuer: string, subject: string, at: number): Promise<void>;
  forUser(userId: string): Promise<SsoLink[]>;
  /** Keep (or, with null, forget) the sealed credential of a link. */
  setCredential(issuer: string, subject: string, sealed: string | null): Promise<void>;
  /**
   * Claim the right to re-check a link at `at`: true for exactly one caller when the link was
   * not checked within `intervalSeconds` (one atomic update, so every instance sharing the store
   * together asks the provider at most once per interval).
   */
  claimCheck(issuer: string, subject: string, at: number, intervalSeconds: number): Promise<boolean>;
  /** Forget every link made through a connection (it was removed); how many. */
  removeForConnection(connectionId: string): Promise<number>;
}
