/**
 * Leavers lose access at once (issue 13 §6): at every refresh a client makes with Portcullis, the
 * user's single sign-on accounts are asked about again, with the credential the IdP gave at
 * sign-in — an OpenID provider's refresh token (refreshed there: RFC 6749 §6), a GitHub OAuth
 * app's token (GET /user and the required memberships). No HTTP here: the asking is the `check`
 * handed in (web/sso-upstream-check.ts); this module decides what the answer means.
 *
 * - `gone` (the IdP refuses: `invalid_grant`, GitHub's 401, a membership ended): the refresh is
 *   refused and everything the user holds is ended everywhere — the `user` revocation event (every
 *   gateway refuses their tokens within a second), grants, refresh tokens, API keys, sessions —
 *   through people.ts, as a disabled account's. The account itself stays enabled: the same person
 *   signs in again when the IdP lets them (a re-hired colleague, a re-approved app).
 * - `unavailable` (network, timeout, 5xx, an error of our own configuration): the refresh goes
 *   on. An IdP outage must not sign every user out; it is logged, audited and counted, and the next
 *   refresh asks again. SCIM deprovisioning (scim/) does not depend on the IdP answering.
 * - At most one question per link per `RECHECK_INTERVAL`, claimed in the store, so a burst of
 *   refreshes — or several instances — never hammers the IdP.
 *
 * SAML has no refresh: SAML connections are kept current through SCIM (README "Leavers").
 */
import type { AuditLog } from '../audit/audit-log.ts';
import type { SsoConnection } from '../core/identity-providers.ts';
import { open, seal, type SecretKey } from '../core/crypto.ts';
import type { SsoLink } from '../store/sso-links.ts';
import type { Store } from '../store/store.ts';
import type { IdentityDeps } from './context.ts';
import { revokeEverything } from './people.ts';

/** Seconds between two questions about one link (shared by every instance through the store). */
export const RECHECK_INTERVAL = 60;

export type UpstreamVerdict =
  /** Still there; `credential`: the rotated refresh token to keep, when the IdP rotated it. */
  | { verdict: 'ok'; credential?: string }
  /** The IdP says the account is gone, disabled, or no longer allowed; `reason` goes to the audit record. */
  | { verdict: 'gone'; reason: string }
  /** The IdP did not answer usefully (`reason`: why, for the log and the audit record). */
  | { verdict: 'unavailable'; reason: string };

/** Ask the IdP behind `connection` about the account `subject`, with its credential. */
export type UpstreamCheck = (connection: SsoConnection, credential: string, subject: string) => Promise<UpstreamVerdict>;

export interface RecheckDeps extends IdentityDeps {
  /** The connection of a link (undefined: no longer configured — nothing to ask). */
  connection: (id: string) => SsoConnection | undefined;
  dataKey: SecretKey;
  check: UpstreamCheck;
  audit: Pick<AuditLog, 'record'>;
  /** Told of every question asked, by connection and verdict (metrics). */
  onVerdict?: (connection: string, verdict: UpstreamVerdict['verdict']) => void;
  /** Default RECHECK_INTERVAL. */
  interval?: number;
}

/** Sealed under the data key, bound to its link: a credential copied onto another link does not open. */
const sealContext = (link: Pick<SsoLink, 'issuer' | 'subject'>) => `portcullis/sso-idp-credential/v1:${link.issuer}:${link.subject}`;

/** Keep the IdP's credential with the link (sso-routes.ts, at every sign-in: the newest wins). */
export async function keepUpstreamCredential(
  deps: { store: Pick<Store, 'ssoLinks'>; dataKey: SecretKey },
  link: Pick<SsoLink, 'issuer' | 'subject'>,
  credential: string,
): Promise<void> {
  await deps.store.ssoLinks.setCredential(link.issuer, link.subject, seal(deps.dataKey, credential, sealContext(link)));
}

/**
 * Re-check every SSO account of the user that can be (a kept credential, a connection that still
 * re-checks, not asked within the interval). 'refused': an IdP said the account is gone, and the
 * user's access has been ended everywhere; the caller refuses the refresh with `invalid_grant`.
 */
export async function recheckUpstream(deps: RecheckDeps, userId: string): Promise<'ok' | 'refused'> {
  const links = (await deps.store.ssoLinks.forUser(userId)).filter((link) => link.credentialSealed !== null);
  for (const link of links) {
    const connection = deps.connection(link.connectionId);
    // Only OIDC and GitHub have something to ask with; SAML has no refresh (SCIM keeps it current).
    if ((connection?.type !== 'oidc' && connection?.type !== 'github') || !connection.recheck) continue;
    if (!(await deps.store.ssoLinks.claimCheck(link.issuer, link.subject, deps.now(), deps.interval ?? RECHECK_INTERVAL))) continue;
    const answer = await ask(deps, connection, link);
    deps.onVerdict?.(connection.id, answer.verdict);
    if (answer.verdict === 'gone') {
      await endAccess(deps, connection, link, answer.reason);
      return 'refused';
    }
    if (answer.verdict === 'unavailable') {
      deps.audit.record({ kind: 'sso.recheck.unavailable', actor: 'system', subject: userId, reason: answer.reason, details: { connection: connection.id } });
    } else if (answer.credential) {
      await keepUpstreamCredential(deps, link, answer.credential);
    }
  }
  return 'ok';
}

async function ask(deps: RecheckDeps, connection: SsoConnection, link: SsoLink): Promise<UpstreamVerdict> {
  let credential: string;
  try {
    credential = open(deps.dataKey, link.credentialSealed!, sealContext(link));
  } catch {
    // Sealed under another data key (a rotated root secret): nothing to ask with, nothing proven.
    return { verdict: 'unavailable', reason: 'credential_unreadable' };
  }
  try {
    return await deps.check(connection, credential, link.subject);
  } catch {
    return { verdict: 'unavailable', reason: 'check_failed' };
  }
}

/** The IdP said no: the link keeps no credential, and the user holds nothing anywhere any more. */
async function endAccess(deps: RecheckDeps, connection: SsoConnection, link: SsoLink, reason: string): Promise<void> {
  await deps.store.ssoLinks.setCredential(link.issuer, link.subject, null);
  await revokeEverything(deps, link.userId, `sso:${connection.id}`);
  deps.audit.record({ kind: 'sso.recheck.refused', actor: 'system', subject: link.userId, reason, details: { connection: connection.id } });
}
