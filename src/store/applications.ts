/** Applications (protected MCP servers) defined through the admin API or the configuration. */

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
