/**
 * Asking an identity provider whether an account still is (identity/sso-recheck.ts decides what
 * the answer means). OpenID Connect: a refresh at the IdP with the refresh token kept at sign-in,
 * through openid-client — an IdP refuses a refresh for an account it deleted, disabled or whose
 * grant it revoked with `invalid_grant` (RFC 6749 §5.2), and nothing else is read as "gone".
 * GitHub: sso-github.ts's githubAccountStatus.
 */
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import type { UpstreamCheck, UpstreamVerdict } from '../identity/sso-recheck.ts';
import type { OidcConnection } from '../core/identity-providers.ts';
import { githubAccountStatus } from './sso-github.ts';
import type { RelyingParties } from './sso-relying-party.ts';

/** The check for every connection type, through these relying parties. */
export function upstreamCheck(relyingParties: RelyingParties, log: Logger): UpstreamCheck {
  return async (connection, credential, subject) => {
    let answer: UpstreamVerdict = { verdict: 'unavailable', reason: 'no_recheck' };
    if (connection.type === 'github') answer = await githubAccountStatus(connection, credential, subject);
    else if (connection.type === 'oidc') answer = await refreshAtIdp(relyingParties, connection, credential, log);
    if (answer.verdict === 'unavailable') log.warn({ connection: connection.id, reason: answer.reason }, 'sso: the identity provider could not re-check an account; access goes on');
    return answer;
  };
}

async function refreshAtIdp(relyingParties: RelyingParties, connection: OidcConnection, refreshToken: string, log: Logger): Promise<UpstreamVerdict> {
  try {
    const rotated = await relyingParties.refresh(connection, refreshToken);
    return rotated && rotated !== refreshToken ? { verdict: 'ok', credential: rotated } : { verdict: 'ok' };
  } catch (err) {
    if (err instanceof oidc.ResponseBodyError) {
      if (err.error === 'invalid_grant') return { verdict: 'gone', reason: 'invalid_grant' };
      // invalid_client and the like: our configuration, not the person — never a reason to sign them out.
      if (err.status < 500) log.error({ err, connection: connection.id }, 'sso: the identity provider refused our refresh request');
      return { verdict: 'unavailable', reason: err.status >= 500 ? 'idp_unavailable' : 'idp_error' };
    }
    return { verdict: 'unavailable', reason: 'idp_unavailable' };
  }
}
