/** The organization each grant acts for (authz/grant-org.ts). */

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
