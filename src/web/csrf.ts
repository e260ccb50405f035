/**
 * CSRF protection for every form: a double-submit token bound to a per-browser random cookie and
 * to the form's purpose (HMAC), plus an Origin check when the browser sends one. SameSite=Lax on
 * our cookies already blocks most cross-site posts; this closes the rest (same-site subdomains,
 * older browsers).
 */
import { createHmac } from 'node:crypto';
import { constantTimeEqual, randomToken, type SecretKey } from '../core/crypto.ts';

export const CSRF_COOKIE = '__Host-pc_csrf';

export class Csrf {
  readonly #key: SecretKey;
  readonly #origin: string;

  constructor(key: SecretKey, publicOrigin: string) {
    this.#key = key;
    this.#origin = publicOrigin;
  }

  newCookieValue(): string {
    return randomToken(24);
  }

  token(cookieValue: string, purpose: string): string {
    return createHmac('sha256', this.#key).update(`${cookieValue}|${purpose}`).digest('base64url');
  }

  /** True when the submitted token matches the cookie and purpose, and the Origin (if sent) is ours. */
  verify(input: { cookieValue: string | undefined; submitted: unknown; purpose: string; origin: string | undefined }): boolean {
    if (input.origin !== undefined && input.origin !== this.#origin) return false;
    if (!input.cookieValue || typeof input.submitted !== 'string') return false;
    return constantTimeEqual(this.token(input.cookieValue, input.purpose), input.submitted);
  }
}
