/**
 * The resource-access rule as a pure function (the HTTP story is test/gateway/resource-access.test.ts):
 * the level the tool's scope needs — its declared minimum role, or the suffix default — against the
 * caller's levels inherited down the organization's tree.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { treeOf } from '../../src/identity/permissions.ts';
import { evaluate, GATEWAY_RULES } from '../../src/policy/index.ts';
import { resourceAccess } from '../../src/policy/rules/resource-access.ts';
import { app, approvedTool, call, caller, input } from './support.ts';

const tree = treeOf([
  { id: 'ws_1', kind: 'workspace', parentId: null },
  { id: 'prj_1', kind: 'project', parentId: 'ws_1' },
  { id: 'fld_1', kind: 'folder', parentId: 'prj_1' },
]);

describe('resourceAccess rule', () => {
  const vault = app({
    scopes: [
      { name: 'vault:read', description: 'read' },
      { name: 'vault:write', description: 'write' },
      { name: 'vault:export', description: 'export', minRole: 'manager' },
    ],
    tools: {
      open: { scope: 'vault:read', arguments: { projectId: 'project' } },
      edit: { scope: 'vault:write', arguments: { folderId: 'folder' } },
      export: { scope: 'vault:export', arguments: { workspaceId: 'workspace' } },
    },
  });
  const judge = (tool: string, args: Record<string, unknown>, levels: Record<string, 'read' | 'write' | 'delete'> | undefined, org: { orgId?: string } = { orgId: 'org_1' }) =>
    resourceAccess({ ...input(vault, call(tool, args)), caller: caller({ ...org, levels }), tree });

  it('levels are inherited down the tree, and the tool scope\'s level must be reached', () => {
    assert.deepEqual(judge('open', { projectId: 'prj_1' }, { ws_1: 'read' }), { allow: true });
    assert.deepEqual(judge('edit', { folderId: 'fld_1' }, { ws_1: 'write' }), { allow: true });
    const denied = judge('edit', { folderId: 'fld_1' }, { ws_1: 'write', prj_1: 'read' });
    assert.equal(denied.allow, false);
    assert.deepEqual(!denied.allow && [denied.code, denied.rule, denied.detail.resource], ['policy_denied', 'resource-access', 'folder:fld_1']);
  });

  it('a declared minimum role decides the level (manager → delete), not the scope\'s name', () => {
    assert.equal(judge('export', { workspaceId: 'ws_1' }, { ws_1: 'write' }).allow, false);
    assert.equal(judge('export', { workspaceId: 'ws_1' }, { '*': 'delete' }).allow, true);
  });

  it('no organization, no levels, an unknown id or the wrong kind: refused', () => {
    assert.equal(judge('open', { projectId: 'prj_1' }, { '*': 'delete' }, {}).allow, false);
    assert.equal(judge('open', { projectId: 'prj_1' }, undefined).allow, false);
    assert.equal(judge('open', { projectId: 'prj_9' }, { '*': 'delete' }).allow, false);
    assert.equal(judge('open', { projectId: 'ws_1' }, { '*': 'delete' }).allow, false);
  });

  it('a value that is not a string is refused; an absent one, and tools without mapped arguments, pass', () => {
    for (const value of [1, null, true, {}, ['prj_1']]) assert.equal(judge('open', { projectId: value }, { '*': 'delete' }).allow, false, String(value));
    assert.deepEqual(judge('open', {}, {}), { allow: true });
    assert.deepEqual(resourceAccess({ ...input(vault, call('other', { projectId: 'nope' })), tree }), { allow: true });
  });

  it('an inherited Object.prototype name is not an argument mapping', () => {
    assert.deepEqual(judge('constructor', { projectId: 'x' }, {}), { allow: true });
  });

  it('comes last in the gateway\'s rules: a missing scope is asked for before any resource is judged', () => {
    const decision = evaluate(GATEWAY_RULES, {
      ...input(vault, call('export', { workspaceId: 'ws_1' })),
      tool: approvedTool('export'),
      caller: caller({ orgId: 'org_1', levels: {}, scopes: new Set(['vault:read']) }),
      tree,
    });
    assert.equal(!decision.allow && decision.rule, 'required-scope');
  });
});
