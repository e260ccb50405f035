/**
 * The authorization server's step-up with a second factor (authz/step-up.ts), its pure parts with
 * fixed clocks: which requests need one, when our browser session may answer the login prompt,
 * when only the second factor is missing, and the token endpoint never putting the step-up scope
 * into a token whose sign-in lacked the second factor — the last line of defence should the
 * pages ever let a password-only sign-in through.
 */
import type { ProtectedResource } from '../../src/core/protected-resource.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clientAsksForMfa,
  onlySecondFactorMissing,
  requestedStepUpMfa,
  sessionAnswersLogin,
  tokenEndpointScopes,
} from '../../src/authz/step-up.ts';
import { idpStepUp } from '../../src/authz/interaction/step-up-sign-in.ts';
import { scopeText } from '../../src/web/approval.ts';

const ACR_MFA = 'urn:portcullis:acr:mfa';
const ACR_PASSWORD = 'urn:portcullis:acr:pwd';

const resource = (overrides: Partial<ProtectedResource> = {}): ProtectedResource => ({
  url: 'https://auth.example.com/mcp/vault',
  name: 'Vault',
  path: '/mcp/vault',
  scopes: [],
  defaultScopes: [],
  toolScopes: {},
  stepUpScope: 'vault:step-up',
  stepUpMaxAge: 300,
  stepUpMfa: true,
  ...overrides,
});

