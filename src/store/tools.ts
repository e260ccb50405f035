/**
 * The tool manifest: every tool an application listed, and its review (applications/manifest.ts).
 */

export type ToolStatus = 'approved' | 'needs_review';

/** One tool an upstream listed, as the gateway last saw it. */
export interface ToolRecord {
  appSlug: string;
  name: string;
  title: string | null;
  description: string | null;
  /** Annotations as JSON text. */
  annotations: string | null;
  /**
   * The input and output JSON Schemas as JSON text (what the model is told to send, and gets back).
   * Title and schemas are null for a tool not listed since they were kept (migration 0015).
   */
  inputSchema: string | null;
  outputSchema: string | null;
  /** Hash of what a reviewer approves: title, description, input and output schema, annotations. */
  fingerprint: string;
  status: ToolStatus;
  /** The fingerprint an administrator (or auto-approval) last approved. */
  approvedFingerprint: string | null;
  /**
   * The version that fingerprint stands for, so a changed tool can be shown old beside new. Null
   * when nothing is approved, or for a tool approved before versions were kept (migration 0015)
   * and not listed unchanged since — never a guess.
   */
  approved: ToolVersion | null;
  firstSeenAt: number;
  lastSeenAt: number;
  reviewedAt: number | null;
  reviewedBy: string | null;
}

/** What the fingerprint covers, as kept (schemas and annotations as JSON text). */
export interface ToolVersion {
  title: string | null;
  description: string | null;
  annotations: string | null;
  inputSchema: string | null;
  outputSchema: string | null;
}

export interface SeenTool extends ToolVersion {
  name: string;
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
