/**
 * Single sign-on connections an organization's owners manage, and the e-mail domains the
 * organization claims (identity/org-connections.ts, identity/org-domains.ts decide; this keeps).
 * Secrets arrive sealed: nothing here ever holds a client secret or a private key in clear.
 */

export interface OrgConnectionRecord {
  /** Unique across every organization (part of the redirect URI `<publicUrl>/sso/<id>/callback`). */
  id: string;
  orgId: string;
  /** The definition without its secrets, as JSON (core/identity-providers.ts shape). */
  definition: string;
  /** `clientSecret` / `privateKeyJwt`, sealed by the caller; null when the connection has none. */
  secretsSealed: string | null;
  createdAt: number;
  updatedAt: number;
}

/** How a domain was verified: its DNS TXT record was found, or a server administrator vouched for it. */
export type DomainVerification = 'dns' | 'admin';

export interface OrgDomain {
  domain: string;
  orgId: string;
  /** The value the TXT record must carry (README "Company sign-in"). */
  token: string;
  createdAt: number;
  verifiedAt: number | null;
  /** The user who verified it (by DNS or as administrator). */
  verifiedBy: string | null;
  verifiedHow: DomainVerification | null;
}

export interface OrgConnectionStore {
  /** Every organization's connections (orgId omitted), or one organization's; oldest first. */
  listConnections(orgId?: string): Promise<OrgConnectionRecord[]>;
  getConnection(id: string): Promise<OrgConnectionRecord | undefined>;
  /** False when the id is taken (by any organization). */
  createConnection(record: OrgConnectionRecord): Promise<boolean>;
  /** Replace definition and secrets of the org's connection; false when it has none by that id. */
  updateConnection(orgId: string, id: string, definition: string, secretsSealed: string | null, now: number): Promise<boolean>;
  deleteConnection(orgId: string, id: string): Promise<boolean>;

  /** Every organization's domains (orgId omitted), or one organization's. */
  listDomains(orgId?: string): Promise<OrgDomain[]>;
  /** The organization holding `domain` verified, if any. */
  verifiedDomain(domain: string): Promise<OrgDomain | undefined>;
  /** Ask for a domain (unverified); false when this organization asked already. */
  addDomain(domain: OrgDomain): Promise<boolean>;
  /**
   * Mark the org's claim verified, in one statement: 'taken' when another organization holds it
   * verified (a race between two verifications has one winner), 'unknown' when the org never asked.
   */
  verifyDomain(orgId: string, domain: string, how: DomainVerification, by: string, now: number): Promise<'ok' | 'taken' | 'unknown'>;
  deleteDomain(orgId: string, domain: string): Promise<boolean>;
}
