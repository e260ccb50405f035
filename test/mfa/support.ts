/**
 * TOTP for tests, as an authenticator app computes it (RFC 6238: SHA-1, 6 digits, 30 s) at the
 * test server's clock; and enrolment through /account/mfa as a person does it.
 */
import assert from 'node:assert/strict';
import { Secret, TOTP } from 'otpauth';
import type { TestClock } from '../helpers/clock.ts';
import type { TestServer } from '../helpers/server.ts';
import { UserAgent, type PageResponse } from '../helpers/user-agent.ts';

/** The code an authenticator app shows for `secret` at the clock's time. */
export function totpCode(secret: string, clock: TestClock): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: clock.nowMs() });
}

/** The `data-code` of the page's problem or error (the stable code tests match). */
export function pageCode(page: PageResponse): string | undefined {
  return /data-testid="(?:problem|error)"[^>]*data-code="([^"]+)"/.exec(page.body)?.[1];
}

/** Sign in to the console with the password only (someone without a second factor). */
export async function consoleSignIn(server: TestServer, email: string, password: string, ua = new UserAgent()): Promise<PageResponse> {
  const form = await ua.follow(`${server.url}/login`);
  return ua.submit(form, /\/login$/, { email, password });
}

export interface Enrolled {
  secret: string;
  recoveryCodes: string[];
  ua: UserAgent;
}

/** Turn on TOTP at /account/mfa in a signed-in browser: the secret shown and the recovery codes shown once. */
export async function enrolAtAccount(server: TestServer, clock: TestClock, ua: UserAgent): Promise<Enrolled> {
  const overview = await ua.follow(`${server.url}/account/mfa`);
  assert.equal(overview.status, 200);
  const setup = await ua.submit(overview, /\/account\/mfa\/setup$/, {});
  assert.equal(setup.status, 200);
  assert.ok(setup.body.includes('<svg'), 'a QR code as inline SVG');
  const secret = /data-secret="([A-Z2-7]+)"/.exec(setup.body)?.[1];
  assert.ok(secret, 'the secret is shown as text');
  const done = await ua.submit(setup, /\/account\/mfa\/confirm$/, { code: totpCode(secret, clock) });
  assert.equal(done.status, 200, done.body.slice(0, 500));
  return { secret, recoveryCodes: recoveryCodesOn(done), ua };
}

export function recoveryCodesOn(page: PageResponse): string[] {
  const list = /data-testid="recovery-codes">([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '';
  return [...list.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => m[1]!);
}

/** The claims of a JWT (no verification: the test reads what the server put in). */
export function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
