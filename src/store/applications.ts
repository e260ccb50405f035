/** Applications (protected MCP servers) defined through the admin API or the configuration. */

export type ApplicationSource = 'config' | 'api' | 'builtin';

export interface StoredApplication {
  slug: string;
  /** The definition as JSON text (validated by apps/definition.ts before it is stored). */
  definition: string;
  source: ApplicationSource;
  /** The organization whose owners and admins manage it; null: server-wide (server administrators only). */
  orgId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ApplicationStore {
  /** Every application, or only those of one organization. */
  list(filter?: { orgId?: string }): Promise<StoredApplication[]>;
  get(slug: string): Promise<StoredApplication | undefined>;
  /** Insert or replace; createdAt of an existing application is kept. */
  upsert(app: { slug: string; definition: string; source: ApplicationSource; at: number }): Promise<void>;
  /** Insert a new application (server-wide unless orgId); false (and nothing written) when the slug is taken. One statement. */
  create(app: { slug: string; definition: string; source: ApplicationSource; at: number; orgId?: string | null }): Promise<boolean>;
  /** Give an application to an organization (null: server-wide); false when there is no such application. Upserts keep the owner. */
  setOrg(slug: string, orgId: string | null, at: number): Promise<boolean>;
  delete(slug: string): Promise<boolean>;
  /** Changes whenever any application changes (polled by every process to reload). */
  fingerprint(): Promise<string>;
}
