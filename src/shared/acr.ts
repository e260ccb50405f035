/**
 * Authentication context class references (OpenID Connect Core §2 `acr`) that Portcullis issues,
 * here because the authorization server puts them in tokens and the gateway (and the guard) read
 * them back: a step-up that asks for a second factor (RFC 9470 §4 `acr_values`) needs this one.
 */

/** A sign-in with a second factor (RFC 8176 `amr` includes `mfa`). */
export const ACR_MFA = 'urn:portcullis:acr:mfa';
