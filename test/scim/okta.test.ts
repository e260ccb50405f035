/**
 * The requests Okta's SCIM 2.0 provisioning sends (Okta's "SCIM 2.0 protocol reference" and its
 * test suite), replayed against a real server: look up by userName with startIndex/count, create
 * with name/emails/active (and a password Okta may send, never kept), read, PUT the whole user,
 * deactivate with `{"op":"replace","value":{"active":false}}`, reactivate; push groups, rename and
 * change members by PATCH. A deactivated person's access token and API key are refused at the
 * gateway within a second.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accessTokenFor, apiKeyFor, auditOf, gatewayStatus, refusedAfter, startScimWorld, URN, type ScimWorld } from './support.ts';
import { adminClient } from '../admin/support.ts';

const q = (filter: string) => `filter=${encodeURIComponent(filter)}`;

function oktaUser(userName: string, active = true) {
  return {
    schemas: [URN.user],
    userName,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: userName, type: 'work' }],
    displayName: 'Test User',
    locale: 'en-US',
    externalId: '00ujl29u0le5T6Aj10h7',
    groups: [],
    password: '1mz050nq',
    active,
  };
}

describe('SCIM 2.0 as Okta provisions', () => {
  let world: ScimWorld;
  let id: string;
  const userName = 'test.user@okta.local';

  before(async () => {
    world = await startScimWorld();
  });
  after(() => world?.server.stop());

  it('answers the discovery endpoints (RFC 7644 §4)', async () => {
    const config = await world.scim('GET', '/ServiceProviderConfig');
    assert.equal(config.status, 200);
    assert.match(config.headers.get('content-type') ?? '', /^application\/scim\+json/);
    assert.equal(config.body.patch.supported, true);
    assert.equal(config.body.filter.supported, true);
    const types = await world.scim('GET', '/ResourceTypes');
    assert.deepEqual(types.body.Resources.map((r: { id: string }) => r.id).sort(), ['Group', 'User']);
    const schemas = await world.scim('GET', '/Schemas');
    assert.ok(schemas.body.Resources.some((s: { id: string }) => s.id === URN.user));
  });

  it('finds nobody, then creates the user as a member of the organization', async () => {
    const none = await world.scim('GET', `/Users?${q(`userName eq "${userName}"`)}&startIndex=1&count=100`);
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.schemas, [URN.list]);
    assert.equal(none.body.totalResults, 0);
    assert.deepEqual(none.body.Resources, []);

    const created = await world.scim('POST', '/Users', oktaUser(userName));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    id = created.body.id;
    assert.equal(created.headers.get('location'), `${world.server.url}/scim/v2/Users/${id}`);
    assert.equal(created.body.userName, userName);
    assert.equal(created.body.active, true);
    assert.equal(created.body.externalId, '00ujl29u0le5T6Aj10h7');
    assert.deepEqual(created.body.name, { givenName: 'Test', familyName: 'User' });
    assert.equal(created.body.password, undefined, 'a password sent is never kept or answered');
    assert.equal(created.body.meta.resourceType, 'User');

    const account = await world.server.store.users.findByEmail(userName);
    assert.ok(account);
    assert.equal(account.name, 'Test User');
    assert.equal(account.passwordHash, null);
    assert.equal((await world.server.store.orgs.member(world.server.org.id, account.id))?.role, 'member');
  });

  it('finds the user by userName (any case), paginates, reads by id', async () => {
    const found = await world.scim('GET', `/Users?${q(`userName eq "TEST.user@okta.local"`)}&startIndex=1&count=100`);
    assert.equal(found.body.totalResults, 1);
    assert.equal(found.body.Resources[0].id, id);
    assert.equal(found.body.startIndex, 1);
    assert.equal(found.body.itemsPerPage, 1);
    await world.scim('POST', '/Users', oktaUser('second@okta.local'));
    // Pages follow one stable order: two pages of one hold both users.
    const page1 = await world.scim('GET', '/Users?startIndex=1&count=1');
    const page2 = await world.scim('GET', '/Users?startIndex=2&count=1');
    assert.equal(page2.body.totalResults, 2);
    assert.equal(page2.body.startIndex, 2);
    assert.equal(page2.body.itemsPerPage, 1);
    assert.deepEqual([page1.body.Resources[0].userName, page2.body.Resources[0].userName].sort(), ['second@okta.local', userName]);
    assert.equal((await world.scim('GET', '/Users?startIndex=3&count=1')).body.Resources.length, 0);
    const one = await world.scim('GET', `/Users/${id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.userName, userName);
  });

  it('PUT replaces the user (Okta sends the whole resource back)', async () => {
    const current = (await world.scim('GET', `/Users/${id}`)).body;
    const replaced = await world.scim('PUT', `/Users/${id}`, { ...current, name: { givenName: 'Another', familyName: 'User' }, displayName: 'Another User' });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.deepEqual(replaced.body.name, { givenName: 'Another', familyName: 'User' });
    assert.equal((await world.server.store.users.findByEmail(userName))?.name, 'Another User');
  });

  it('deactivation ends the person\'s access at the gateway within a second: access token and API key', async () => {
    const account = (await world.server.store.users.findByEmail(userName))!;
    // A plain member holds no demo scope until given resources; an org admin holds them all.
    await world.server.store.orgs.setRole(world.server.org.id, account.id, 'admin');
    const token = await accessTokenFor(world.server, userName);
    const key = await apiKeyFor(world.server, account.id);
    assert.equal(await gatewayStatus(world.server, token), 200);
    assert.equal(await gatewayStatus(world.server, key), 200);

    const at = Date.now();
    const patched = await world.scim('PATCH', `/Users/${id}`, { schemas: [URN.patch], Operations: [{ op: 'replace', value: { active: false } }] });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.active, false);
    assert.ok((await refusedAfter(world.server, token, at)) < 1000);
    assert.ok((await refusedAfter(world.server, key, at)) < 1000);

    assert.equal(await world.server.store.orgs.member(world.server.org.id, account.id), undefined, 'out of the organization');
    assert.notEqual((await world.server.store.users.findById(account.id))?.disabledAt, null, 'no other organization: the account is disabled');
    const [record] = await auditOf(world.server, 'scim.user.deactivated');
    assert.equal(record?.actor, `scim:${world.server.org.id}`);
    assert.equal(record?.subject, account.id);
    assert.equal(record?.orgId, world.server.org.id);
    const listed = await world.scim('GET', `/Users?${q('active eq false')}`);
    assert.deepEqual(listed.body.Resources.map((r: { id: string }) => r.id), [id]);
  });

  it('reactivation makes them a member again with their account enabled', async () => {
    const patched = await world.scim('PATCH', `/Users/${id}`, { schemas: [URN.patch], Operations: [{ op: 'replace', value: { active: true } }] });
    assert.equal(patched.body.active, true);
    const account = (await world.server.store.users.findByEmail(userName))!;
    assert.equal(account.disabledAt, null);
    assert.equal((await world.server.store.orgs.member(world.server.org.id, account.id))?.role, 'member');
    assert.equal((await auditOf(world.server, 'scim.user.reactivated')).length, 1);
  });

  it('pushes a group, renames it, changes its members; a mapped group gives its role', async () => {
    const ada = await adminClient(world.server, world.server.user.email, false);
    const mapped = await ada.call('PUT', '/orgs/acme/scim/group-roles', { groupRoles: { 'MCP Admins': 'admin' } });
    assert.equal(mapped.status, 200, JSON.stringify(mapped.body));

    const created = await world.scim('POST', '/Groups', { schemas: [URN.group], displayName: 'Test SCIMv2', members: [] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const groupId = created.body.id;
    const found = await world.scim('GET', `/Groups?${q('displayName eq "Test SCIMv2"')}&startIndex=1&count=100`);
    assert.equal(found.body.totalResults, 1);

    const renamed = await world.scim('PATCH', `/Groups/${groupId}`, { schemas: [URN.patch], Operations: [{ op: 'replace', value: { id: groupId, displayName: 'MCP Admins' } }] });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.displayName, 'MCP Admins');

    const added = await world.scim('PATCH', `/Groups/${groupId}`, { schemas: [URN.patch], Operations: [{ op: 'add', path: 'members', value: [{ value: id, display: userName }] }] });
    assert.deepEqual(added.body.members.map((m: { value: string }) => m.value), [id]);
    const account = (await world.server.store.users.findByEmail(userName))!;
    assert.equal((await world.server.store.orgs.member(world.server.org.id, account.id))?.role, 'admin', 'the mapped role');
    assert.deepEqual((await world.scim('GET', `/Users/${id}`)).body.groups.map((g: { value: string }) => g.value), [groupId]);

    const removed = await world.scim('PATCH', `/Groups/${groupId}`, { schemas: [URN.patch], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] });
    assert.deepEqual(removed.body.members, []);
    assert.equal((await world.server.store.orgs.member(world.server.org.id, account.id))?.role, 'member', 'back to the default role');

    assert.equal((await world.scim('DELETE', `/Groups/${groupId}`)).status, 204);
    assert.equal((await world.scim('GET', `/Groups/${groupId}`)).status, 404);
    assert.equal((await auditOf(world.server, 'scim.group.created')).length, 1);
    assert.equal((await auditOf(world.server, 'scim.group.deleted')).length, 1);
  });
});
