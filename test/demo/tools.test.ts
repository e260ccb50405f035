import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO_SCOPES, DEMO_TOOLS, scopeForTool, toolsForScopes } from '../../src/demo/tools.ts';

describe('demo tool catalogue', () => {
  it('names the scope each tool needs', () => {
    assert.equal(scopeForTool('list_projects'), 'demo:read');
    assert.equal(scopeForTool('list_notes'), 'demo:read');
    assert.equal(scopeForTool('read_note'), 'demo:read');
    assert.equal(scopeForTool('create_project'), 'demo:write');
    assert.equal(scopeForTool('write_note'), 'demo:write');
    assert.equal(scopeForTool('delete_note'), 'demo:delete');
    assert.equal(scopeForTool('drop_database'), undefined);
    assert.equal(scopeForTool('toString'), undefined);
  });

  it('describes every scope a tool uses, and every scope enables a tool', () => {
    assert.deepEqual(new Set(DEMO_TOOLS.map((t) => t.scope)), new Set(Object.keys(DEMO_SCOPES)));
  });

  it('marks read tools read-only, and only delete_note destructive', () => {
    for (const tool of DEMO_TOOLS) {
      assert.equal(tool.annotations.readOnlyHint, tool.scope === 'demo:read', tool.name);
      if (!tool.annotations.readOnlyHint) assert.equal(tool.annotations.destructiveHint, tool.name === 'delete_note', tool.name);
      assert.equal(tool.annotations.openWorldHint, false, tool.name);
    }
  });

  it('lists the tools a set of scopes enables', () => {
    assert.deepEqual(toolsForScopes(['demo:read', 'openid']).map((t) => t.name), ['list_projects', 'list_notes', 'read_note']);
    assert.deepEqual(toolsForScopes(['demo:delete']).map((t) => t.name), ['delete_note']);
    assert.deepEqual(toolsForScopes([]), []);
  });
});
