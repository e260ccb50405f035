/**
 * The JSON side of the passkey pages (console/assets/passkeys.js posts here): reading a bounded
 * JSON body, the refusal the script shows (a stable `error` code, a message for the person, and
 * sometimes a `location` to go to instead), and the browser binding of a ceremony's challenge.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { keyedHash } from '../core/crypto.ts';
import { PortcullisError, type ErrorCode } from '../core/errors.ts';
import { BODY_LIMITS } from '../http/body-limits.ts';
import { readJson } from '../http/json-body.ts';
import type { WebContext, WebDeps, WebEnv } from '../web/pages.ts';

export type JsonForm = Record<string, unknown>;

/** JSON bodies as large as a page's form may be (a WebAuthn response is a few kilobytes). */
export function jsonLimit(): MiddlewareHandler<WebEnv> {
  return bodyLimit({ maxSize: BODY_LIMITS.page, onError: (c) => refusal(c as WebContext, 'payload_too_large', 'This request is too large.') });
}

/** The posted JSON object, or undefined when it is not one. */
export async function jsonForm(c: WebContext): Promise<JsonForm | undefined> {
  try {
    const value = await readJson(c, true);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonForm) : undefined;
  } catch {
    return undefined;
  }
}

/** A string field of a posted JSON object ('' when absent or not a string). */
export const text = (form: JsonForm, name: string): string => (typeof form[name] === 'string' ? (form[name] as string) : '');

/** A refusal as JSON: `{ error, message, …extra }` with the code's status (core/errors.ts). */
export function refusal(c: WebContext, code: ErrorCode, message: string, extra: Record<string, unknown> = {}): Response {
  const error = new PortcullisError(code, message, { detail: extra });
  return c.json(error.toJSON(), error.status as ContentfulStatusCode);
}

/**
 * The browser a ceremony belongs to: a keyed hash of its CSRF cookie (HttpOnly, web/pages.ts). A
 * challenge issued to one browser answers nothing posted from another.
 */
export function browserBinding(deps: WebDeps, c: WebContext): string {
  return keyedHash(deps.pepper, `passkey-browser:${c.get('csrfCookie')}`);
}
