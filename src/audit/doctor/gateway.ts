/**
 * What the connection doctor needs from the gateway: refusals (401, 403) and each client's first
 * call that went through, for each person. Fed from the gateway's decision records and, for a
 * token the gateway refused unverified, from the token's claims read WITHOUT verification — only
 * to say which client sent it and for which audience (a diagnosis, never a decision). Nothing of
 * the token itself is kept.
 */
import { statusFor, type ErrorCode } from '../../core/errors.ts';
import type { DecisionRecord } from '../gateway-decisions.ts';
import { DOCTOR_EVENTS } from './diagnoses.ts';
import type { ConnectionRecorder } from './recorder.ts';

type DecisionRecorder = (record: DecisionRecord) => void | Promise<void>;

/** First calls remembered per process (then forgotten oldest first: a first call is recorded again, harmlessly). */
const FIRST_CALLS = 10_000;

/** Records the doctor's share of each decision, then hands it on to `next`. */
export function doctorDecisions(doctor: ConnectionRecorder, next?: DecisionRecorder): DecisionRecorder {
  const seen = new Set<string>();
  return (record) => {
    noteDecision(doctor, seen, record);
    return next?.(record);
  };
}

function noteDecision(doctor: ConnectionRecorder, seen: Set<string>, record: DecisionRecord): void {
  // Token refusals without a client are recorded by `tokenRefused`, which can tell whose token it was.
  if (!record.clientId && record.code !== undefined && record.rule !== 'no-credentials') return;
  const at = Math.floor(record.at / 1000);
  const base = { at, clientId: record.clientId ?? null, userId: record.subject ?? null };
  if (record.decision === 'deny' && record.code) {
    // A call without a token is how every client starts discovery (RFC 9728 §5.1): expected, not a failure.
    const discovery = record.rule === 'no-credentials';
    doctor.record({ ...base, kind: DOCTOR_EVENTS.gateway, ok: discovery, detail: { app: record.app, status: statusFor(record.code), code: record.code, rule: record.rule ?? null, method: record.calls[0]?.method ?? null } });
    return;
  }
  if (!record.clientId) return;
  const key = `${record.clientId} ${record.subject ?? ''} ${record.app}`;
  if (seen.has(key)) return;
  if (seen.size >= FIRST_CALLS) seen.delete(seen.values().next().value!);
  seen.add(key);
  doctor.record({ ...base, kind: DOCTOR_EVENTS.gateway, ok: true, detail: { app: record.app, status: record.upstreamStatus ?? 200, first: true, method: record.calls[0]?.method ?? null } });
}

/** A refused bearer token: whose it was and what it was for, from its unverified claims (RFC 9068 §2.2). */
export function tokenRefused(doctor: ConnectionRecorder, now: () => number) {
  return (app: { slug: string; resource: string }, bearer: string, err: { code?: ErrorCode; rule?: string }): void => {
    const claims = unverifiedClaims(bearer);
    if (!claims) return;
    const audience = Array.isArray(claims.aud) ? claims.aud.map(String) : typeof claims.aud === 'string' ? [claims.aud] : [];
    doctor.record({
      at: now(),
      kind: DOCTOR_EVENTS.gateway,
      ok: false,
      clientId: typeof claims.client_id === 'string' ? claims.client_id : null,
      userId: typeof claims.sub === 'string' ? claims.sub : null,
      detail: { unverified: true, app: app.slug, resource: app.resource, status: err.code ? statusFor(err.code) : 401, code: err.code ?? 'invalid_token', rule: err.rule ?? null, audience, expiredAt: typeof claims.exp === 'number' ? claims.exp : null },
    });
  };
}

function unverifiedClaims(bearer: string): Record<string, unknown> | undefined {
  const part = bearer.split('.')[1];
  if (!part || bearer.length > 8192) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 9728 §3: a client fetched (or looked for) protected-resource metadata — the first step, before it has a client id. */
export function resourceMetadataFetched(doctor: ConnectionRecorder) {
  return (path: string, found: boolean): void => doctor.record({ kind: DOCTOR_EVENTS.resourceMetadata, ok: found, detail: { path, status: found ? 200 : 404 } });
}
