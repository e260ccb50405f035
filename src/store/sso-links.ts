/** Single sign-on account links: an identity provider's subject (issuer + sub) → our user. */

export interface SsoLink {
  issuer: string;
  subject: string;
  connectionId: string;
  userId: string;
  createdAt: number;
  lastLoginAt: number;
}

export interface SsoLinkStore {
  find(issuer: string, subject: string): Promise<SsoLink | undefined>;
  /** False when the subject is linked already (a concurrent first sign-in won). */
  create(link: SsoLink): Promise<boolean>;
  touch(issuer: string, subject: string, at: number): Promise<void>;
  forUser(userId: string): Promise<SsoLink[]>;
}
