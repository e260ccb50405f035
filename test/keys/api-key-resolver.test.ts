/**
 * An API key's levels (docs/design/identity.md): the key's own grant, limited per resource by its
 * creator's current levels, written out so that inheritance over the result answers the same.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { isPortcullisError } from '../../src/core/errors.ts';
import { OrgTrees, orgTreeOf } from '../../src/identity/org-trees.ts';
import { RevocationList } from '../../src/revocation/revocation-list.ts';
import { levelOn } from '../../src/identity/permissions.ts';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from '../../src/api-keys/format.ts';
import { ApiKeyResolver, intersectLevels, keyOwnLevels } from '../../src/api-keys/resolver.ts';
import { storesUnderTest } from '../helpers/stores.ts';

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

describe('API key resolver on a real store', () => {
  const target = storesUnderTest().find((t) => t.dialect === 'sqlite')!;
  const app = { slug: 'files', resource: 'https://mcp.example/files', scopes: [{ name: 'files:read', description: '' }, { name: 'files:write', description: '' }], stepUpScope: undefined };
  const codeOf = async (work: Promise<unknown>) => {
    try {
      await work;
      return 'resolved';
    } catch (err) {
      assert.ok(isPortcullisError(err), String(err));
      return err.code;
    }
  };

  it('a revocation event drops the key at once; a database outage keeps a known key and refuses an unknown one with 503', async () => {
    const store = await target.make();
    const now = () => Math.floor(Date.now() / 1000);
    const pepper = randomBytes(32);
    const org = await store.orgs.create({ slug: 'acme', name: 'Acme' });
    const user = await store.users.create({ email: 'ada@example.com' });
    await store.orgs.addMember(org.id, user.id, 'owner', now());
    const key = async (id: string) => {
      const secret = generateApiKey();
      await store.apiKeys.create({ id, orgId: org.id, userId: user.id, name: id, prefix: apiKeyDisplayPrefix(secret), hash: hashApiKey(pepper, secret), applications: null, resources: null, permissions: { mode: 'simple', level: 'read' }, createdAt: now() - 5, expiresAt: null });
      return secret;
    };
    const revocations = new RevocationList(store.revocations, now);
    const resolver = new ApiKeyResolver({ store, pepper, revocations, trees: new OrgTrees(store.orgs), now, ttlMs: 0 });
    try {
      const [kept, doomed, neverUsed] = [await key('key_kept'), await key('key_doomed'), await key('key_never')];
      const identity = await resolver.resolve(kept, app);
      assert.deepEqual([...identity.scopes], ['files:read']);
      assert.equal(identity.clientId, 'key:key_kept');
      assert.equal(await codeOf(resolver.resolve(doomed, app)), 'resolved');

      revocations.apply({ kind: 'key', id: 'key_doomed', expiresAt: now() + 60 });
      assert.equal(await codeOf(resolver.resolve(doomed, app)), 'token_revoked');

      await store.close();
      assert.equal(await codeOf(resolver.resolve(kept, app)), 'resolved', 'the last reading holds while the database is away');
      assert.equal(await codeOf(resolver.resolve(neverUsed, app)), 'unavailable');
    } finally {
      resolver.stop();
    }
  });
});
