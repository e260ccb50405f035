/**
 * The other gateway rules with fixed inputs: step-up (fresh sign-in AND the step-up scope), required
 * scopes (annotation defaults, administrator overrides, resources and prompts), tool review, and the
 * order the gateway applies them in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, GATEWAY_RULES } from '../../src/policy/index.ts';
import { neededScope, requiredScope } from '../../src/policy/rules/required-scope.ts';
import { stepUp } from '../../src/policy/rules/step-up.ts';
import { toolReviewed } from '../../src/policy/rules/tool-review.ts';
import { defaultToolScope, resourceScope } from '../../src/policy/scopes.ts';
import { app, approvedTool, at, call, caller, input } from './support.ts';

const NOW = at('2025-03-10T12:00:00Z');
const nowSeconds = NOW / 1000;

describe('stepUp rule', () => {
  const vault = app({ tools: { wipe: { stepUp: { maxAge: 300 } }, export: { stepUp: { maxAge: '1h' } } } });
  const held = new Set(['vault:read', 'vault:write', 'vault:delete', 'vault:step-up']);

  it('the application gets a step-up scope and the shortest max age of its tools', () => {
    assert.equal(vault.stepUpScope, 'vault:step-up');
    assert.equal(vault.stepUpMaxAge, 300);
    assert.ok(vault.scopes.some((s) => s.name === 'vault:step-up'));
    assert.equal(app().stepUpScope, undefined, 'no tool asks for a step-up: no step-up scope');
  });

  it('allows a token with the step-up scope and a sign-in within the tool’s max age (boundary included)', () => {
    for (const age of [0, 299, 300]) {
      assert.deepEqual(stepUp(input(vault, call('wipe'), { now: NOW, caller: caller({ scopes: held, authTime: nowSeconds - age }) })), { allow: true }, `${age}s`);
    }
  });

  it('refuses a sign-in older than the tool’s max age, naming scope, max_age and tool', () => {
    assert.deepEqual(stepUp(input(vault, call('wipe'), { now: NOW, caller: caller({ scopes: held, authTime: nowSeconds - 301 }) })), {
      allow: false,
      code: 'step_up_required',
      rule: 'step-up',
      detail: { scope: 'vault:step-up', max_age: '300', resource: 'tool:wipe' },
    });
  });

  it('each tool has its own max age', () => {
    const fortyMinutesAgo = caller({ scopes: held, authTime: nowSeconds - 2400 });
    assert.equal(stepUp(input(vault, call('wipe'), { now: NOW, caller: fortyMinutesAgo })).allow, false);
    assert.deepEqual(stepUp(input(vault, call('export'), { now: NOW, caller: fortyMinutesAgo })), { allow: true });
  });

  it('refuses a fresh sign-in without the step-up scope, and a token that has no auth_time', () => {
    const noScope = caller({ scopes: new Set(['vault:delete']), authTime: nowSeconds });
    assert.equal(stepUp(input(vault, call('wipe'), { now: NOW, caller: noScope })).allow, false);
    const noAuthTime = caller({ scopes: held, authTime: undefined });
    assert.equal(stepUp(input(vault, call('wipe'), { now: NOW, caller: noAuthTime })).allow, false);
  });

  it('leaves other tools and other methods alone', () => {
    const stale = caller({ scopes: new Set(), authTime: undefined });
    for (const target of [call('read'), { method: 'tools/list' }, { method: 'prompts/get', name: 'wipe' }, call('constructor')]) {
      assert.deepEqual(stepUp(input(vault, target, { now: NOW, caller: stale })), { allow: true });
    }
  });
});

describe('requiredScope rule', () => {
  const vault = app({
    tools: { purge: { scope: 'vault:write' } },
    resources: { 'file:///secrets/*': 'vault:delete', 'file:///secrets/public.txt': 'vault:read' },
    prompts: { summarize: 'vault:read' },
  });

  it('tools: the annotation defaults (destructive unless it says otherwise), or the administrator’s choice', () => {
    assert.equal(defaultToolScope('vault', { readOnlyHint: true }), 'vault:read');
    assert.equal(defaultToolScope('vault', { readOnlyHint: false, destructiveHint: false }), 'vault:write');
    assert.equal(defaultToolScope('vault', { destructiveHint: false }), 'vault:write');
    assert.equal(defaultToolScope('vault', { readOnlyHint: false }), 'vault:delete');
    assert.equal(defaultToolScope('vault', undefined), 'vault:delete');
    assert.equal(neededScope({ ...input(vault, call('purge')), tool: approvedTool('purge', null) }), 'vault:write');
    assert.equal(neededScope({ ...input(vault, call('list')), tool: approvedTool('list', { readOnlyHint: true }) }), 'vault:read');
    assert.equal(neededScope({ ...input(vault, call('drop')), tool: approvedTool('drop', null) }), 'vault:delete');
  });

  it('resources: an exact entry beats the longest prefix; no entry needs no scope', () => {
    assert.equal(resourceScope(vault, 'file:///secrets/public.txt'), 'vault:read');
    assert.equal(resourceScope(vault, 'file:///secrets/key.pem'), 'vault:delete');
    assert.equal(resourceScope(vault, 'file:///other'), undefined);
  });

  it('refuses with insufficient_scope naming the scope needed', () => {
    const readOnly = caller({ scopes: new Set(['vault:read']) });
    assert.deepEqual(requiredScope({ ...input(vault, call('purge'), { caller: readOnly }), tool: approvedTool('purge', null) }), {
      allow: false,
      code: 'insufficient_scope',
      rule: 'required-scope',
      detail: { scope: 'vault:write' },
    });
    assert.deepEqual(requiredScope(input(vault, { method: 'resources/read', uri: 'file:///secrets/key.pem' }, { caller: readOnly })).allow, false);
    assert.deepEqual(requiredScope(input(vault, { method: 'prompts/get', name: 'summarize' }, { caller: readOnly })), { allow: true });
    assert.deepEqual(requiredScope(input(vault, { method: 'tools/list' }, { caller: caller({ scopes: new Set() }) })), { allow: true });
  });
});

describe('toolReviewed rule', () => {
  const vault = app();
  it('only approved tools are callable: unknown and needs_review tools are refused as policy', () => {
    assert.deepEqual(toolReviewed({ ...input(vault, call('read')), tool: approvedTool('read') }), { allow: true });
    assert.deepEqual(toolReviewed(input(vault, call('ghost'))), {
      allow: false,
      code: 'policy_denied',
      rule: 'tool-review',
      detail: { resource: 'tool:ghost', reason: 'unknown_tool' },
    });
    const pending = { ...approvedTool('read'), status: 'needs_review' as const };
    assert.equal((toolReviewed({ ...input(vault, call('read')), tool: pending }) as { detail: Record<string, string> }).detail.reason, 'needs_review');
  });
});

describe('rule order (GATEWAY_RULES)', () => {
  it('conditions, then review, then scope, then step-up: the first denial wins', () => {
    const vault = app({ ipAllow: ['10.0.0.0/8'], tools: { wipe: { stepUp: { maxAge: 60 } } } });
    const base = { ...input(vault, call('wipe'), { now: NOW }), tool: approvedTool('wipe', null) };
    const nobody = caller({ ip: '10.0.0.1', scopes: new Set(), authTime: undefined });
    const decide = (c: typeof nobody, tool = base.tool) => evaluate(GATEWAY_RULES, { ...base, caller: c, tool });
    assert.equal((decide({ ...nobody, ip: '192.0.2.1' }, { ...base.tool, status: 'needs_review' }) as { rule: string }).rule, 'ip-allow');
    assert.equal((decide(nobody, { ...base.tool, status: 'needs_review' }) as { rule: string }).rule, 'tool-review');
    assert.equal((decide(nobody) as { rule: string }).rule, 'required-scope', 'without vault:delete, the scope is asked for first');
    assert.equal((decide({ ...nobody, scopes: new Set(['vault:delete']) }) as { rule: string }).rule, 'step-up');
    assert.deepEqual(decide({ ...nobody, scopes: new Set(['vault:delete', 'vault:step-up']), authTime: nowSeconds - 10 }), { allow: true });
  });
});
