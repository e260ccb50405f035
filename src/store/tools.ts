/**
 * The tool manifest: every tool an application listed, and its review (applications/manifest.ts).
 */

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
