/**
 * An administrator resets a person's second factors (they lost their phone and their recovery
 * codes): the authenticator, the recovery codes and the passkeys go, every session of theirs ends,
 * the reset is audited, and an organization that requires MFA has them enrol again at the next
 * sign-in. Who may: an organization's owner or admin for its members (only owners for an owner's;
 * not for someone who is also in an organization they do not manage; never their own), and a
 * server administrator for anyone else — each refusal attacked, leaving the factors in place.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../../src/web/session.ts';
import type { Org } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import { adminClient, type AdminClient } from '../admin/support.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { consoleSignIn, enrolAtAccount, pageCode } from './support.ts';

describe('resetting a person’s second factors', () => {
  const clock = testClock();
  let server: TestServer;
  let strict: Org;
  let owner: AdminClient;
  let admin: AdminClient;
  let member: AdminClient;

  before(async () => {
    server = await startTestServer({}, { clock });
    strict = await server.store.orgs.create({ slug: 'strict', name: 'Strict' });
    await server.addUser('reset-owner@example.com', TEST_PASSWORD, { org: strict, role: 'owner' });
    await server.addUser('reset-admin@example.com', TEST_PASSWORD, { org: strict, role: 'admin' });
    await server.addUser('reset-member@example.com', TEST_PASSWORD, { org: strict, role: 'member' });
    owner = await adminClient(server, 'reset-owner@example.com', false);
    admin = await adminClient(server, 'reset-admin@example.com', false);
    member = await adminClient(server, 'reset-member@example.com', false);
  });
  after(() => server?.stop());

  /** A person of `strict` (with `role`) who turned TOTP on, holds a passkey, and is signed in. */
  async function enrolled(email: string, role: 'owner' | 'admin' | 'member' = 'member') {
    const user = await server.addUser(email, TEST_PASSWORD, { org: strict, role });
    const ua = new UserAgent();
    assert.equal((await consoleSignIn(server, email, TEST_PASSWORD, ua)).status, 200);
    await enrolAtAccount(server, clock, ua);
    const passkey = { id: `cred-${user.id}`, userId: user.id, publicKey: 'pk', counter: 0, transports: ['internal'], backedUp: false, name: 'Laptop', createdAt: clock.now(), lastUsedAt: null };
    assert.equal(await server.store.passkeys.add(passkey), true);
    return { user, ua };
  }

  async function factorsOf(user: User) {
    return {
      totp: (await server.store.mfa.findTotp(user.id))?.confirmedAt != null,
      recoveryCodes: await server.store.mfa.unusedRecoveryCodes(user.id),
      passkeys: (await server.store.passkeys.forUser(user.id)).length,
    };
  }
  const intact = { totp: true, recoveryCodes: 10, passkeys: 1 };
  const gone = { totp: false, recoveryCodes: 0, passkeys: 0 };

  const audited = async (kind: string, subject: string) => {
    await server.audit.flush();
    return server.store.audit.list({ kind, subject, order: 'asc' });
  };

  it('an org admin resets a member’s: factors gone, signed out everywhere, audited; the next sign-in enrols again', async () => {
    const { user, ua } = await enrolled('lost-phone@example.com');
    assert.deepEqual(await factorsOf(user), intact);
    await server.store.orgs.update(strict.id, { settings: { ...strict.settings, requireMfa: true } });
    try {
      const answer = await admin.call('POST', `/orgs/strict/members/${user.id}/reset-mfa`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(await factorsOf(user), gone);
      assert.deepEqual(await server.store.sessions.listForUser(user.id), []);
      assert.ok((await ua.follow(`${server.url}/account`)).url.includes('/login'), 'the old session no longer works');
      const [record] = await audited('admin.member.mfa_reset', user.id);
      assert.equal(record?.actor, admin.user.id);
      assert.deepEqual([record?.details?.totp, record?.details?.recoveryCodes, record?.details?.passkeys], [true, 10, 1]);

      const again = new UserAgent();
      const next = await consoleSignIn(server, 'lost-phone@example.com', TEST_PASSWORD, again);
      assert.match(next.url, /\/sign-in\/enrol$/, 'the organization requires MFA: enrolment before a session');
      assert.equal(again.cookies.has(SESSION_COOKIE), false);
    } finally {
      await server.store.orgs.update(strict.id, { settings: { ...strict.settings, requireMfa: false } });
    }
  });

  it('refused, factors untouched: a member for a colleague, an admin for an owner, anyone for themselves, for someone in an org they do not manage', async () => {
    const colleague = await enrolled('colleague@example.com');
    const boss = await enrolled('boss@example.com', 'owner');
    const elsewhere = await server.store.orgs.create({ slug: 'elsewhere', name: 'Elsewhere' });
    const twoOrgs = await enrolled('two-orgs@example.com');
    await server.store.orgs.addMember(elsewhere.id, twoOrgs.user.id, 'member', clock.now());
    const refusals: [AdminClient, string, number, string][] = [
      [member, colleague.user.id, 403, 'forbidden'],
      [admin, boss.user.id, 403, 'forbidden'],
      [admin, admin.user.id, 403, 'forbidden'],
      [owner, twoOrgs.user.id, 403, 'forbidden'],
      [owner, 'usr_nobody', 404, 'not_found'],
      [member, colleague.user.id, 403, 'forbidden'],
    ];
    for (const [who, target, status, code] of refusals) {
      const answer = await who.call('POST', `/orgs/strict/members/${target}/reset-mfa`);
      assert.deepEqual([answer.status, answer.body.error], [status, code], `${who.user.email} → ${target}`);
    }
    // The server-wide route is for server administrators only.
    assert.equal((await owner.call('POST', `/users/${colleague.user.id}/reset-mfa`)).status, 403);
    for (const person of [colleague, boss, twoOrgs]) {
      assert.deepEqual(await factorsOf(person.user), intact, person.user.email);
      assert.ok((await server.store.sessions.listForUser(person.user.id)).length > 0, 'still signed in');
    }
    assert.equal((await audited('admin.member.mfa_reset', colleague.user.id)).length, 0);

    // An owner may reset another owner's; a server administrator anyone's (not their own).
    assert.equal((await owner.call('POST', `/orgs/strict/members/${boss.user.id}/reset-mfa`)).status, 200);
    assert.deepEqual(await factorsOf(boss.user), gone);
    const root = await adminClient(server, 'reset-root@example.com', true);
    const byServerAdmin = await root.call('POST', `/users/${twoOrgs.user.id}/reset-mfa`);
    assert.equal(byServerAdmin.status, 200, JSON.stringify(byServerAdmin.body));
    assert.deepEqual(await factorsOf(twoOrgs.user), gone);
    assert.equal((await audited('admin.user.mfa_reset', twoOrgs.user.id)).length, 1);
    assert.equal((await root.call('POST', `/users/${root.user.id}/reset-mfa`)).body.error, 'forbidden');
  });

  it('the console’s member page has the button; an admin pressing it for an owner is refused', async () => {
    const target = await enrolled('console-target@example.com');
    const ownerBrowser = new UserAgent();
    await consoleSignIn(server, 'reset-owner@example.com', TEST_PASSWORD, ownerBrowser);
    const members = await ownerBrowser.follow(`${server.url}/orgs/strict/members`);
    assert.match(members.body, /data-testid="reset-mfa"/);
    // A cross-site form (no CSRF token of this browser) resets nothing, even with the owner's cookies.
    const forged = await ownerBrowser.request(`${server.url}/orgs/strict/members/reset-mfa`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(server.url).origin },
      body: new URLSearchParams({ user: target.user.id, csrf: 'forged' }),
    });
    assert.equal(forged.status, 403);
    assert.deepEqual(await factorsOf(target.user), intact);
    const asking = await ownerBrowser.submit(members, /\/members\/reset-mfa$/, { user: target.user.id });
    assert.deepEqual(await factorsOf(target.user), intact, 'the first post only asks (console/confirm.ts)');
    const done = await ownerBrowser.submit(asking, /\/members\/reset-mfa$/, {});
    assert.equal(done.status, 200);
    assert.match(done.body, /data-code="mfa_reset"/);
    assert.deepEqual(await factorsOf(target.user), gone);

    const boss = await enrolled('console-boss@example.com', 'owner');
    const adminBrowser = new UserAgent();
    await consoleSignIn(server, 'reset-admin@example.com', TEST_PASSWORD, adminBrowser);
    const page = await adminBrowser.follow(`${server.url}/orgs/strict/members`);
    const refused = await adminBrowser.submit(page, /\/members\/reset-mfa$/, { user: boss.user.id, confirm: 'yes' });
    assert.equal(refused.status, 403);
    assert.equal(pageCode(refused), 'forbidden');
    assert.deepEqual(await factorsOf(boss.user), intact);
  });
});
