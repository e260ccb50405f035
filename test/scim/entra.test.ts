/**
 * The requests Microsoft Entra ID's provisioning service sends (Microsoft's "Develop a SCIM
 * endpoint" tutorial and its validator), replayed against a real server: a userName that is not an
 * e-mail address (the address is in `emails`), externalId and the enterprise extension, PATCH
 * with capitalized ops and the string "False", a value-path replace of the work e-mail; groups
 * read without members, members added and removed by value lists; DELETE.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditOf, startScimWorld, URN, type ScimWorld } from './support.ts';

const q = (filter: string) => `filter=${encodeURIComponent(filter)}`;
const userName = 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1';
const email = 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com';

describe('SCIM 2.0 as Microsoft Entra ID provisions', () => {
  let world: ScimWorld;
  let id: string;
  let groupId: string;

  before(async () => {
    world = await startScimWorld();
  });
  after(() => world?.server.stop());

  it('queries by userName, then creates the user with externalId and the enterprise extension', async () => {
    const none = await world.scim('GET', `/Users?${q(`userName eq "${userName}"`)}`);
    assert.equal(none.body.totalResults, 0);
    const created = await world.scim('POST', '/Users', {
      schemas: [URN.user, URN.enterprise],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName,
      active: true,
      emails: [{ primary: true, type: 'work', value: email }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      [URN.enterprise]: { employeeNumber: '701984', department: 'Tour Operations' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    id = created.body.id;
    assert.ok(created.body.schemas.includes(URN.enterprise));
    assert.equal(created.body[URN.enterprise].department, 'Tour Operations');
    const account = await world.server.store.users.findByEmail(email);
    assert.ok(account, 'the account is the work e-mail address');
    assert.equal(account.name, 'givenName familyName');
    assert.ok(await world.server.store.orgs.member(world.server.org.id, account.id));
  });

  it('finds the user by userName, externalId, the work e-mail, and combinations', async () => {
    for (const filter of [
      `userName eq "${userName}"`,
      'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"',
      `emails[type eq "work"].value eq "${email}"`,
      `userName eq "${userName}" and active eq true`,
      `userName eq "nobody" or externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`,
    ]) {
      const found = await world.scim('GET', `/Users?${q(filter)}`);
      assert.equal(found.status, 200, filter);
      assert.deepEqual(found.body.Resources.map((r: { id: string }) => r.id), [id], filter);
    }
    const none = await world.scim('GET', `/Users?${q(`userName eq "${userName}" and active eq false`)}`);
    assert.equal(none.body.totalResults, 0);
  });

  it('PATCH with capitalized ops: the work e-mail by value path, the family name, the department', async () => {
    const patched = await world.scim('PATCH', `/Users/${id}`, {
      schemas: [URN.patch],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        { op: 'Add', path: `${URN.enterprise}:department`, value: 'Sales' },
      ],
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.emails, [{ primary: true, type: 'work', value: 'updatedEmail@microsoft.com' }]);
    assert.equal(patched.body.name.familyName, 'updatedFamilyName');
    assert.equal(patched.body[URN.enterprise].department, 'Sales');
    assert.equal(patched.body[URN.enterprise].employeeNumber, '701984');
  });

  it('"active": "False" deactivates; "True" brings them back', async () => {
    const account = (await world.server.store.users.findByEmail(email))!;
    const off = await world.scim('PATCH', `/Users/${id}`, { schemas: [URN.patch], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.active, false);
    assert.equal(await world.server.store.orgs.member(world.server.org.id, account.id), undefined);
    assert.notEqual((await world.server.store.users.findById(account.id))?.disabledAt, null);
    const on = await world.scim('PATCH', `/Users/${id}`, { schemas: [URN.patch], Operations: [{ op: 'Replace', path: 'active', value: 'True' }] });
    assert.equal(on.body.active, true);
    assert.equal((await world.server.store.users.findById(account.id))?.disabledAt, null);
  });

  it('groups: created, read without members, members added and removed by value lists', async () => {
    const created = await world.scim('POST', '/Groups', { schemas: [URN.group], externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159', displayName: 'Sales Reps', meta: { resourceType: 'Group' }, members: [] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    groupId = created.body.id;
    const listed = await world.scim('GET', `/Groups?excludedAttributes=members&${q('displayName eq "Sales Reps"')}`);
    assert.equal(listed.body.totalResults, 1);
    assert.equal(listed.body.Resources[0].members, undefined);

    const add = await world.scim('PATCH', `/Groups/${groupId}`, { schemas: [URN.patch], Operations: [{ name: 'addMember', op: 'Add', path: 'members', value: [{ $ref: null, value: id }] }] });
    assert.equal(add.status, 200, JSON.stringify(add.body));
    const withMember = await world.scim('GET', `/Groups/${groupId}`);
    assert.deepEqual(withMember.body.members.map((m: { value: string }) => m.value), [id]);
    const remove = await world.scim('PATCH', `/Groups/${groupId}`, { schemas: [URN.patch], Operations: [{ name: 'removeMember', op: 'Remove', path: 'members', value: [{ $ref: null, value: id }] }] });
    assert.equal(remove.status, 200);
    assert.deepEqual((await world.scim('GET', `/Groups/${groupId}`)).body.members, []);
    const unknown = await world.scim('PATCH', `/Groups/${groupId}`, { schemas: [URN.patch], Operations: [{ op: 'Add', path: 'members', value: [{ value: 'scu_nobody' }] }] });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.scimType, 'invalidValue');
  });

  it('DELETE removes the user; an account in no other organization is erased', async () => {
    const account = (await world.server.store.users.findByEmail(email))!;
    assert.equal((await world.scim('DELETE', `/Users/${id}`)).status, 204);
    assert.equal((await world.scim('GET', `/Users/${id}`)).status, 404);
    assert.equal(await world.server.store.orgs.member(world.server.org.id, account.id), undefined);
    assert.notEqual((await world.server.store.users.findById(account.id))?.deletedAt, null);
    assert.equal(await world.server.store.users.findByEmail(email), undefined);
    const [record] = await auditOf(world.server, 'scim.user.deleted');
    assert.equal(record?.subject, account.id);
    assert.equal(record?.details?.accountErased, true);
  });
});
