/**
 * Which scopes a JSON-RPC message needs (MCP authorization, "Scope Challenge Handling"): single
 * messages, batches (a tools/call cannot hide in one), and inputs that are not what they seem.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { missingScopes, toolCallsIn } from '../../src/shared/tool-calls.ts';

const TOOL_SCOPES: Record<string, string> = {
  list_projects: 'demo:read',
  read_note: 'demo:read',
  write_note: 'demo:write',
  delete_note: 'demo:delete',
};

const call = (name: unknown, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
const held = (...scopes: string[]) => new Set(scopes);

describe('guard: tool scopes', () => {
  it('finds the tool named by a tools/call, and nothing in other methods', () => {
    assert.deepEqual(toolCallsIn(call('delete_note')), ['delete_note']);
    assert.deepEqual(toolCallsIn({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }), []);
    assert.deepEqual(toolCallsIn({ jsonrpc: '2.0', method: 'notifications/initialized' }), []);
    assert.deepEqual(toolCallsIn({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { name: 'delete_note' } }), []);
  });

  it('finds every tools/call inside a batch', () => {
    const batch = [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, call('read_note', 2), call('delete_note', 3)];
    assert.deepEqual(toolCallsIn(batch), ['read_note', 'delete_note']);
  });

  it('ignores entries that are not requests, without throwing', () => {
    for (const odd of [null, 42, 'tools/call', [], [null, 1, 'x'], { method: 'tools/call' }, { method: 'tools/call', params: null }, call(['delete_note']), call(7)]) {
      assert.deepEqual(toolCallsIn(odd), []);
    }
  });

  it('a token with the tool scope needs nothing more', () => {
    assert.deepEqual(missingScopes(call('read_note'), TOOL_SCOPES, held('demo:read')), []);
    assert.deepEqual(missingScopes(call('delete_note'), TOOL_SCOPES, held('demo:read', 'demo:delete')), []);
  });

  it('names the missing scope of a single call', () => {
    assert.deepEqual(missingScopes(call('delete_note'), TOOL_SCOPES, held('demo:read', 'demo:write')), ['demo:delete']);
  });

  it('a batch needs the union of its calls, each missing scope once', () => {
    const batch = [call('read_note', 1), call('write_note', 2), call('delete_note', 3), call('delete_note', 4)];
    assert.deepEqual(missingScopes(batch, TOOL_SCOPES, held()), ['demo:read', 'demo:write', 'demo:delete']);
    assert.deepEqual(missingScopes(batch, TOOL_SCOPES, held('demo:read')), ['demo:write', 'demo:delete']);
    const smuggled = [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, call('delete_note', 2)];
    assert.deepEqual(missingScopes(smuggled, TOOL_SCOPES, held('demo:read', 'demo:write')), ['demo:delete']);
  });

  it('unknown tools need no scope here (the MCP server answers "unknown tool"), and inherited names are not tools', () => {
    assert.deepEqual(missingScopes(call('no_such_tool'), TOOL_SCOPES, held()), []);
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      assert.deepEqual(missingScopes(call(name), TOOL_SCOPES, held()), [], name);
    }
  });
});
