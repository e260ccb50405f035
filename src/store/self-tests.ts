/** The last self-test of each application (applications/self-test.ts). */

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
