/**
 * What the gateway decided for one request, as its record step (gateway/steps/record.ts) hands it
 * to the audit log: who called, what they asked for, whether it went through, why not, what the
 * upstream said, and how long the gateway took — and the one audit event that request becomes.
 * Users, clients and keys by id only (audit-log.ts). The gateway records into whatever
 * `recordDecision` the server gives it; `gatewayDecisionRecorder` is the audit log's.
 */
import type { ErrorCode } from '../core/errors.ts';
import type { AuditLog, AuditRecord } from './audit-log.ts';

/** The audit event kind of a request through the gateway. */
export const GATEWAY_CALL = 'gateway.call';

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
  /** The upstream's HTTP status, when it answered; the JSON-RPC error code of its answer, when it was one. */
  upstreamStatus?: number;
  upstreamError?: number;
  /** The id the gateway gave the request (its `X-Request-Id` answer header), the MCP session, who sent it. */
  requestId: string;
  sessionId?: string;
  clientIp: string;
  userAgent?: string;
  /** A tool call's arguments, as the application opts in (`audit.arguments`): a keyed hash, or redacted. */
  arguments?: { hash: string } | { value: unknown };
  /** Milliseconds from arrival until the gateway had answered, or handed a streamed answer on. */
  durationMs: number;
}

/**
 * The audit event of one gateway request. The first message's tool (or resource, or prompt) is the
 * event's `tool` column so that filters by tool find it; every message is in `details.calls`.
 */
export function auditRecordOf(decision: DecisionRecord): AuditRecord {
  const first = decision.calls[0];
  return {
    kind: GATEWAY_CALL,
    at: Math.floor(decision.at / 1000),
    orgId: decision.orgId ?? null,
    actor: decision.keyId ? `key:${decision.keyId}` : (decision.subject ?? null),
    subject: decision.subject ?? null,
    clientId: decision.clientId ?? null,
    app: decision.app,
    tool: first?.tool ?? first?.resource ?? first?.prompt ?? null,
    decision: decision.decision,
    // The code, so that filters by code find it; the rule that produced it is in the details.
    reason: decision.code ?? null,
    details: {
      requestId: decision.requestId,
      httpMethod: decision.httpMethod,
      calls: decision.calls,
      ...(decision.rule ? { rule: decision.rule } : {}),
      ...(decision.keyId ? { keyId: decision.keyId } : {}),
      ...(decision.sessionId ? { sessionId: decision.sessionId } : {}),
      ...(decision.upstreamStatus !== undefined ? { upstreamStatus: decision.upstreamStatus } : {}),
      ...(decision.upstreamError !== undefined ? { upstreamError: decision.upstreamError } : {}),
      ...(decision.arguments ? { arguments: decision.arguments } : {}),
      durationMs: Math.round(decision.durationMs * 1000) / 1000,
      clientIp: decision.clientIp,
      ...(decision.userAgent ? { userAgent: decision.userAgent } : {}),
    },
  };
}

/**
 * Gateway decisions into the audit log. `batched`: queued, the gateway never waits; `strict`: the
 * promise resolves once the record is committed, and the gateway holds its answer until then.
 */
export function gatewayDecisionRecorder(log: AuditLog, mode: 'batched' | 'strict'): (decision: DecisionRecord) => void | Promise<void> {
  if (mode === 'strict') return (decision) => log.recordDurably(auditRecordOf(decision));
  return (decision) => log.record(auditRecordOf(decision));
}
