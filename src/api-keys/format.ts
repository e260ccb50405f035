/**
 * API key strings (docs/design/identity.md "API keys"): `pcs_` + 40 random base62 characters
 * (~238 bits). Only HMAC-SHA-256(pepper, key) is stored: a key this random needs no slow hash, and
 * a keyed hash makes the lookup one index probe costing microseconds. The first four characters
 * after `pcs_` stay visible (`pcs_ab12…`) so people can tell their keys apart.
 */
import { keyedHash, randomBase62, type SecretKey } from '../core/crypto.ts';
import { API_KEY_BODY_LENGTH, API_KEY_PREFIX } from '../shared/api-key-shape.ts';

export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBase62(API_KEY_BODY_LENGTH)}`;
}

/** The stored identifier of a key; domain-separated from every other keyed hash of the pepper. */
export function hashApiKey(pepper: SecretKey, key: string): string {
  return keyedHash(pepper, `api-key:${key}`);
}

/** What stays visible: `pcs_` and the first four characters. */
export function apiKeyDisplayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 4);
}
