/**
 * The connection doctor's diagnoses: from what clients did (recorder.ts), each failed or missing
 * step of an MCP connection in plain words, with the fix. Pure: events in, diagnoses out.
 *
 * The steps an MCP client takes (MCP Authorization, 2025-06-18): fetch the protected-resource
 * metadata (RFC 9728), the authorization server's metadata (RFC 8414), register (RFC 7591), open
 * /authorize with PKCE (RFC 7636) and `resource` (RFC 8707), redeem the code, call the server with
 * a token for its audience, refresh before or after expiry (RFC 6749 §6).
 */
import type { ConnectionEvent } from '../../store/connection-events.ts';

/** The kinds of event the recorder writes. */
export const DOCTOR_EVENTS = {
  resourceMetadata: 'resource-metadata',
  serverMetadata: 'server-metadata',
  registered: 'registered',
  metadataDocument: 'metadata-document',
  authorize: 'authorize',
  /** The person signed in for the client's authorization request (interaction: password, passkey, SSO, or a session reused). */
  signedIn: 'signed-in',
  /** Their consent decision: approved, partial, refused, or access asked for (no access yet). */
  consented: 'consented',
  authorized: 'authorized',
  token: 'token',
  gateway: 'gateway',
} as const;

export type DiagnosisCode = 'metadata-document-refused' | 'unknown-client' | 'code-not-redeemed' | 'registered-never-authorized' | 'redirect-uri-mismatch' | 'no-resource' | 'no-pkce' | 'token-failed' | 'audience-mismatch' | 'expired-no-refresh' | 'forbidden' | 'signed-in-never-consented' | 'consent-refused' | 'scope-not-reauthorized';

export interface Diagnosis {
  code: DiagnosisCode;
  clientId: string;
  at: number;
  /** What went wrong, in plain words. */
  problem: string;
  fix: string;
}

/** Registrations closer than this (seconds) count as one client retrying. */
const RETRY_WINDOW = 10 * 60;
/** A single registration that has not opened /authorize after this long (seconds) is a problem too. */
const SILENT_AFTER = 5 * 60;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

/** Every diagnosis for the events of the window (every client's), newest first. */
export function diagnose(events: ConnectionEvent[], now: number): Diagnosis[] {
  const byClient = new Map<string, ConnectionEvent[]>();
  for (const e of events) if (e.clientId) byClient.set(e.clientId, [...(byClient.get(e.clientId) ?? []), e]);
  const found = [...registrationLoops(byClient, now)];
  for (const [clientId, own] of byClient) found.push(...clientDiagnoses(clientId, own, now));
  return found.sort((a, b) => b.at - a.at);
}

/** One client's own steps: its /authorize requests, its token requests, its calls to the gateway. */
export function clientDiagnoses(clientId: string, events: ConnectionEvent[], now: number): Diagnosis[] {
  const found: Diagnosis[] = [];
  for (const e of events) {
    const d = e.detail ?? {};
    if (e.kind === DOCTOR_EVENTS.authorized && now - e.at >= SILENT_AFTER && !events.some((t) => t.kind === DOCTOR_EVENTS.token && t.at >= e.at && text(t.detail?.grantType) === 'authorization_code')) {
      found.push({ code: 'code-not-redeemed', clientId, at: e.at, problem: 'signed in and consented, but never redeemed the authorization code', fix: 'The redirect did not reach the client: check that it listens on the redirect URI it registered (port, path) and that nothing in the browser blocked the redirect.' });
    }
    if (e.kind === DOCTOR_EVENTS.authorize) found.push(...authorizeDiagnoses(clientId, e));
    if (e.kind === DOCTOR_EVENTS.metadataDocument && !e.ok) {
      found.push({ code: 'metadata-document-refused', clientId, at: e.at, problem: `the client metadata document at ${clientId} could not be used: ${text(d.description) || text(d.error) || 'it could not be fetched'}`, fix: 'Serve the document over https at exactly that URL, as JSON whose client_id is the URL itself, with the redirect URIs the client uses and no client secret.' });
    }
    if (e.kind === DOCTOR_EVENTS.token && !e.ok) {
      const refresh = text(d.grantType) === 'refresh_token';
      const fix = refresh
        ? 'The refresh token was revoked, expired or already used (each is good once: RFC 9700 §4.14.2); the person signs in again from the client.'
        : 'Start the sign-in again from the client; an authorization code is good once, for a few minutes, and only with its PKCE verifier.';
      found.push({ code: 'token-failed', clientId, at: e.at, problem: `the token endpoint refused a ${text(d.grantType) || 'token'} request with ${text(d.error) || 'an error'}`, fix });
    }
    if (e.kind === DOCTOR_EVENTS.gateway && !e.ok) found.push(...gatewayDiagnoses(clientId, e, events));
    if (e.kind === DOCTOR_EVENTS.signedIn || e.kind === DOCTOR_EVENTS.consented) found.push(...consentDiagnoses(clientId, e, events, now));
  }
  return [...found, ...scopeNotReauthorized(clientId, events)];
}

