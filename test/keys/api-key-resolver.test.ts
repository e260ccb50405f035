/**
 * An API key's levels (docs/design/identity.md): the key's own grant, limited per resource by its
 * creator's current levels, written out so that inheritance over the result answers the same.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orgTreeOf } from '../../src/guard/org-trees.ts';
import { levelOn } from '../../src/identity/permissions.ts';
import { intersectLevels, keyOwnLevels } from '../../src/keys/api-key-resolver.ts';

const tree = orgTreeOf([
  { id: 'ws_1', kind: 'workspace', parentId: null },
  { id: 'prj_a', kind: 'project', parentId: 'ws_1' },
  { id: 'fld_a', kind: 'folder', parentId: 'prj_a' },
  { id: 'prj_b', kind: 'project', parentId: 'ws_1' },
  { id: 'ws_2', kind: 'workspace', parentId: null },
]);

describe('API key levels', () => {
  it('simple keys give one level on all resources or on the listed ones; granular keys their map, within the listed resources', () => {
    assert.deepEqual(keyOwnLevels({ permissions: { mode: 'simple', level: 'write' }, resources: null }), { '*': 'write' });
    assert.deepEqual(keyOwnLevels({ permissions: { mode: 'simple', level: 'read' }, resources: ['prj_a'] }), { prj_a: 'read' });
    assert.deepEqual(keyOwnLevels({ permissions: { mode: 'granular', levels: { prj_a: 'delete', ws_2: 'read' } }, resources: ['prj_a'] }), { prj_a: 'delete' });
  });

  it('never more than the creator, resource by resource, with inheritance and overrides on both sides', () => {
    const key = { '*': 'write' } as const;
    const creator = { ws_1: 'delete', prj_b: 'read' } as const; // a member: manager of ws_1, only viewer of prj_b
    const levels = intersectLevels(key, creator, tree);
    const on = (id: string) => levelOn(levels, id, tree);
    assert.equal(on('ws_1'), 'write');
    assert.equal(on('fld_a'), 'write');
    assert.equal(on('prj_b'), 'read');
    assert.equal(on('ws_2'), undefined, 'the creator reaches nothing there');
    assert.equal(levels['*'], undefined, 'no blanket level: the creator does not hold one');
  });

  it('an owner\'s all-resources key stays one entry', () => {
    assert.deepEqual(intersectLevels({ '*': 'read' }, { '*': 'delete' }, tree), { '*': 'read' });
  });

  it('a key limited to a project under an owner reaches that project and its folders only', () => {
    const levels = intersectLevels({ prj_a: 'delete' }, { '*': 'delete' }, tree);
    assert.equal(levelOn(levels, 'fld_a', tree), 'delete');
    assert.equal(levelOn(levels, 'prj_b', tree), undefined);
    assert.equal(levelOn(levels, 'ws_1', tree), undefined);
  });
});
