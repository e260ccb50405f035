/**
 * What a SCIM token may not do, and how refusals look (RFC 7644 §3.12 error schema): no or a wrong
 * token is 401; one organization's token never finds another's people (404); a bad filter is 400
 * `invalidFilter`, a taken userName 409 `uniqueness`, a read-only path 400 `mutability`; an account
 * outside the organization is never pulled in; owners are managed in Portcullis only; someone who
 * also belongs to another organization keeps their account when one organization deactivates them;
 * a revoked or rotated token stops working at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Org } from '../../src/store/orgs.ts';
import { adminClient } from '../admin/support.ts';
import { assertScimError, auditOf, issueToken, scimRequest, startScimWorld, URN, type ScimWorld } from './support.ts';

const user = (userName: string) => ({ schemas: [URN.user], userName, name: { givenName: 'A', familyName: 'B' }, emails: [{ primary: true, type: 'work', value: userName }], active: true });
const deactivate = { schemas: [URN.patch], Operations: [{ op: 'replace', value: { active: false } }] };

describe('SCIM 2.0 boundaries', () => {
  let world: ScimWorld;
  let globex: Org;
  let globexToken: string;
  let acmeUserId: string;

  before(async () => {
    world = await startScimWorld();
    globex = await world.server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    await world.server.addUser('olga@globex.test', undefined, { role: 'owner', org: globex });
    globexToken = await issueToken(world.server, 'globex', 'olga@globex.test');
    acmeUserId = (await world.scim('POST', '/Users', user('kim@acme.test'))).body.id;
  });
  after(() => world?.server.stop());

  it('no token, a made-up token, or an API key: 401 in the SCIM error schema', async () => {
    const none = await world.scim('GET', '/Users', undefined, null);
    assertScimError(none, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assertScimError(await world.scim('GET', '/Users', undefined, 'pcscim_madeup'), 401);
    assertScimError(await world.scim('GET', '/ServiceProviderConfig', undefined, 'pcs_notascimtoken'), 401);
  });

  it('another organization\'s token never finds or touches this organization\'s people (404)', async () => {
    const theirs = (method: string, path: string, body?: unknown) => scimRequest(world.server, globexToken, method, path, body);
    assert.equal((await theirs('GET', '/Users')).body.totalResults, 0);
    assert.equal((await theirs('GET', `/Users?filter=${encodeURIComponent('userName eq "kim@acme.test"')}`)).body.totalResults, 0);
    assertScimError(await theirs('GET', `/Users/${acmeUserId}`), 404);
    assertScimError(await theirs('PATCH', `/Users/${acmeUserId}`, deactivate), 404);
    assertScimError(await theirs('PUT', `/Users/${acmeUserId}`, user('kim@acme.test')), 404);
    assertScimError(await theirs('DELETE', `/Users/${acmeUserId}`), 404);
    const account = (await world.server.store.users.findByEmail('kim@acme.test'))!;
    assert.ok(await world.server.store.orgs.member(world.server.org.id, account.id), 'still a member');
    // The same address from the other org: the account is outside it, so it is not pulled in.
    assertScimError(await theirs('POST', '/Users', user('kim@acme.test')), 409, 'uniqueness');
    const group = await theirs('POST', '/Groups', { schemas: [URN.group], displayName: 'G', members: [{ value: acmeUserId }] });
    assertScimError(group, 400, 'invalidValue');
  });

  it('bad input: invalidFilter, uniqueness, mutability, invalidValue, invalidSyntax', async () => {
    assertScimError(await world.scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter');
    assertScimError(await world.scim('GET', `/Users?filter=${encodeURIComponent('userName zz "x"')}`), 400, 'invalidFilter');
    assertScimError(await world.scim('POST', '/Users', user('KIM@acme.test')), 409, 'uniqueness');
    assertScimError(await world.scim('PATCH', `/Users/${acmeUserId}`, { schemas: [URN.patch], Operations: [{ op: 'replace', path: 'id', value: 'x' }] }), 400, 'mutability');
    assertScimError(await world.scim('PATCH', `/Users/${acmeUserId}`, { schemas: [URN.patch], Operations: [{ op: 'replace', path: 'active', value: 'maybe' }] }), 400, 'invalidValue');
    assertScimError(await world.scim('POST', '/Users', { schemas: [URN.user], userName: 'no-address' }), 400, 'invalidValue');
    assertScimError(await world.scim('PATCH', `/Users/${acmeUserId}`, { schemas: [URN.patch], Operations: [{ op: 'frobnicate', value: 1 }] }), 400, 'invalidSyntax');
    assertScimError(await world.scim('GET', '/Users/scu_nobody'), 404);
    assertScimError(await world.scim('GET', '/Nothing'), 404);
  });

  it('an existing member is linked, not duplicated; an owner cannot be deactivated through SCIM', async () => {
    const linked = await world.scim('POST', '/Users', user(world.server.user.email));
    assert.equal(linked.status, 201, JSON.stringify(linked.body));
    assert.equal((await auditOf(world.server, 'scim.user.created')).find((r) => r.subject === world.server.user.id)?.details?.linked, true);
    assertScimError(await world.scim('PATCH', `/Users/${linked.body.id}`, deactivate), 403);
    assertScimError(await world.scim('DELETE', `/Users/${linked.body.id}`), 403);
    assert.equal((await world.server.store.orgs.member(world.server.org.id, world.server.user.id))?.role, 'owner');
    assert.equal((await world.scim('GET', `/Users/${linked.body.id}`)).body.active, true);
  });

  it('someone in another organization too: out of this one, their account stays enabled', async () => {
    const both = await world.server.addUser('both@acme.test', undefined, { role: 'member' });
    await world.server.store.orgs.addMember(globex.id, both.id, 'member', Math.floor(Date.now() / 1000));
    const linked = await world.scim('POST', '/Users', user('both@acme.test'));
    const off = await world.scim('PATCH', `/Users/${linked.body.id}`, deactivate);
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(await world.server.store.orgs.member(world.server.org.id, both.id), undefined);
    assert.ok(await world.server.store.orgs.member(globex.id, both.id));
    assert.equal((await world.server.store.users.findById(both.id))?.disabledAt, null);
    const record = (await auditOf(world.server, 'scim.user.deactivated')).find((r) => r.subject === both.id);
    assert.equal(record?.details?.accountDisabled, false);
    // DELETE: out of the org, the account kept.
    assert.equal((await world.scim('DELETE', `/Users/${linked.body.id}`)).status, 204);
    assert.equal((await world.server.store.users.findById(both.id))?.deletedAt, null);
  });

  it('a rotated or revoked token stops working at once', async () => {
    const ada = await adminClient(world.server, world.server.user.email, false);
    const status = await ada.call('GET', '/orgs/acme/scim');
    assert.equal(status.body.baseUrl, `${world.server.url}/scim/v2`);
    assert.ok(status.body.token);
    const rotated = await ada.call('POST', '/orgs/acme/scim-token');
    assertScimError(await world.scim('GET', '/Users'), 401);
    assert.equal((await scimRequest(world.server, String(rotated.body.token), 'GET', '/Users')).status, 200);
    assert.equal((await ada.call('DELETE', '/orgs/acme/scim-token')).status, 204);
    assertScimError(await scimRequest(world.server, String(rotated.body.token), 'GET', '/Users'), 401);
    assert.equal((await ada.call('DELETE', '/orgs/acme/scim-token')).status, 404);
    assert.equal((await auditOf(world.server, 'admin.scim_token.revoked')).length, 1);
  });
});