/** Steps that mean the client went back to the authorization server: a new /authorize, a sign-in, a code. */
const REAUTHORIZED: ReadonlySet<string> = new Set([DOCTOR_EVENTS.authorize, DOCTOR_EVENTS.signedIn, DOCTOR_EVENTS.consented, DOCTOR_EVENTS.authorized]);

/** A sign-in with no consent decision or code after it, and a refused consent. */
function consentDiagnoses(clientId: string, e: ConnectionEvent, events: ConnectionEvent[], now: number): Diagnosis[] {
  if (e.kind === DOCTOR_EVENTS.consented) {
    if (text(e.detail?.outcome) !== 'refused') return [];
    return [{ code: 'consent-refused', clientId, at: e.at, problem: 'the person refused consent on the consent page, so the client got access_denied (RFC 6749 §4.1.2.1)', fix: 'Nothing is broken: if the person meant to connect, they start again from the client and choose Allow; if they refused because the page asked for too much, have the client ask for fewer scopes.' }];
  }
  const answered = events.some((t) => t.at >= e.at && t.id !== e.id && (t.kind === DOCTOR_EVENTS.authorized || (t.kind === DOCTOR_EVENTS.consented && (t.ok || text(t.detail?.outcome) === 'refused'))));
  if (answered || now - e.at < SILENT_AFTER) return [];
  return [{ code: 'signed-in-never-consented', clientId, at: e.at, problem: 'signed in but never consented — the consent page was closed or the person has no access', fix: 'Ask the person whether they saw the consent page; if it said they have no access (or they asked for it), give them a role in an organization that allows this client (organization members page), or approve the client for the organization.' }];
}

/**
 * RFC 6750 §3.1: 403 insufficient_scope names the scope the call needs; the client must send the
 * person through /authorize again asking for it (MCP Authorization, scope challenge). A refresh
 * cannot widen a grant (RFC 6749 §6), so repeated 403s with no new authorization mean the client
 * never stepped up.
 */
function scopeNotReauthorized(clientId: string, events: ConnectionEvent[]): Diagnosis[] {
  const refused = events.filter((e) => e.kind === DOCTOR_EVENTS.gateway && !e.ok && text(e.detail?.code) === 'insufficient_scope');
  if (refused.length < 2) return [];
  const first = refused[0]!;
  const last = refused.at(-1)!;
  if (events.some((e) => REAUTHORIZED.has(e.kind) && e.at >= first.at && e.id > first.id)) return [];
  return [{ code: 'scope-not-reauthorized', clientId, at: last.at, problem: `refused ${refused.length} times with 403 insufficient_scope and never re-authorized — asked for more scopes? the client never re-authorized after 403 insufficient_scope`, fix: 'The client should open /authorize again with the scope named in the WWW-Authenticate challenge (RFC 6750 §3.1); refreshing the token does not add scopes. Update the client, or disconnect and reconnect it asking for the scope.' }];
}

function authorizeDiagnoses(clientId: string, e: ConnectionEvent): Diagnosis[] {
  const d = e.detail ?? {};
  const found: Diagnosis[] = [];
  if (d.known === false && !/^https?:\/\//.test(clientId)) {
    found.push({ code: 'unknown-client', clientId, at: e.at, problem: `/authorize with client_id ${clientId}, which this server does not know`, fix: 'The client kept a registration this server no longer has (unused dynamic registrations are deleted after a while) or made with another server: have it forget its registration and register again.' });
  }
  if (d.redirectMatched === false) {
    const registered = list(d.registeredRedirectUris);
    found.push({ code: 'redirect-uri-mismatch', clientId, at: e.at, problem: `redirect URI ${text(d.redirectUri) || '(none)'} is not registered for this client (registered: ${registered.join(', ') || 'none'})`, fix: 'Add the redirect URI to the client (OAuth clients page or admin API), or have the client register again with it.' });
  }
  if (d.resource === null) {
    found.push({ code: 'no-resource', clientId, at: e.at, problem: '/authorize without `resource` (RFC 8707): the token is for the default application, not necessarily the one the client calls', fix: 'Update the client: MCP clients must send `resource` with the MCP server URL in the authorization and token requests.' });
  }
  if (d.pkce === false) {
    found.push({ code: 'no-pkce', clientId, at: e.at, problem: '/authorize without a PKCE code_challenge (RFC 7636), which this server requires', fix: 'Update the client: MCP clients must use PKCE with S256.' });
  }
  return found;
}

