/**
 * A person's own account, without HTTP, on every store (SQLite; PostgreSQL when configured): the
 * name, the password change (the password policy applies, before the current password is even
 * checked) and which sessions it ends, sign-in sessions named by references that
 * are not their stored ids, and password reset links — single use even when raced, expiring,
 * unusable once edited or once the account is disabled — and which accounts an org admin may
 * make a link for.
 */
import type { Store } from '../../src/store/store.ts';
import type { SessionRecord } from '../../src/store/sessions.ts';
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/core/crypto.ts';
import { changePassword, endSession, listSessions, sessionRef, signOutEverywhere, updateName } from '../../src/identity/account.ts';
import { completePasswordReset, issuePasswordReset, mayIssueResetFor, PASSWORD_RESET_TTL, resetLinkState } from '../../src/identity/password-reset.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../src/identity/passwords.ts';
import { isPortcullisError } from '../../src/core/errors.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const PASSWORD = 'the first password';

function deps(store: Store, now = () => Math.floor(Date.now() / 1000)) {
  return { store, pepper: randomBytes(32), now, publicUrl: 'https://auth.example.com' };
}

async function person(store: Store, email: string): Promise<User> {
  return store.users.create({ email, passwordHash: await hashPassword(PASSWORD) });
}

async function session(store: Store, user: User, id: string): Promise<SessionRecord> {
  const now = Math.floor(Date.now() / 1000);
  const record: SessionRecord = { id, userId: user.id, createdAt: now, expiresAt: now + 3600, lastSeenAt: now, authTime: now, amr: ['pwd'], ip: '192.0.2.1', userAgent: 'Test' };
  await store.sessions.create(record);
  return record;
}

async function engineSession(store: Store, user: User, id: string): Promise<void> {
  await store.oidc.upsert({ model: 'Session', id, payload: JSON.stringify({ accountId: user.id }), accountId: user.id });
}

