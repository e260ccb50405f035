/**
 * The step-up rule with `mfa: true` (fixed inputs): a tool that needs a second factor is allowed
 * only to a token whose sign-in is within the tool's max age AND proved a second factor (`acr`
 * urn:portcullis:acr:mfa, the value RFC 9470 `acr_values` names); the refusal names the
 * `acr_values` for the challenge. Definitions go through the real schema.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationDefinitionSchema } from '../../src/core/application.ts';
import { stepUp } from '../../src/policy/rules/step-up.ts';
import { app, at, call, caller, input } from './support.ts';

const NOW = at('2025-03-10T12:00:00Z');
const nowSeconds = NOW / 1000;
const MFA = 'urn:portcullis:acr:mfa';
const PASSWORD = 'urn:portcullis:acr:pwd';

describe('stepUp rule with mfa: true', () => {
  const vault = app({ tools: { wipe: { stepUp: { maxAge: 300, mfa: true } }, export: { stepUp: { maxAge: 300 } } } });
  const held = new Set(['vault:read', 'vault:step-up']);
  const judge = (tool: string, overrides: Parameters<typeof caller>[0]) => stepUp(input(vault, call(tool), { now: NOW, caller: caller({ scopes: held, ...overrides }) }));

  it('the schema accepts mfa, refuses anything but a boolean, and the application records it', () => {
    assert.equal(vault.stepUpMfa, true);
    assert.equal(app({ tools: { wipe: { stepUp: { maxAge: 300 } } } }).stepUpMfa, false);
    const parse = (stepUpRule: unknown) =>
      ApplicationDefinitionSchema.safeParse({ slug: 'vault', name: 'Vault', upstream: { url: 'http://127.0.0.1:1/mcp' }, tools: { wipe: { stepUp: stepUpRule } } }).success;
    assert.equal(parse({ maxAge: 300, mfa: true }), true);
    assert.equal(parse({ maxAge: 300, mfa: 'yes' }), false);
    assert.equal(parse({ maxAge: 300, acr: 'mfa' }), false, 'unknown keys are still refused');
  });

  it('allows a fresh sign-in with a second factor (boundary included)', () => {
    for (const age of [0, 300]) assert.deepEqual(judge('wipe', { authTime: nowSeconds - age, acr: MFA }), { allow: true }, `${age}s`);
  });

  it('refuses a fresh password-only sign-in, naming acr_values and max_age', () => {
    assert.deepEqual(judge('wipe', { authTime: nowSeconds - 10, acr: PASSWORD }), {
      allow: false,
      code: 'step_up_required',
      rule: 'step-up',
      detail: { scope: 'vault:step-up', max_age: '300', resource: 'tool:wipe', acr_values: MFA },
    });
    assert.equal(judge('wipe', { authTime: nowSeconds - 10 }).allow, false, 'no acr at all');
  });

  it('refuses a second factor proved longer ago than maxAge', () => {
    assert.equal(judge('wipe', { authTime: nowSeconds - 301, acr: MFA }).allow, false);
  });

  it('refuses an MFA sign-in without the step-up scope', () => {
    assert.equal(judge('wipe', { scopes: new Set(['vault:read']), authTime: nowSeconds, acr: MFA }).allow, false);
  });

  it('a tool of the same application without mfa still takes a password-only sign-in', () => {
    assert.deepEqual(judge('export', { authTime: nowSeconds - 10, acr: PASSWORD }), { allow: true });
    const refused = judge('export', { authTime: nowSeconds - 301, acr: PASSWORD });
    assert.equal(refused.allow, false);
    assert.equal((refused as { detail: Record<string, string> }).detail.acr_values, undefined, 'no acr_values when no second factor is needed');
  });

  it('an API key is refused outright (no sign-in to step up)', () => {
    const decision = judge('wipe', { credential: 'key', authTime: undefined, acr: MFA });
    assert.equal(decision.allow ? '' : decision.code, 'policy_denied');
  });
});
