/**
 * What the gateway decided for one request, as the record step hands it on (GatewayDeps
 * `recordDecision`): who called, what they asked for, whether it went through, why not, what the
 * upstream said, and how long the gateway took. Users, clients and keys by id only (audit/audit-log.ts).
 */
import type { ErrorCode } from '../core/errors.ts';

/** One JSON-RPC message of the body: its method, and the tool, resource or prompt it names. */
export interface RecordedCall {
  method: string;
  tool?: string;
  resource?: string;
  prompt?: string;
}

export interface DecisionRecord {
  /** When the request arrived (epoch milliseconds). */
  at: number;
  app: string;
  orgId?: string;
  subject?: string;
  clientId?: string;
  /** The API key, when the caller presented one instead of a token. */
  keyId?: string;
  /** POST carries JSON-RPC messages; GET opens the session's stream, DELETE ends the session. */
  httpMethod: string;
  /** The body's messages, in order (none for GET and DELETE, or when the body was refused unread). */
  calls: RecordedCall[];
  /**
   * `deny` when the gateway refused the request at any step (or failed with it); `allow` when it
   * went to the upstream — whether the upstream then answered or failed.
   */
  decision: 'allow' | 'deny';
  /** Why the gateway refused, or why the upstream failed (`upstream_unavailable`), and the rule that said so. */
  code?: ErrorCode;
  rule?: string;
  /** The upstream's HTTP status, when it answered. */
  upstreamStatus?: number;
  /** Milliseconds from arrival until the gateway had answered, or handed a streamed answer on. */
  durationMs: number;
}
