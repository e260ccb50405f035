/**
 * Invitations (identity/invitations.ts, console/invitation-page.ts): a one-time link, stored only
 * as a keyed hash, that expires, works once, can be revoked, and is accepted only by the person it
 * names (the e-mail must match, any case). With SMTP configured the link is e-mailed — sent here
 * for real through nodemailer to a tiny SMTP server — and never returned to the inviter; without
 * it the inviter gets the link. The accept page signs people in, or creates their account.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isRefusal, PortcullisError } from '../../src/core/errors.ts';
import { loadConfig } from '../../src/core/config.ts';
import { acceptInvitation, findInvitation, invite, listInvitations, revokeInvitation } from '../../src/identity/invitations.ts';
import { createMailer } from '../../src/identity/mailer.ts';
import { TEST_PASSWORD, startTestServer, type TestServer } from '../helpers/server.ts';
import { storesUnderTest } from '../helpers/stores.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { adminClient } from '../admin/support.ts';
import { identityFixture } from './support.ts';
import { mailText, startSmtpServer, type SmtpServer } from './smtp-server.ts';

async function refused(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(isRefusal(err), `expected PortcullisError ${code}, got ${String(err)}`);
  assert.equal(err.code, code);
}

const tokenOf = (link: string) => link.split('/invitations/')[1]!;

for (const target of storesUnderTest()) {
  describe(`invitations (${target.name})`, { skip: target.skip }, async () => {
    const f = await identityFixture(target);
    const deps = { ...f.deps, publicUrl: 'https://auth.example.com' };
    const owner = { userId: f.ada.id, role: 'owner' as const };

    it('without SMTP the inviter gets the link; only its keyed hash is stored; the invited address accepts it once, in any case', async () => {
      const result = await invite(deps, owner, f.org, { email: 'Grace@Example.com', role: 'admin' });
      assert.equal(result.sent, false);
      assert.match(result.link!, /^https:\/\/auth\.example\.com\/invitations\/[\w-]{40,}$/);
      const token = tokenOf(result.link!);
      assert.equal(await f.store.invitations.get(token), undefined, 'the token itself is not an id');
      assert.equal(result.invitation.status, 'pending');
      assert.equal(result.invitation.email, 'grace@example.com');

      const grace = await f.store.users.create({ email: 'GRACE@example.com' });
      const joined = await acceptInvitation(f.deps, token, grace);
      assert.equal(joined.role, 'admin');
      assert.equal((await f.store.orgs.member(f.org.id, grace.id))?.role, 'admin');
      await refused(acceptInvitation(f.deps, token, grace), 'invitation_invalid');
      assert.equal((await listInvitations(f.deps, f.org.id)).find((i) => i.id === result.invitation.id)?.status, 'accepted');
    });

    it('accepted twice at the same moment, it makes exactly one membership', async () => {
      const { link } = await invite(deps, owner, f.org, { email: `twice-${target.dialect}@example.com`, role: 'admin' });
      const user = await f.store.users.create({ email: `twice-${target.dialect}@example.com` });
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => acceptInvitation(f.deps, tokenOf(link!), user)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      // A loser either finds the link already used (invitation_invalid) or, having read it before
      // the winner consumed it, finds the membership the winner made (already_member): which one
      // is the race's to decide; both say "not you, it is done", and neither makes a second member.
      for (const r of results) if (r.status === 'rejected') assert.ok(isRefusal(r.reason) && ['invitation_invalid', 'already_member'].includes(r.reason.code), String(r.reason));
      assert.equal((await f.store.orgs.member(f.org.id, user.id))?.role, 'admin');
    });

    it('someone else holding the link cannot accept it (403), and it stays valid for the right person', async () => {
      const { link } = await invite(deps, owner, f.org, { email: `heidi-${target.dialect}@example.com` });
      const mallory = await f.person(`mallory-${target.dialect}@example.com`, null);
      await refused(acceptInvitation(f.deps, tokenOf(link!), mallory), 'forbidden');
      assert.equal(await f.store.orgs.member(f.org.id, mallory.id), undefined);
      assert.ok(await findInvitation(f.deps, tokenOf(link!)));
    });

    it('a revoked or expired link is worth nothing; a made-up one neither', async () => {
      const ivan = await f.person(`ivan-${target.dialect}@example.com`, null);
      const revoked = await invite(deps, owner, f.org, { email: ivan.email });
      await revokeInvitation(f.deps, f.org.id, revoked.invitation.id);
      await refused(revokeInvitation(f.deps, f.org.id, revoked.invitation.id), 'invitation_invalid');
      await refused(acceptInvitation(f.deps, tokenOf(revoked.link!), ivan), 'invitation_invalid');

      const expiring = await invite(deps, owner, f.org, { email: ivan.email, expiresInDays: 1 });
      const later = { ...f.deps, now: () => f.now() + 86400 + 1 };
      await refused(acceptInvitation(later, tokenOf(expiring.link!), ivan), 'invitation_invalid');
      assert.equal((await listInvitations(later, f.org.id)).find((i) => i.id === expiring.invitation.id)?.status, 'expired');
      await refused(acceptInvitation(f.deps, 'x'.repeat(43), ivan), 'invitation_invalid');
      assert.equal(await f.store.orgs.member(f.org.id, ivan.id), undefined);
    });

    it('refuses bad input by field, members already in, an admin inviting an owner, and another org\'s invitation ids', async () => {
      const bad = await invite(deps, owner, f.org, { email: 'not-an-address', role: 'king', expiresInDays: 99, extra: 1 }).catch((e: PortcullisError) => e);
      assert.ok(isRefusal(bad) && bad.code === 'invalid_request');
      assert.deepEqual((bad.detail.errors as { path: string }[]).map((e) => e.path).sort(), ['email', 'expiresInDays', 'extra', 'role']);
      await refused(invite(deps, owner, f.org, { email: 'ADA@example.com' }), 'already_member');
      await refused(invite(deps, { userId: f.ada.id, role: 'admin' }, f.org, { email: 'x@example.com', role: 'owner' }), 'forbidden');
      const { invitation } = await invite(deps, owner, f.org, { email: `judy-${target.dialect}@example.com` });
      const other = await f.store.orgs.create({ slug: `other-${target.dialect}`, name: 'Other' });
      await refused(revokeInvitation(f.deps, other.id, invitation.id), 'not_found');
    });
  });
}

describe('invitations by e-mail (SMTP, for real)', () => {
  let smtp: SmtpServer;
  before(async () => {
    smtp = await startSmtpServer();
  });
  after(async () => {
    await smtp?.stop();
  });

  it('SMTP is configured from PORTCULLIS_SMTP_*; a user without a password is refused by name; absent, there is no mailer', () => {
    const config = loadConfig({ env: { PORTCULLIS_SMTP_HOST: 'smtp.example.com', PORTCULLIS_SMTP_PORT: '465', PORTCULLIS_SMTP_SECURE: 'true', PORTCULLIS_SMTP_USER: 'u', PORTCULLIS_SMTP_PASSWORD: 'p', PORTCULLIS_SMTP_FROM: 'auth@example.com' }, cwd: '/nonexistent' });
    assert.deepEqual(config.smtp, { host: 'smtp.example.com', port: 465, secure: true, user: 'u', password: 'p', from: 'auth@example.com' });
    assert.throws(
      () => loadConfig({ env: { PORTCULLIS_SMTP_HOST: 'h', PORTCULLIS_SMTP_FROM: 'a@b.c', PORTCULLIS_SMTP_USER: 'u' }, cwd: '/nonexistent' }),
      (err: { code?: string; detail?: { errors: { path: string }[] } }) => err.code === 'config_invalid' && err.detail?.errors[0]?.path === 'smtp.password',
    );
    assert.equal(createMailer(loadConfig({ env: {}, cwd: '/nonexistent' }).smtp), undefined);
  });

  it('the mailer delivers a plain-text message with the right sender, recipient and credentials', async () => {
    const mailer = createMailer({ host: '127.0.0.1', port: smtp.port, secure: false, user: 'portcullis', password: 's3cret', from: 'Portcullis <auth@example.com>' })!;
    try {
      await mailer.send({ to: 'grace@example.com', subject: 'Hello', text: 'Line one\nhttps://auth.example.com/invitations/abc' });
      const mail = smtp.messages.at(-1)!;
      assert.equal(mail.from, 'auth@example.com');
      assert.deepEqual(mail.to, ['grace@example.com']);
      assert.equal(mail.auth, 'portcullis:s3cret');
      assert.match(mailText(mail), /https:\/\/auth\.example\.com\/invitations\/abc/);
      // A refusing server is a clear failure, not a crash; header injection is refused before sending.
      smtp.refuseNext = true;
      await assert.rejects(mailer.send({ to: 'x@example.com', subject: 'Hi', text: 't' }), (err: { code?: string }) => err.code === 'unavailable');
      await assert.rejects(mailer.send({ to: 'x@example.com\r\nBcc: all@example.com', subject: 'Hi', text: 't' }), (err: { code?: string }) => err.code === 'invalid_request');
    } finally {
      mailer.close();
    }
  });

  describe('through the admin API and the accept page', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ smtp: { host: '127.0.0.1', port: smtp.port, from: 'auth@example.com' } });
    });
    after(() => server?.stop());

    async function invited(email: string, role = 'member'): Promise<string> {
      const ada = await adminClient(server, 'ada@example.com', false);
      const before = smtp.messages.length;
      const answer = await ada.call('POST', '/orgs/acme/invitations', { email, role });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.sent, true);
      assert.equal(answer.body.link, undefined, 'the link went by e-mail only');
      const mail = smtp.messages[before]!;
      assert.deepEqual(mail.to, [email]);
      const link = /https?:\/\/\S+\/invitations\/[\w-]+/.exec(mailText(mail))?.[0];
      assert.ok(link, 'the e-mail carries the link');
      assert.ok(link.startsWith(server.url));
      return link;
    }

    it('a newcomer opens the e-mailed link, creates an account, and is a member, signed in', async () => {
      const link = await invited('newcomer@example.com', 'admin');
      const ua = new UserAgent();
      const page = await ua.request(link);
      assert.equal(page.status, 200);
      assert.match(page.body, /Acme/);
      assert.match(page.body, /admin/);
      const done = await ua.submit(page, /\/invitations\//, { name: 'New Comer', password: 'a long enough passphrase', confirm: 'a long enough passphrase' }, () => true);
      assert.equal(done.status, 303);
      const user = await server.store.users.findByEmail('newcomer@example.com');
      assert.equal(user?.name, 'New Comer');
      assert.equal((await server.store.orgs.member(server.org.id, user!.id))?.role, 'admin');
      const home = await ua.request(`${server.url}/`);
      assert.match(home.body, /newcomer@example\.com/, 'signed in');
      assert.equal((await new UserAgent().request(link)).status, 410, 'used once');
    });

    it('someone with an account signs in on the page; a wrong password changes nothing', async () => {
      await server.addUser('existing@example.com', TEST_PASSWORD, { role: null });
      const link = await invited('existing@example.com');
      const ua = new UserAgent();
      const page = await ua.request(link);
      assert.doesNotMatch(page.body, /name="confirm"/, 'no account creation for an existing address');
      const wrong = await ua.submit(page, /\/invitations\//, { password: 'not the password' });
      assert.equal(wrong.status, 401);
      const user = (await server.store.users.findByEmail('existing@example.com'))!;
      assert.equal(await server.store.orgs.member(server.org.id, user.id), undefined);
      const done = await ua.submit(wrong, /\/invitations\//, { password: TEST_PASSWORD }, () => true);
      assert.equal(done.status, 303);
      assert.equal((await server.store.orgs.member(server.org.id, user.id))?.role, 'member');
    });

    it('someone else signed in cannot accept; a forged form (no CSRF token) neither', async () => {
      const link = await invited('target@example.com');
      const other = await adminClient(server, 'bystander@example.com', false);
      const page = await other.ua.request(link);
      assert.equal(page.status, 200);
      assert.match(page.body, /Only target@example\.com can accept/);
      const post = await other.ua.request(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(server.url).origin }, body: 'csrf=forged' });
      assert.equal(post.status, 403);
      const forged = await new UserAgent().request(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'password=x&confirm=x' });
      assert.equal(forged.status, 403);
      assert.equal(await server.store.users.findByEmail('target@example.com'), undefined);
    });

    it('an unknown link is 410 Gone', async () => {
      assert.equal((await new UserAgent().request(`${server.url}/invitations/${'a'.repeat(43)}`)).status, 410);
      assert.equal((await new UserAgent().request(`${server.url}/invitations/short`)).status, 410);
    });
  });
});
