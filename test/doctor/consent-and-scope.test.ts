/**
 * The doctor's diagnoses of the steps between /authorize and the code — signed in, then the
 * consent decision — and of a client that keeps getting 403 insufficient_scope without sending
 * the person back to /authorize (RFC 6750 §3.1; a refresh cannot widen a grant, RFC 6749 §6).
 * What must NOT be diagnosed: a sign-in followed by consent or a code, one still within its grace
 * period, a single 403, and 403s followed by a new authorization.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diagnose } from '../../src/audit/doctor/diagnoses.ts';
import type { ConnectionEvent } from '../../src/store/connection-events.ts';
import { signInMethod } from '../../src/authz/interaction/doctor-steps.ts';

const NOW = 1_800_000_000;
const HOUR = 3600;
let id = 0;
const ev = (at: number, clientId: string, kind: string, ok: boolean, detail: Record<string, unknown> = {}): ConnectionEvent => ({ id: ++id, at, clientId, userId: 'u', kind, ok, detail });
const codes = (events: ConnectionEvent[], now = NOW + HOUR) => diagnose(events, now).map((d) => `${d.clientId}:${d.code}`).sort();
const scopeRefusal = (at: number, clientId: string) => ev(at, clientId, 'gateway', false, { status: 403, code: 'insufficient_scope', app: 'demo' });

describe('connection doctor: sign-in and consent', () => {
  it('signed in and then nothing: the consent page was closed, or access was only asked for', () => {
    assert.deepEqual(codes([
      ev(NOW, 'closed', 'signed-in', true, { method: 'password' }),
      ev(NOW, 'asked', 'signed-in', true, { method: 'passkey' }),
      ev(NOW + 5, 'asked', 'consented', false, { outcome: 'access-requested' }),
    ]), ['asked:signed-in-never-consented', 'closed:signed-in-never-consented']);
  });

  it('consent refused is its own diagnosis, not "never consented"', () => {
    assert.deepEqual(codes([
      ev(NOW, 'no', 'signed-in', true, { method: 'sso' }),
      ev(NOW + 5, 'no', 'consented', false, { outcome: 'refused' }),
    ]), ['no:consent-refused']);
  });

  it('nothing for a sign-in followed by consent, by a code with consent remembered, or one still young', () => {
    assert.deepEqual(codes([
      ev(NOW, 'ok', 'signed-in', true),
      ev(NOW + 5, 'ok', 'consented', true, { outcome: 'partial', refused: ['demo:write'] }),
      ev(NOW + 6, 'ok', 'authorized', true),
      ev(NOW + 7, 'ok', 'token', true, { grantType: 'authorization_code' }),
      ev(NOW, 'again', 'signed-in', true, { reused: true }),
      ev(NOW + 1, 'again', 'authorized', true),
      ev(NOW + 2, 'again', 'token', true, { grantType: 'authorization_code' }),
    ]), []);
    assert.deepEqual(codes([ev(NOW, 'young', 'signed-in', true)], NOW + 60), [], 'within the grace period the person may still be reading the page');
  });
});

describe('connection doctor: 403 insufficient_scope', () => {
  it('refused again and again, refreshing in between, never re-authorized', () => {
    const found = diagnose([
      scopeRefusal(NOW, 'stuck'),
      ev(NOW + 1, 'stuck', 'token', true, { grantType: 'refresh_token' }),
      scopeRefusal(NOW + 2, 'stuck'),
      scopeRefusal(NOW + 60, 'stuck'),
    ], NOW + HOUR).filter((d) => d.code === 'scope-not-reauthorized');
    assert.equal(found.length, 1);
    assert.match(found[0]!.problem, /never re-authorized after 403 insufficient_scope/);
    assert.equal(found[0]!.at, NOW + 60, 'dated by the latest refusal');
  });

  it('one 403 is only "forbidden"; 403s followed by a new /authorize are not "never re-authorized"', () => {
    assert.deepEqual(codes([
      scopeRefusal(NOW, 'once'),
      scopeRefusal(NOW, 'stepped'),
      ev(NOW + 1, 'stepped', 'authorize', true, { resource: 'https://x/mcp', pkce: true, redirectMatched: true, scope: 'demo:read demo:write' }),
      scopeRefusal(NOW + 2, 'stepped'),
    ]), ['once:forbidden', 'stepped:forbidden', 'stepped:forbidden']);
  });
});

describe('connection doctor: how the person signed in', () => {
  it('from the session\'s RFC 8176 amr values and its SSO connection', () => {
    assert.equal(signInMethod(['pwd']), 'password');
    assert.equal(signInMethod(['pwd', 'otp', 'mfa']), 'password');
    assert.equal(signInMethod(['hwk', 'user', 'mfa']), 'passkey');
    assert.equal(signInMethod(['pwd'], 'acme-okta'), 'sso');
  });
});