for (const target of storesUnderTest()) {
  describe(`a person's account (${target.name})`, { skip: target.skip }, () => {
    it('the name is set, cleared with an empty one, and a name over 200 characters is refused', async () => {
      const store = await target.make();
      const d = deps(store);
      const user = await person(store, 'name@example.com');
      assert.equal(await updateName(d, user.id, '  Ada Lovelace  '), true);
      assert.equal((await store.users.findById(user.id))?.name, 'Ada Lovelace');
      assert.equal(await updateName(d, user.id, 'x'.repeat(201)), false);
      assert.equal((await store.users.findById(user.id))?.name, 'Ada Lovelace');
      assert.equal(await updateName(d, user.id, '   '), true);
      assert.equal((await store.users.findById(user.id))?.name, null);
      await store.users.erase(user.id, 1);
      assert.equal(await store.users.setName(user.id, 'Back'), false, 'an erased person gets no name back');
    });

    it('a password change needs the current password; it ends the other sessions and the engine sessions, not this one', async () => {
      const store = await target.make();
      const d = deps(store);
      const user = await person(store, 'change@example.com');
      const other = await person(store, 'bystander@example.com');
      const here = await session(store, user, 'here');
      await session(store, user, 'elsewhere');
      await session(store, other, 'theirs');
      await engineSession(store, user, 'engine-1');

      assert.equal(await changePassword(d, user, 'wrong', 'a new password', here.id), 'wrong_current');
      assert.equal((await store.sessions.listForUser(user.id)).length, 2, 'nothing ended on a wrong password');
      assert.ok(await verifyPassword(PASSWORD, (await store.users.findById(user.id))!.passwordHash!));

      assert.equal(await changePassword(d, user, PASSWORD, 'a new password', here.id), 'changed');
      assert.ok(await verifyPassword('a new password', (await store.users.findById(user.id))!.passwordHash!));
      assert.deepEqual((await store.sessions.listForUser(user.id)).map((s) => s.id), ['here']);
      assert.deepEqual(await store.oidc.byAccount('Session', user.id), []);
      assert.equal((await store.sessions.listForUser(other.id)).length, 1, "another person's session stays");
    });

    it('a new password the policy refuses (too short, too long) is refused before the current one is checked, and changes nothing', async () => {
      const store = await target.make();
      const d = deps(store);
      const user = await person(store, 'policy@example.com');
      const here = await session(store, user, 'policy-here');
      await session(store, user, 'policy-elsewhere');
      for (const next of ['short', 'x'.repeat(MAX_PASSWORD_LENGTH + 1)]) {
        for (const current of [PASSWORD, 'wrong']) {
          await assert.rejects(changePassword(d, user, current, next, here.id), (err: unknown) => {
            assert.ok(isPortcullisError(err));
            assert.equal(err.code, 'invalid_request');
            assert.deepEqual((err.detail.errors as { path: string }[]).map((e) => e.path), ['password']);
            return true;
          });
        }
      }
      assert.ok(await verifyPassword(PASSWORD, (await store.users.findById(user.id))!.passwordHash!), 'the password never changed');
      assert.equal((await store.sessions.listForUser(user.id)).length, 2, 'no session ended');
      assert.equal(await changePassword(d, user, PASSWORD, 'x'.repeat(MIN_PASSWORD_LENGTH), here.id), 'changed', 'the minimum itself is enough');
    });

    it('a reset link is not consumed by a new password the policy refuses', async () => {
      const store = await target.make();
      const d = deps(store);
      const user = await person(store, 'reset-policy@example.com');
      const token = new URL((await issuePasswordReset(d, user.id))!.link).searchParams.get('token')!;
      await assert.rejects(completePasswordReset(d, token, 'short'), (err: unknown) => isPortcullisError(err) && err.code === 'invalid_request');
      assert.ok(await verifyPassword(PASSWORD, (await store.users.findById(user.id))!.passwordHash!));
      assert.deepEqual(await completePasswordReset(d, token, 'long enough now'), { kind: 'done', userId: user.id }, 'the link still works');
    });

    it('sessions are named by references, not ids; one ends only by its owner; everywhere ends all of theirs', async () => {
      const store = await target.make();
      const d = deps(store);
      const user = await person(store, 'sessions@example.com');
      const mallory = await person(store, 'mallory@example.com');
      const here = await session(store, user, 'session-a');
      await session(store, user, 'session-b');
      await session(store, mallory, 'session-m');
      const listed = await listSessions(d, user.id, here.id);
      assert.equal(listed.length, 2);
      assert.equal(listed.filter((s) => s.current).length, 1);
      assert.ok(listed.every((s) => !['session-a', 'session-b'].includes(s.ref)), 'stored ids never leave');

      const theirs = sessionRef(d.pepper, 'session-b');
      assert.deepEqual(await endSession(d, mallory.id, theirs), { ended: false }, "someone else's reference ends nothing");
      assert.equal((await store.sessions.listForUser(user.id)).length, 2);
      assert.equal((await endSession(d, user.id, theirs)).ended, true);
      assert.deepEqual((await store.sessions.listForUser(user.id)).map((s) => s.id), ['session-a']);

      await engineSession(store, user, 'engine-s');
      assert.deepEqual(await signOutEverywhere(d, user.id), { browser: 1, engine: 1 });
      assert.equal((await store.sessions.listForUser(mallory.id)).length, 1);
    });

    it('a reset link works once, even when ten submissions race for it, and ends every session', async () => {
      const store = await target.make();
      const d = deps(store);
      const user = await person(store, 'reset@example.com');
      await session(store, user, 'before-reset');
      await engineSession(store, user, 'engine-r');
      const issued = await issuePasswordReset(d, user.id);
      assert.ok(issued);
      assert.equal(issued.expiresAt, d.now() + PASSWORD_RESET_TTL);
      const token = new URL(issued.link).searchParams.get('token')!;
      assert.equal(resetLinkState(token, d.now()), 'usable');
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => completePasswordReset(d, token, `new password ${i}`)));
      const done = outcomes.filter((o) => o.kind === 'done');
      assert.equal(done.length, 1, 'exactly one winner');
      assert.deepEqual(await store.sessions.listForUser(user.id), []);
      assert.deepEqual(await store.oidc.byAccount('Session', user.id), []);
      const winner = outcomes.findIndex((o) => o.kind === 'done');
      assert.ok(await verifyPassword(`new password ${winner}`, (await store.users.findById(user.id))!.passwordHash!));
    });

    it('an expired, edited or foreign link does nothing; disabled accounts get no link and old links die', async () => {
      const store = await target.make();
      const user = await person(store, 'expired@example.com');
      const past = deps(store, () => Math.floor(Date.now() / 1000) - 2 * PASSWORD_RESET_TTL);
      const old = new URL((await issuePasswordReset(past, user.id))!.link).searchParams.get('token')!;
      const d = { ...past, now: () => Math.floor(Date.now() / 1000) };
      assert.equal(resetLinkState(old, d.now()), 'expired');
      assert.deepEqual(await completePasswordReset(d, old, 'whatever password'), { kind: 'gone' });
      const [random] = old.split('.');
      const edited = `${random}.${(d.now() + 600).toString(36)}`;
      assert.equal(resetLinkState(edited, d.now()), 'usable', 'looks fine');
      assert.deepEqual(await completePasswordReset(d, edited, 'whatever password'), { kind: 'gone' }, 'but is unknown');
      assert.equal(resetLinkState('not-a-token', d.now()), 'malformed');

      const fresh = new URL((await issuePasswordReset(d, user.id))!.link).searchParams.get('token')!;
      const otherServer = { ...d, pepper: randomBytes(32) };
      assert.deepEqual(await completePasswordReset(otherServer, fresh, 'whatever password'), { kind: 'gone' }, 'keyed with this server’s pepper');
      await store.users.setDisabled(user.id, d.now());
      assert.equal(await issuePasswordReset(d, user.id), undefined);
      assert.deepEqual(await completePasswordReset(d, fresh, 'whatever password'), { kind: 'gone' });
      assert.ok(await verifyPassword(PASSWORD, (await store.users.findById(user.id))!.passwordHash!), 'the password never changed');
    });

    it('an org admin may make a link only for accounts wholly theirs to manage', async () => {
      const store = await target.make();
      const acme = await store.orgs.create({ slug: 'acme', name: 'Acme' });
      const globex = await store.orgs.create({ slug: 'globex', name: 'Globex' });
      const add = async (email: string, role: 'owner' | 'admin' | 'member', isAdmin = false) => {
        const user = await store.users.create({ email, isAdmin });
        await store.orgs.addMember(acme.id, user.id, role, 1);
        return user;
      };
      const owner = await add('owner@example.com', 'owner');
      const admin = await add('admin@example.com', 'admin');
      const member = await add('member@example.com', 'member');
      const serverAdmin = await add('root@example.com', 'member', true);
      const twoOrgs = await add('two@example.com', 'member');
      await store.orgs.addMember(globex.id, twoOrgs.id, 'member', 1);
      const outsider = await store.users.create({ email: 'outsider@example.com' });
      const asAdmin = { userId: admin.id, role: 'admin' };
      const asOwner = { userId: owner.id, role: 'owner' };

      assert.equal(await mayIssueResetFor(store, acme.id, asAdmin, member.id), true);
      assert.equal(await mayIssueResetFor(store, acme.id, asAdmin, admin.id), true, 'their own account');
      assert.equal(await mayIssueResetFor(store, acme.id, asAdmin, owner.id), false, 'an admin does not take over an owner');
      assert.equal(await mayIssueResetFor(store, acme.id, asOwner, admin.id), true);
      assert.equal(await mayIssueResetFor(store, acme.id, asOwner, serverAdmin.id), false, 'never a server administrator');
      assert.equal(await mayIssueResetFor(store, acme.id, asOwner, twoOrgs.id), false, 'someone who also belongs elsewhere');
      assert.equal(await mayIssueResetFor(store, acme.id, asOwner, outsider.id), false, 'not a member');
      assert.equal(await mayIssueResetFor(store, acme.id, { userId: member.id, role: 'member' }, member.id), false, 'members make no links');
      await store.orgs.addMember(globex.id, owner.id, 'admin', 1);
      assert.equal(await mayIssueResetFor(store, acme.id, asOwner, twoOrgs.id), true, 'once the actor manages both orgs');
    });
  });
}
