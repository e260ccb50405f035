/**
 * The protocol names the engine's configuration and our own pages share: where the engine's routes
 * are, the OpenID scopes and the claims they release, and the `acr` of a password sign-in.
 */
import { ACR_MFA } from '../shared/acr.ts';

/** Engine routes, relative to the issuer. Our own pages live outside /oauth. */
export const ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  jwks: '/oauth/jwks',
  registration: '/oauth/register',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  device_authorization: '/oauth/device/authorize',
  code_verification: '/device',
  end_session: '/oauth/logout',
  userinfo: '/oauth/userinfo',
  pushed_authorization_request: '/oauth/par',
} as const;

export const OIDC_SCOPES = ['openid', 'offline_access', 'email', 'profile'];

/** Claims the `openid` scope releases (ID token, userinfo): who the user is, and for which org. */
export const OPENID_CLAIMS = ['sub', 'org_id', 'org_slug', 'org_name', 'org_role', 'workspaces'];

export const ACR_PASSWORD = 'urn:portcullis:acr:pwd';
/** A sign-in with a second factor (web/second-factor.ts): what a step-up asking for MFA requires. */
export { ACR_MFA };

/**
 * The `acr` of a sign-in from its `amr` (RFC 8176 §2 values): `mfa` means more than one factor was
 * proven (a password and TOTP or a passkey, or a passkey with user verification alone); `otp` is
 * kept for sign-ins an IdP reports (trustAmr) as a password and a one-time code without `mfa`.
 */
export function acrFor(amr: readonly string[]): string {
  return amr.includes('mfa') || amr.includes('otp') ? ACR_MFA : ACR_PASSWORD;
}
