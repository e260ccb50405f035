/**
 * Device flow user codes (RFC 8628 §6.1): `XXXX-XXXX` from the engine's base-20 alphabet —
 * consonants only: no vowels (no words spelled, no O or I) and no digits (no 0/O, 1/I, 5/S or
 * 8/B to confuse). 20^8 ≈ 2.6 × 10^10 codes
 * (≈ 34 bits), which the guess limits (guesses.ts) make out of reach within a code's lifetime.
 *
 * People type them as they like: lowercase, with or without the dash, with spaces. Normalizing
 * gives the engine's stored form (uppercase, no separators).
 */

/** The engine's `charset: 'base-20'` (oidc-provider lib/helpers/user_codes.js). */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
/** The engine's `mask`. */
export const USER_CODE_MASK = '****-****';

const LENGTH = USER_CODE_MASK.split('*').length - 1;
const VALID = new RegExp(`^[${USER_CODE_ALPHABET}]{${LENGTH}}$`);

/** The stored form of what a person typed, or undefined when it cannot be a user code at all. */
export function normalizeUserCode(input: string): string | undefined {
  const normalized = input.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return VALID.test(normalized) ? normalized : undefined;
}

/** The form shown to people: `BCDF-GHJK`. */
export function formatUserCode(normalized: string): string {
  const chars = [...normalized];
  return [...USER_CODE_MASK].map((c) => (c === '*' ? (chars.shift() ?? '') : c)).join('');
}
