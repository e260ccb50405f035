/**
 * What an API key looks like (docs/design/identity.md "API keys"): `pcs_` + 40 base62 characters.
 * A resource server tells keys from JWT access tokens by their shape before any lookup (the guard
 * SDK sends keys to introspection); the server makes and hashes them (api-keys/format.ts).
 */

export const API_KEY_PREFIX = 'pcs_';
export const API_KEY_BODY_LENGTH = 40;
const SHAPE = /^pcs_[0-9A-Za-z]{40}$/;

/** Looks like one of our keys (cheap test before any lookup; JWTs never match). */
export function isApiKeyShaped(value: string): boolean {
  return SHAPE.test(value);
}
