/**
 * Microsoft Entra ID's multi-tenant endpoint, as openid-client handles it. Entra's `organizations`
 * discovery document names no issuer but a template, `https://login.microsoftonline.com/{tenantid}/v2.0`,
 * and every ID token's `iss` is its own directory's (Microsoft identity platform, "Validate tokens":
 * the issuer with the token's `tid`). openid-client (6.x) knows this: when discovery at
 * login.microsoftonline.com answers with another issuer it accepts the template, and then requires
 * each ID token's `iss` to be the template with that token's `tid` put in (its `kEntraId` /
 * oauth4webapi's `_expectedIssuer` hook). Without that check any directory's token would pass for
 * any other's (issuer confusion); that the `tid` is one of the connection's is checked after
 * (identity/sso-accounts.ts). Should openid-client ever drop the hook, the literal template would be
 * expected and every sign-in refused: it fails closed.
 *
 * The hook is keyed on the discovery URL's origin, so a development or test stand-in (`authority`)
 * is reached by rerouting requests for that origin, never by changing the URL: the checks made
 * against a stand-in are the ones made against Entra.
 */
import type * as oidc from 'openid-client';
import { ENTRA_AUTHORITY, type OidcConnection } from '../core/identity-providers.ts';

/** The fetch that sends requests for Entra's host to the connection's stand-in; none for Entra itself. */
export function entraFetch(connection: OidcConnection): oidc.CustomFetch | undefined {
  const authority = connection.authority;
  if (connection.preset !== 'entra' || authority === undefined || authority === ENTRA_AUTHORITY) return undefined;
  return (url, options) => {
    const target = new URL(url);
    return fetch(target.origin === ENTRA_AUTHORITY ? `${authority}${target.pathname}${target.search}` : url, options as RequestInit);
  };
}
