/**
 * The connection doctor's share of an interaction (audit/doctor/): the person signed in for a
 * client's authorization request, and what they decided on its consent page. Recorded here, where
 * the interaction names the client, so that a sign-in is attributed to the client it was for —
 * whatever the method (password, passkey, SSO: each comes back to the interaction to finish it).
 * A console sign-in with no interaction is no step of a connection and is not recorded.
 */
import { DOCTOR_EVENTS } from '../../audit/doctor/diagnoses.ts';
import type { ConnectionRecorder } from '../../audit/doctor/recorder.ts';
import type { Interaction } from './details.ts';

export interface DoctorDeps {
  /** Absent when the doctor is not wired in (some tests): nothing is recorded. */
  doctor?: ConnectionRecorder;
}

/** What the consent page ended in: OAuth 2.1 §4.1.2.1 access_denied for `refused`. */
export type ConsentOutcome = 'approved' | 'partial' | 'refused' | 'access-requested' | 'awaiting-client-approval';

/** How the person proved who they are, in words (RFC 8176 `amr` values; the session's SSO connection). */
export function signInMethod(amr: readonly string[], ssoConnection?: string | null): string {
  if (ssoConnection) return 'sso';
  if (amr.includes('hwk') && !amr.includes('pwd')) return 'passkey';
  return amr.includes('pwd') ? 'password' : amr.join(' ') || 'session';
}

const clientOf = (details: Interaction): string | null => (typeof details.params.client_id === 'string' ? details.params.client_id : null);

export function recordSignedIn(deps: DoctorDeps, details: Interaction, userId: string, method: string, reused = false): void {
  deps.doctor?.record({ kind: DOCTOR_EVENTS.signedIn, ok: true, clientId: clientOf(details), userId, detail: { method, reused } });
}

export function recordConsent(deps: DoctorDeps, clientId: string | null, userId: string | null, outcome: ConsentOutcome, scopes: { granted?: string[]; refused?: string[] } = {}): void {
  const ok = outcome === 'approved' || outcome === 'partial';
  deps.doctor?.record({ kind: DOCTOR_EVENTS.consented, ok, clientId, userId, detail: { outcome, granted: scopes.granted ?? null, refused: scopes.refused ?? null } });
}

export function recordConsentFor(deps: DoctorDeps, details: Interaction, userId: string | null, outcome: ConsentOutcome): void {
  recordConsent(deps, clientOf(details), userId, outcome);
}