describe('step-up with a second factor at the authorization server (fixed clocks)', () => {
  it('requestedStepUpMfa: only when a requested step-up scope belongs to a resource that needs MFA', () => {
    const vault = resource();
    const ledger = resource({ url: 'https://auth.example.com/mcp/ledger', stepUpScope: 'ledger:step-up', stepUpMfa: false });
    assert.equal(requestedStepUpMfa([vault, ledger], new Set(['vault:step-up'])), true);
    assert.equal(requestedStepUpMfa([vault, ledger], new Set(['ledger:step-up'])), false);
    assert.equal(requestedStepUpMfa([vault], new Set(['vault:read'])), false);
    assert.equal(requestedStepUpMfa([undefined], new Set(['vault:step-up'])), false);
  });

  it('tokenEndpointScopes: the step-up scope only for a fresh sign-in whose acr is MFA', () => {
    const scopes = ['vault:read', 'vault:step-up'];
    const at = (acr: string | undefined, authTime = 1000, now = 1100) => tokenEndpointScopes(resource(), scopes, { grantType: 'authorization_code', authTime, acr, now });
    assert.deepEqual(at(ACR_MFA), scopes);
    assert.deepEqual(at(ACR_PASSWORD), ['vault:read'], 'a password-only sign-in never gets it');
    assert.deepEqual(at(undefined), ['vault:read']);
    assert.deepEqual(at(ACR_MFA, 1000, 1301), ['vault:read'], 'MFA, but too long ago');
    const device = tokenEndpointScopes(resource(), scopes, { grantType: 'urn:ietf:params:oauth:grant-type:device_code', authTime: 1000, acr: ACR_PASSWORD, now: 1100 });
    assert.deepEqual(device, ['vault:read'], 'the device flow too');
    const noMfa = tokenEndpointScopes(resource({ stepUpMfa: false }), scopes, { grantType: 'authorization_code', authTime: 1000, acr: ACR_PASSWORD, now: 1100 });
    assert.deepEqual(noMfa, scopes, 'a step-up without mfa takes any fresh sign-in');
  });

  it('sessionAnswersLogin: a step-up needing MFA is answered only by a fresh session with a second factor', () => {
    const prompt = (reasons: string[], details: Record<string, unknown>) => ({ reasons, details });
    const stepUp = prompt(['step_up'], { step_up_max_age: 60, mfa_required: true });
    assert.equal(sessionAnswersLogin(stepUp, { authTime: 9_950, amr: ['pwd', 'otp', 'mfa'] }, 10_000), true);
    assert.equal(sessionAnswersLogin(stepUp, { authTime: 9_950, amr: ['pwd'] }, 10_000), false);
    assert.equal(sessionAnswersLogin(stepUp, { authTime: 9_900, amr: ['pwd', 'otp', 'mfa'] }, 10_000), false);
    const asked = prompt(['mfa'], { mfa_required: true });
    assert.equal(sessionAnswersLogin(asked, { authTime: 0, amr: ['pwd', 'otp', 'mfa'] }, 10_000), true, 'acr_values alone sets no age');
    assert.equal(sessionAnswersLogin(asked, { authTime: 10_000, amr: ['ext'] }, 10_000), false);
    const essential = prompt(['essential_acr', 'mfa'], { mfa_required: true, acr: { essential: true, value: ACR_MFA } });
    assert.equal(sessionAnswersLogin(essential, { authTime: 0, amr: ['pwd', 'otp', 'mfa'] }, 10_000), true);
    assert.equal(sessionAnswersLogin(prompt(['essential_acr'], { acr: { essential: true, value: 'urn:example:gold' } }), { authTime: 0, amr: ['pwd', 'otp', 'mfa'] }, 10_000), false);
    const clientMaxAge = prompt(['max_age'], { max_age: 60 });
    assert.equal(sessionAnswersLogin(clientMaxAge, { authTime: 9_940, amr: ['pwd'] }, 10_000), true, "the client's own max_age, met");
    assert.equal(sessionAnswersLogin(clientMaxAge, { authTime: 9_939, amr: ['pwd'] }, 10_000), false);
    assert.equal(sessionAnswersLogin(prompt(['max_age'], {}), { authTime: 10_000, amr: ['pwd'] }, 10_000), false, 'no max age given: the form');
  });

  it('onlySecondFactorMissing: recent enough but without a second factor; not when the sign-in is too old or nothing needs one', () => {
    const stepUp = { reasons: ['step_up'], details: { step_up_max_age: 60, mfa_required: true } };
    assert.equal(onlySecondFactorMissing(stepUp, { authTime: 9_950, amr: ['pwd'] }, 10_000), true);
    assert.equal(onlySecondFactorMissing(stepUp, { authTime: 9_900, amr: ['pwd'] }, 10_000), false, 'too old: the password again');
    assert.equal(onlySecondFactorMissing(stepUp, { authTime: 9_950, amr: ['pwd', 'otp', 'mfa'] }, 10_000), false, 'nothing missing');
    const plain = { reasons: ['step_up'], details: { step_up_max_age: 60 } };
    assert.equal(onlySecondFactorMissing(plain, { authTime: 9_900, amr: ['pwd'] }, 10_000), false);
    const withMaxAge = { reasons: ['mfa', 'max_age'], details: { mfa_required: true, max_age: 60 } };
    assert.equal(onlySecondFactorMissing(withMaxAge, { authTime: 9_990, amr: ['pwd'] }, 10_000), true, "within the client's max_age");
    assert.equal(onlySecondFactorMissing(withMaxAge, { authTime: 9_900, amr: ['pwd'] }, 10_000), false, "older than the client's max_age: the form");
  });

  it('clientAsksForMfa: acr_values naming only MFA (or with values we do not issue), or an essential acr claim of MFA alone', () => {
    assert.equal(clientAsksForMfa(ACR_MFA, undefined), true);
    assert.equal(clientAsksForMfa(`urn:example:gold ${ACR_MFA}`, undefined), true);
    assert.equal(clientAsksForMfa(`${ACR_MFA} ${ACR_PASSWORD}`, undefined), false, 'a password sign-in would do');
    assert.equal(clientAsksForMfa(ACR_PASSWORD, undefined), false);
    assert.equal(clientAsksForMfa(undefined, { essential: true, value: ACR_MFA }), true);
    assert.equal(clientAsksForMfa(undefined, { essential: true, values: [ACR_MFA] }), true);
    assert.equal(clientAsksForMfa(undefined, { essential: true, values: [ACR_MFA, ACR_PASSWORD] }), false);
    assert.equal(clientAsksForMfa(undefined, { value: ACR_MFA }), false, 'voluntary claims do not force it');
  });

  it('idpStepUp: what an SSO user’s IdP is asked for — the step-up’s max age or the client’s own, the shorter; mfa when needed', () => {
    const prompt = (reasons: string[], details: Record<string, unknown>) => ({ name: 'login', reasons, details }) as Parameters<typeof idpStepUp>[0];
    assert.deepEqual(idpStepUp(prompt(['step_up'], { step_up_max_age: 300, mfa_required: true })), { maxAge: 300, mfa: true });
    assert.deepEqual(idpStepUp(prompt(['max_age'], { max_age: 60 })), { maxAge: 60, mfa: false });
    assert.deepEqual(idpStepUp(prompt(['step_up', 'max_age'], { step_up_max_age: 300, max_age: 60 })), { maxAge: 60, mfa: false });
    assert.equal(idpStepUp(prompt(['no_session'], { step_up_max_age: 300 })), undefined, 'details alone are not a reason');
    assert.equal(idpStepUp(prompt(['mfa'], { mfa_required: true })), undefined, 'a second factor alone: Portcullis’s own');
  });

  it('the consent page says the step-up lasts from a sign-in with the second factor', () => {
    assert.match(scopeText(resource(), 'vault:step-up'), /for 5 minutes after you sign in with your second factor/);
    assert.match(scopeText(resource({ stepUpMfa: false }), 'vault:step-up'), /for 5 minutes after you sign in, then/);
  });
});