function gatewayDiagnoses(clientId: string, e: ConnectionEvent, events: ConnectionEvent[]): Diagnosis[] {
  const d = e.detail ?? {};
  if (d.rule === 'audience') {
    return [{ code: 'audience-mismatch', clientId, at: e.at, problem: `token audience ${list(d.audience).join(', ') || '(none)'} does not match application ${text(d.resource)}`, fix: `Have the client ask for \`resource=${text(d.resource)}\` when it authorizes and redeems its code, then sign in again.` }];
  }
  if (d.rule === 'expired') {
    const refreshedLater = events.some((r) => r.kind === DOCTOR_EVENTS.token && r.at >= e.at && text(r.detail?.grantType) === 'refresh_token');
    if (refreshedLater) return [];
    return [{ code: 'expired-no-refresh', clientId, at: e.at, problem: 'refused with 401 after expiry and never used its refresh token', fix: 'The client should refresh its token (grant_type=refresh_token) when the gateway answers 401; check it asked for offline_access and kept the refresh token.' }];
  }
  if (Number(d.status) === 403 && d.code === 'insufficient_scope') {
    return [{ code: 'forbidden', clientId, at: e.at, problem: `refused with 403 insufficient_scope at ${text(d.app)}: the token lacks the scope the call needs`, fix: 'The person did not grant that scope (or the client did not ask for it): the client asks again with the scope from the challenge, and the person allows it on the consent page — if their role lets them.' }];
  }
  if (Number(d.status) === 403) {
    return [{ code: 'forbidden', clientId, at: e.at, problem: `refused with 403 ${text(d.code)}${d.rule ? ` (${text(d.rule)})` : ''} at ${text(d.app)}`, fix: 'Check the person\'s access to the application (policy simulator) and the scopes the client asked for.' }];
  }
  return [];
}

/**
 * Clients that register again and again and never open /authorize: each registration is a new
 * client id, so attempts are grouped by what they registered (name and redirect URIs).
 */
function registrationLoops(byClient: Map<string, ConnectionEvent[]>, now: number): Diagnosis[] {
  const families = new Map<string, { clientId: string; at: number; reachedAuthorize: boolean }[]>();
  for (const [clientId, own] of byClient) {
    const reg = own.find((e) => e.kind === DOCTOR_EVENTS.registered && e.ok);
    if (!reg) continue;
    const key = `${text(reg.detail?.clientName)} ${list(reg.detail?.redirectUris).join(' ')}`;
    const reachedAuthorize = own.some((e) => e.kind === DOCTOR_EVENTS.authorize);
    families.set(key, [...(families.get(key) ?? []), { clientId, at: reg.at, reachedAuthorize }]);
  }
  const found: Diagnosis[] = [];
  for (const attempts of families.values()) {
    if (attempts.some((a) => a.reachedAuthorize)) continue;
    const first = attempts[0]!;
    const last = attempts.at(-1)!;
    const retried = attempts.length >= 2 && last.at - first.at <= RETRY_WINDOW;
    if (!retried && now - last.at < SILENT_AFTER) continue;
    const minutes = Math.max(1, Math.ceil((last.at - first.at) / 60));
    const problem = attempts.length >= 2
      ? `registered ${attempts.length} times in ${minutes} minutes and never opened /authorize — the client could not open a browser or rejected the metadata`
      : 'registered and never opened /authorize — the client could not open a browser or rejected the metadata';
    for (const a of attempts) found.push({ code: 'registered-never-authorized', clientId: a.clientId, at: a.at, problem, fix: 'Look at the client\'s own log; check it can open a browser, and that it accepts this server\'s metadata (authorization server and protected resource URLs, https).' });
  }
  return found;
}
