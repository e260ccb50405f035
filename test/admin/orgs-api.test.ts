/**
 * The organization admin API (admin/orgs.ts) as the people around an org meet it:
 * - ada owns `acme`; bob is a plain member (403 forbidden); olga owns `globex` and is nobody in
 *   acme (404 — the same answer as for an org that does not exist); root is a server
 *   administrator (users routes) but not in acme (404 there);
 * - every route's happy path, its 400 field errors, another org's ids → 404, the last owner → 409;
 * - a session's unsafe calls need the CSRF header; an admin API key (Bearer pcs_…) needs none,
 *   acts only in its own org, and stops working the moment it is revoked.
 * Never a 5xx.
 */
import type { Org } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient, apiUrl, type AdminClient, type ApiAnswer } from './support.ts';

function assertError(answer: ApiAnswer, code: string, status: number): void {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error, code);
}

function errorPaths(answer: ApiAnswer): string[] {
  return ((answer.body.errors as { path: string }[] | undefined) ?? []).map((e) => e.path).sort();
}

async function withKey(server: TestServer, key: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const response = await fetch(apiUrl(server, path), {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('organization admin API', () => {
  let server: TestServer;
  let ada: AdminClient;
  let bob: AdminClient;
  let olga: AdminClient;
  let root: AdminClient;
  let bobUser: User;
  let globex: Org;

  before(async () => {
    server = await startTestServer();
    bobUser = await server.addUser('bob@example.com', undefined, { role: 'member' });
    globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
    await server.addUser('olga@example.com', undefined, { role: 'owner', org: globex });
    ada = await adminClient(server, 'ada@example.com', false);
    bob = await adminClient(server, 'bob@example.com', false);
    olga = await adminClient(server, 'olga@example.com', false);
    root = await adminClient(server, 'root@example.com', true);
  });
  after(() => server?.stop());

  describe('who may call it', () => {
    it('nobody signed in: 401', async () => {
      for (const path of ['/orgs', '/orgs/acme', '/orgs/acme/members']) {
        const response = await fetch(apiUrl(server, path));
        assert.equal(response.status, 401, path);
      }
    });

    it('a plain member: 403 forbidden, reads and writes alike', async () => {
      assertError(await bob.call('GET', '/orgs/acme'), 'forbidden', 403);
      assertError(await bob.call('GET', '/orgs/acme/members'), 'forbidden', 403);
      assertError(await bob.call('POST', '/orgs/acme/resources', { kind: 'workspace', name: 'Mine' }), 'forbidden', 403);
      assertError(await bob.call('GET', '/session'), 'forbidden', 403);
    });

    it('someone outside the org, or a server administrator who is not in it: 404, exactly as for an org that does not exist', async () => {
      for (const client of [olga, root]) {
        assertError(await client.call('GET', '/orgs/acme'), 'not_found', 404);
        assertError(await client.call('GET', `/orgs/${server.org.id}/members`), 'not_found', 404);
        assertError(await client.call('DELETE', `/orgs/acme/members/${bobUser.id}`), 'not_found', 404);
      }
      assertError(await ada.call('GET', '/orgs/no-such-org'), 'not_found', 404);
      assertError(await ada.call('GET', '/orgs/globex'), 'not_found', 404);
    });

    it('a session\'s unsafe calls need the CSRF header, from this site — and nothing changes without it', async () => {
      assertError(await ada.call('PATCH', '/orgs/acme', { name: 'Hacked' }, { csrf: null }), 'csrf_failed', 403);
      assertError(await ada.call('POST', '/orgs/acme/resources', { kind: 'workspace', name: 'X' }, { headers: { origin: 'https://evil.example' } }), 'csrf_failed', 403);
      assertError(await ada.call('DELETE', `/orgs/acme/members/${bobUser.id}`, undefined, { headers: { 'sec-fetch-site': 'cross-site' } }), 'csrf_failed', 403);
      assert.equal((await server.store.orgs.get(server.org.id))?.name, 'Acme');
      assert.ok(await server.store.orgs.member(server.org.id, bobUser.id));
    });

    it('the session lists the orgs the caller manages', async () => {
      const session = await ada.call('GET', '/session');
      assert.equal(session.status, 200);
      assert.deepEqual((session.body.orgs as { slug: string }[]).map((o) => o.slug), ['acme']);
      const orgs = await ada.call('GET', '/orgs');
      assert.deepEqual((orgs.body.orgs as { slug: string; role: string }[]).map((o) => [o.slug, o.role]), [['acme', 'owner']]);
    });
  });

  describe('the organization', () => {
    it('reads by slug or id; renames; sets settings within the server\'s bounds', async () => {
      const bySlug = await ada.call('GET', '/orgs/acme');
      const byId = await ada.call('GET', `/orgs/${server.org.id}`);
      assert.equal(bySlug.status, 200);
      assert.deepEqual(byId.body, bySlug.body);
      const updated = await ada.call('PATCH', '/orgs/acme', { name: 'Acme Corp', settings: { clientKinds: ['pre-registered'], accessTokenTtl: 600 } });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(updated.body.name, 'Acme Corp');
      assert.deepEqual((await server.store.orgs.get(server.org.id))?.settings, { clientKinds: ['pre-registered'], accessTokenTtl: 600 });
      await ada.call('PATCH', '/orgs/acme', { name: 'Acme', settings: {} });
    });

    it('400 lists each wrong field', async () => {
      const tooLong = await ada.call('PATCH', '/orgs/acme', { settings: { accessTokenTtl: 999_999, sessionMaxTtl: 999_999_999 } });
      assertError(tooLong, 'invalid_request', 400);
      assert.deepEqual(errorPaths(tooLong), ['settings.accessTokenTtl', 'settings.sessionMaxTtl']);
      const wrong = await ada.call('PATCH', '/orgs/acme', { name: '', settings: { clientKinds: ['telepathic'] }, colour: 'red' });
      assert.deepEqual(errorPaths(wrong), ['colour', 'name', 'settings.clientKinds.0']);
      assertError(await ada.call('PATCH', '/orgs/acme', 'not json'), 'invalid_request', 400);
      assertError(await ada.call('PATCH', '/orgs/acme', 'name=x', { headers: { 'content-type': 'text/plain' } }), 'unsupported_media_type', 415);
    });
  });

  describe('members', () => {
    it('lists members with e-mail and role; changes a role; refuses a wrong role by field', async () => {
      const list = await ada.call('GET', '/orgs/acme/members');
      const rows = list.body.members as { email: string; role: string }[];
      assert.deepEqual(rows.map((m) => [m.email, m.role]).sort(), [['ada@example.com', 'owner'], ['bob@example.com', 'member']]);
      const carol = await server.addUser('carol@example.com', undefined, { role: 'member' });
      const changed = await ada.call('PATCH', `/orgs/acme/members/${carol.id}`, { role: 'admin' });
      assert.equal(changed.status, 200);
      assert.equal((await server.store.orgs.member(server.org.id, carol.id))?.role, 'admin');
      assert.deepEqual(errorPaths(await ada.call('PATCH', `/orgs/acme/members/${carol.id}`, { role: 'emperor' })), ['role']);
      assertError(await ada.call('PATCH', '/orgs/acme/members/usr_nobody', { role: 'admin' }), 'not_found', 404);
      // olga is a user, but not of acme.
      const olgaUser = (await server.store.users.findByEmail('olga@example.com'))!;
      assertError(await ada.call('PATCH', `/orgs/acme/members/${olgaUser.id}`, { role: 'member' }), 'not_found', 404);
      assertError(await ada.call('DELETE', `/orgs/acme/members/${olgaUser.id}`), 'not_found', 404);
    });

    it('the last owner cannot be demoted or removed: 409 last_owner', async () => {
      assertError(await ada.call('PATCH', `/orgs/acme/members/${server.user.id}`, { role: 'admin' }), 'last_owner', 409);
      assertError(await ada.call('DELETE', `/orgs/acme/members/${server.user.id}`), 'last_owner', 409);
      assert.equal((await server.store.orgs.member(server.org.id, server.user.id))?.role, 'owner');
    });

    it('removes a member at once, with a member revocation event', async () => {
      const dan = await server.addUser('dan@example.com', undefined, { role: 'member' });
      const removed = await ada.call('DELETE', `/orgs/acme/members/${dan.id}`);
      assert.equal(removed.status, 200);
      assert.equal(await server.store.orgs.member(server.org.id, dan.id), undefined);
      assert.ok(await server.store.revocations.isRevoked('member', `${server.org.id}:${dan.id}`));
      const [event] = await server.store.audit.list({ orgId: server.org.id, kind: 'admin.member.removed', subject: dan.id });
      assert.equal(event?.actor, server.user.id, 'recorded, with who did it — by id, never by e-mail');
      assert.ok(!JSON.stringify(event).includes('dan@example.com'));
    });
  });

  describe('invitations', () => {
    it('creates (the link comes back without SMTP), lists, revokes; another org cannot touch it', async () => {
      const created = await ada.call('POST', '/orgs/acme/invitations', { email: 'eve@example.com', role: 'member' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.sent, false);
      assert.match(String(created.body.link), new RegExp(`^${server.url}/invitations/`));
      const id = (created.body.invitation as { id: string }).id;
      const list = await ada.call('GET', '/orgs/acme/invitations');
      assert.ok((list.body.invitations as { id: string }[]).some((i) => i.id === id));
      assertError(await olga.call('DELETE', `/orgs/globex/invitations/${id}`), 'not_found', 404);
      assert.equal((await ada.call('DELETE', `/orgs/acme/invitations/${id}`)).status, 204);
      assertError(await ada.call('DELETE', `/orgs/acme/invitations/${id}`), 'invitation_invalid', 410);
      assert.deepEqual(errorPaths(await ada.call('POST', '/orgs/acme/invitations', { email: 'nope', role: 'boss' })), ['email', 'role']);
      assertError(await ada.call('POST', '/orgs/acme/invitations', { email: 'bob@example.com' }), 'already_member', 409);
    });
  });

  describe('resources', () => {
    it('builds the tree (workspace → project → folder), renames, gives and takes memberships, deletes below', async () => {
      const ws = await ada.call('POST', '/orgs/acme/resources', { kind: 'workspace', name: 'Main' });
      assert.equal(ws.status, 201, JSON.stringify(ws.body));
      const prj = await ada.call('POST', '/orgs/acme/resources', { kind: 'project', parentId: ws.body.id, name: 'Alpha' });
      const fld = await ada.call('POST', '/orgs/acme/resources', { kind: 'folder', parentId: prj.body.id, name: 'Docs' });
      assert.equal(fld.status, 201);
      const tree = await ada.call('GET', '/orgs/acme/resources');
      assert.deepEqual((tree.body.resources as { kind: string; name: string }[]).map((r) => `${r.kind}:${r.name}`).sort(), ['folder:Docs', 'project:Alpha', 'workspace:Main']);

      const renamed = await ada.call('PATCH', `/orgs/acme/resources/${prj.body.id}`, { name: 'Alpha 2' });
      assert.equal(renamed.body.name, 'Alpha 2');
      const put = await ada.call('PUT', `/orgs/acme/resources/${prj.body.id}/members/${bobUser.id}`, { role: 'editor' });
      assert.equal(put.status, 200);
      const members = await ada.call('GET', `/orgs/acme/resources/${prj.body.id}/members`);
      assert.deepEqual((members.body.members as { userId: string; role: string }[]).map((m) => [m.userId, m.role]), [[bobUser.id, 'editor']]);
      assert.equal((await ada.call('DELETE', `/orgs/acme/resources/${prj.body.id}/members/${bobUser.id}`)).status, 204);
      assertError(await ada.call('DELETE', `/orgs/acme/resources/${prj.body.id}/members/${bobUser.id}`), 'not_found', 404);

      assert.equal((await ada.call('DELETE', `/orgs/acme/resources/${ws.body.id}`)).status, 204);
      assert.deepEqual((await ada.call('GET', '/orgs/acme/resources')).body.resources, []);
    });

    it('refuses a node in the wrong place, bad fields, non-members, and another org\'s resources', async () => {
      const ws = await ada.call('POST', '/orgs/acme/resources', { kind: 'workspace', name: 'W' });
      assert.deepEqual(errorPaths(await ada.call('POST', '/orgs/acme/resources', { kind: 'project', name: 'P' })), ['parentId']);
      assert.deepEqual(errorPaths(await ada.call('POST', '/orgs/acme/resources', { kind: 'folder', parentId: ws.body.id, name: 'F' })), ['parentId']);
      assert.deepEqual(errorPaths(await ada.call('POST', '/orgs/acme/resources', { kind: 'workspace', parentId: ws.body.id, name: 'W2' })), ['parentId']);
      assert.deepEqual(errorPaths(await ada.call('POST', '/orgs/acme/resources', { kind: 'galaxy', name: '' })), ['kind', 'name']);
      const olgaUser = (await server.store.users.findByEmail('olga@example.com'))!;
      assertError(await ada.call('PUT', `/orgs/acme/resources/${ws.body.id}/members/${olgaUser.id}`, { role: 'viewer' }), 'not_found', 404);
      assert.deepEqual(errorPaths(await ada.call('PUT', `/orgs/acme/resources/${ws.body.id}/members/${bobUser.id}`, { role: 'god' })), ['role']);

      const theirs = await olga.call('POST', '/orgs/globex/resources', { kind: 'workspace', name: 'Secret' });
      assert.equal(theirs.status, 201);
      assertError(await ada.call('PATCH', `/orgs/acme/resources/${theirs.body.id}`, { name: 'Mine now' }), 'not_found', 404);
      assertError(await ada.call('DELETE', `/orgs/acme/resources/${theirs.body.id}`), 'not_found', 404);
      assertError(await ada.call('GET', `/orgs/acme/resources/${theirs.body.id}/members`), 'not_found', 404);
      assert.deepEqual(errorPaths(await ada.call('POST', '/orgs/acme/resources', { kind: 'project', parentId: theirs.body.id, name: 'P' })), ['parentId']);
      assert.equal((await server.store.orgs.resource(String(theirs.body.id)))?.name, 'Secret');
    });
  });

  describe('grants', () => {
    it('lists the org\'s grants with client, user and scopes; revoking one takes effect at once; another org\'s is 404', async () => {
      const now = Math.floor(Date.now() / 1000);
      await server.store.oidc.upsert({ model: 'Grant', id: 'grant-bob', payload: JSON.stringify({ kind: 'Grant', jti: 'grant-bob', iat: now, exp: now + 3600, accountId: bobUser.id, clientId: 'notes-bot', openid: { scope: 'openid' }, resources: { [server.mcpUrl]: 'demo:read demo:write' } }), accountId: bobUser.id, expiresAt: now + 3600 });
      await server.store.oidc.upsert({ model: 'RefreshToken', id: 'rt-bob', payload: '{}', grantId: 'grant-bob', expiresAt: now + 3600 });
      await server.store.clients.upsert({ clientId: 'notes-bot', kind: 'dynamic', metadata: { client_id: 'notes-bot', client_name: 'Notes Bot', redirect_uris: ['https://bot.example/cb'] } });
      await server.store.grantContexts.put({ grantId: 'grant-bob', userId: bobUser.id, clientId: 'notes-bot', orgId: server.org.id, createdAt: now });
      await server.store.grantContexts.put({ grantId: 'grant-globex', userId: bobUser.id, clientId: 'portcullis-cli', orgId: globex.id, createdAt: now });

      const list = await ada.call('GET', '/orgs/acme/grants');
      const grants = list.body.grants as { grantId: string; clientName: string; userEmail: string; scopes: string[] }[];
      assert.deepEqual(grants.map((g) => g.grantId), ['grant-bob']);
      assert.equal(grants[0]!.userEmail, 'bob@example.com');
      assert.equal(grants[0]!.clientName, 'Notes Bot');
      assert.deepEqual(grants[0]!.scopes, ['demo:read', 'demo:write', 'openid']);

      assertError(await ada.call('DELETE', '/orgs/acme/grants/grant-globex'), 'not_found', 404);
      assert.equal((await ada.call('DELETE', '/orgs/acme/grants/grant-bob')).status, 204);
      assert.equal(await server.store.oidc.find('RefreshToken', 'rt-bob'), undefined);
      assert.ok(await server.store.revocations.isRevoked('grant', 'grant-bob'));
      assertError(await ada.call('DELETE', '/orgs/acme/grants/grant-bob'), 'not_found', 404);
      assert.deepEqual((await ada.call('GET', '/orgs/acme/grants')).body.grants, []);
    });
  });

  describe('API keys', () => {
    let adminKey: string;
    let adminKeyId: string;

    it('issues a key (the secret once), lists the org\'s keys without it, refuses bad input by field', async () => {
      const created = await ada.call('POST', '/orgs/acme/keys', { name: 'automation', permissions: { mode: 'simple', level: 'read' }, admin: true, expiry: '30d' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      adminKey = String(created.body.secret);
      adminKeyId = (created.body.key as { id: string }).id;
      assert.match(adminKey, /^pcs_[0-9A-Za-z]{40}$/);
      const list = await ada.call('GET', '/orgs/acme/keys');
      assert.ok((list.body.keys as { id: string }[]).some((k) => k.id === adminKeyId));
      assert.ok(!JSON.stringify(list.body).includes(adminKey));
      assert.deepEqual(errorPaths(await ada.call('POST', '/orgs/acme/keys', { name: 'x', permissions: { mode: 'simple', level: 'everything' }, expiry: 'tomorrow' })), ['expiry', 'permissions.level']);
    });

    it('an admin key works as a bearer credential for its own org — no CSRF needed — and nowhere else', async () => {
      const members = await withKey(server, adminKey, 'GET', '/orgs/acme/members');
      assert.equal(members.status, 200);
      const ws = await withKey(server, adminKey, 'POST', '/orgs/acme/resources', { kind: 'workspace', name: 'By key' });
      assert.equal(ws.status, 201, JSON.stringify(ws.body));
      assert.deepEqual(((await withKey(server, adminKey, 'GET', '/orgs')).body.orgs as { slug: string }[]).map((o) => o.slug), ['acme']);
      assertError(await withKey(server, adminKey, 'GET', '/orgs/globex'), 'not_found', 404);
      assertError(await withKey(server, adminKey, 'GET', '/applications'), 'forbidden', 403);
      assertError(await withKey(server, adminKey, 'POST', `/users/${bobUser.id}/disable`), 'forbidden', 403);
      // A key never mints keys — not admin keys, not plain ones: they would outlive its revocation.
      assertError(await withKey(server, adminKey, 'POST', '/orgs/acme/keys', { name: 'again', permissions: { mode: 'simple', level: 'read' }, admin: true }), 'forbidden', 403);
      assertError(await withKey(server, adminKey, 'POST', '/orgs/acme/keys', { name: 'plain by key', permissions: { mode: 'simple', level: 'read' } }), 'forbidden', 403);
      assert.ok(!(await server.store.apiKeys.list({ orgId: server.org.id })).some((k) => k.name === 'plain by key' || k.name === 'again'), 'no key was made');
      const last = (await server.store.apiKeys.get(adminKeyId))!;
      assert.notEqual(last.lastUsedAt, null, 'last use is recorded');
    });

    it('keys without the admin permission, made-up keys and other bearer tokens are refused', async () => {
      const plain = await ada.call('POST', '/orgs/acme/keys', { name: 'plain', permissions: { mode: 'simple', level: 'read' } });
      assertError(await withKey(server, String(plain.body.secret), 'GET', '/orgs/acme'), 'forbidden', 403);
      const fake = await withKey(server, `pcs_${'A'.repeat(40)}`, 'GET', '/orgs/acme');
      assertError(fake, 'invalid_token', 401);
      assert.match(fake.headers.get('www-authenticate') ?? '', /invalid_token/);
      assertError(await withKey(server, 'eyJhbGciOiJFUzI1NiJ9.e30.sig', 'GET', '/orgs/acme'), 'invalid_token', 401);
    });

    it('an admin cannot make themselves (or anyone) an owner through the API', async () => {
      const carol = (await server.store.users.findByEmail('carol@example.com'))!;
      const carolClient = await adminClient(server, 'carol@example.com', false);
      assertError(await carolClient.call('PATCH', `/orgs/acme/members/${carol.id}`, { role: 'owner' }), 'forbidden', 403);
      assertError(await carolClient.call('POST', '/orgs/acme/invitations', { email: 'accomplice@example.com', role: 'owner' }), 'forbidden', 403);
      assertError(await carolClient.call('DELETE', `/orgs/acme/members/${server.user.id}`), 'forbidden', 403);
      assert.equal((await server.store.orgs.member(server.org.id, carol.id))?.role, 'admin');
    });

    it('the key of a disabled user is refused (401), and an org is named by id as well as by slug', async () => {
      const gus = await server.addUser('gus@example.com', undefined, { role: 'admin' });
      const gusClient = await adminClient(server, 'gus@example.com', false);
      const created = await gusClient.call('POST', '/orgs/acme/keys', { name: 'gus', permissions: { mode: 'simple', level: 'read' }, admin: true });
      const secret = String(created.body.secret);
      assert.equal((await withKey(server, secret, 'GET', `/orgs/${server.org.id}`)).status, 200);
      assertError(await withKey(server, secret, 'GET', `/orgs/${globex.id}`), 'not_found', 404);
      await server.store.users.setDisabled(gus.id, Math.floor(Date.now() / 1000));
      assertError(await withKey(server, secret, 'GET', '/orgs/acme'), 'invalid_token', 401);
    });

    it('a key whose creator is no longer an owner or admin of the org is powerless', async () => {
      const carol = (await server.store.users.findByEmail('carol@example.com'))!;
      await server.store.orgs.setRole(server.org.id, carol.id, 'admin');
      const carolClient = await adminClient(server, 'carol@example.com', false);
      const created = await carolClient.call('POST', '/orgs/acme/keys', { name: 'carol', permissions: { mode: 'simple', level: 'read' }, admin: true });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await withKey(server, String(created.body.secret), 'GET', '/orgs/acme')).status, 200);
      await server.store.orgs.setRole(server.org.id, carol.id, 'member');
      assertError(await withKey(server, String(created.body.secret), 'GET', '/orgs/acme'), 'forbidden', 403);
    });

    it('revoking is permanent: the key is refused at once (401), a second revoke is 409, another org\'s key is 404', async () => {
      const theirs = await olga.call('POST', '/orgs/globex/keys', { name: 'olga', permissions: { mode: 'simple', level: 'read' }, admin: true });
      assertError(await ada.call('DELETE', `/orgs/acme/keys/${(theirs.body.key as { id: string }).id}`), 'not_found', 404);
      const revoked = await ada.call('DELETE', `/orgs/acme/keys/${adminKeyId}`);
      assert.equal(revoked.status, 200);
      assert.equal(revoked.body.status, 'revoked');
      assertError(await withKey(server, adminKey, 'GET', '/orgs/acme'), 'invalid_token', 401);
      assertError(await ada.call('DELETE', `/orgs/acme/keys/${adminKeyId}`), 'already_revoked', 409);
      const created = await server.store.audit.list({ orgId: server.org.id, kind: 'admin.resource.created' });
      assert.ok(created.some((e) => e.actor === `key:${adminKeyId}`), 'what a key did is recorded as the key');
    });
  });

  describe('users (server administrators)', () => {
    it('only a server administrator may list, disable, enable or delete users', async () => {
      const listed = await root.call('GET', '/users');
      assert.equal(listed.status, 200);
      assert.ok((listed.body.users as { id: string; email: string }[]).some((u) => u.id === bobUser.id && u.email === 'bob@example.com'));
      assertError(await ada.call('GET', '/users'), 'forbidden', 403);
      assert.ok(!('users' in (await ada.call('GET', '/users')).body));
      assertError(await ada.call('POST', `/users/${bobUser.id}/disable`), 'forbidden', 403);
      assertError(await bob.call('DELETE', `/users/${bobUser.id}`), 'forbidden', 403);
      assertError(await root.call('POST', `/users/${bobUser.id}/disable`, undefined, { csrf: null }), 'csrf_failed', 403);
      assert.equal((await server.store.users.findById(bobUser.id))?.disabledAt, null);
    });

    it('disabling signs the user out everywhere; enabling lets them sign in again', async () => {
      const erin = await server.addUser('erin@example.com', undefined, { role: 'member' });
      const erinClient = await adminClient(server, 'erin@example.com', false);
      assert.equal((await erinClient.ua.request(`${server.url}/`)).body.includes('erin@example.com'), true);
      assert.equal((await root.call('POST', `/users/${erin.id}/disable`)).status, 200);
      assert.equal((await erinClient.ua.request(`${server.url}/`)).body.includes('erin@example.com'), false, 'signed out');
      assert.ok(await server.store.revocations.isRevoked('user', erin.id));
      assert.equal((await root.call('POST', `/users/${erin.id}/enable`)).status, 200);
      assert.equal((await server.store.users.findById(erin.id))?.disabledAt, null);
      assertError(await root.call('POST', '/users/usr_nobody/disable'), 'not_found', 404);
    });

    it('deletes a user (personal data erased, membership gone), but never an org\'s last owner', async () => {
      assertError(await root.call('DELETE', `/users/${server.user.id}`), 'last_owner', 409);
      const fay = await server.addUser('fay@example.com', undefined, { role: 'member' });
      assert.equal((await root.call('DELETE', `/users/${fay.id}`)).status, 204);
      assert.equal(await server.store.users.findByEmail('fay@example.com'), undefined);
      assert.equal(await server.store.orgs.member(server.org.id, fay.id), undefined);
      assertError(await root.call('DELETE', `/users/${fay.id}`), 'not_found', 404);
    });
  });
});
