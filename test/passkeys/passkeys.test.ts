/**
 * Passkeys end to end against a real server, with a software authenticator (authenticator.ts):
 * adding one at /account/mfa, signing in with it alone (console, authorization flow: the token's
 * `amr` and MFA `acr`), using it as the second factor after a password, enrolling it when an
 * organization requires MFA, removing it. Then every check a response must pass is attacked:
 * another origin, another RP ID, a replayed or foreign challenge, another person's credential, a
 * counter going backwards, no user verification without a password, a tampered continuation, a
 * disabled account, a stale session adding a passkey. Codes are matched, never messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../../src/web/session.ts';
import { adminClient } from '../admin/support.ts';
import { assertTokens, authorizationUrl, redeemCode, registerPublic, type RegisteredClient } from '../helpers/authz.ts';
import { testClock } from '../helpers/clock.ts';
import { deviceStep, startDeviceAuthorization } from '../helpers/device.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { checkboxValues, UserAgent } from '../helpers/user-agent.ts';
import { consoleSignIn, jwtClaims } from '../mfa/support.ts';
import { SoftAuthenticator } from './authenticator.ts';
import { ceremony, ceremonyOptions, passkeyBox, postJson } from './support.ts';

const ACR_MFA = 'urn:portcullis:acr:mfa';

describe('passkeys', () => {
  const clock = testClock();
  let server: TestServer;
  let client: RegisteredClient;

  before(async () => {
    server = await startTestServer({}, { clock });
    client = await registerPublic(server);
  });
  after(() => server?.stop());

  /** A new person who signs in with the password and adds a passkey at /account/mfa. */
  async function enrolledPerson(email: string) {
    const user = await server.addUser(email);
    const ua = new UserAgent();
    await consoleSignIn(server, email, TEST_PASSWORD, ua);
    const authenticator = new SoftAuthenticator(server.url);
    const page = await ua.follow(`${server.url}/account/mfa`);
    const added = await ceremony(ua, passkeyBox(page, '/account/passkeys/add'), authenticator, {}, { name: 'Work laptop' });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    return { email, user, ua, authenticator };
  }

  /** The password-less box of the console's sign-in page, in a fresh browser. */
  async function signInBox(ua = new UserAgent()) {
    return { ua, box: passkeyBox(await ua.follow(`${server.url}/login`), '/passkeys/sign-in') };
  }

  /** The `amr` of the person's sessions, sorted (RFC 8176 values). */
  async function amrs(userId: string): Promise<string[][]> {
    return (await server.store.sessions.listForUser(userId)).map((s) => s.amr).sort((a, b) => a.length - b.length || a.join().localeCompare(b.join()));
  }

  /** Refusals on the audit record for this person, with this reason. */
  async function failures(userId: string, reason: string): Promise<number> {
    await server.audit.flush();
    return (await server.store.audit.list({ kind: 'signin.failed', subject: userId, reason })).length;
  }

  it('adds a passkey at /account/mfa: listed by name, stored with its public key and counter', async () => {
    const person = await enrolledPerson('pk-add@example.com');
    const page = await person.ua.follow(`${server.url}/account/mfa`);
    assert.match(page.body, /data-testid="passkey"[\s\S]*Work laptop/);
    const [stored] = await server.store.passkeys.forUser(person.user.id);
    assert.equal(stored?.id, person.authenticator.credentials[0]!.id);
    assert.equal(stored?.counter, 0);
    assert.deepEqual(stored?.transports, ['internal']);
    assert.equal(stored?.lastUsedAt, null);
  });

  it('signs in without a password at the console: a session with amr hwk + user + mfa', async () => {
    const person = await enrolledPerson('pk-console@example.com');
    const { ua, box } = await signInBox();
    assert.equal(box.fields.next, '/');
    const answer = await ceremony(ua, box, person.authenticator);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.redirect, '/');
    assert.ok(ua.cookies.has(SESSION_COOKIE));
    const home = await ua.follow(`${server.url}/`);
    assert.match(home.body, /Signed in as pk-console@example\.com/);
    assert.deepEqual(await amrs(person.user.id), [['pwd'], ['hwk', 'user', 'mfa']], 'the enrolment session, then this one');
    assert.ok((await server.store.passkeys.find(person.authenticator.credentials[0]!.id))?.lastUsedAt);
  });

  it('signs in without a password in the authorization flow: back to the interaction, token acr MFA', async () => {
    const person = await enrolledPerson('pk-authorize@example.com');
    const ua = new UserAgent();
    const auth = authorizationUrl(server, client);
    const atClient = (location: string) => location.replace(/:\d+(?=\/)/, '').startsWith(auth.redirectUri.replace(/:\d+(?=\/)/, ''));
    const signIn = await ua.follow(auth.url, atClient);
    const box = passkeyBox(signIn, '/passkeys/sign-in');
    assert.match(box.fields.next!, /^\/interaction\/[^/]+\/login\/resume$/);
    const answer = await ceremony(ua, box, person.authenticator);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const consent = await ua.follow(new URL(answer.body.redirect as string, server.url).href, atClient);
    assert.ok(consent.body.includes('/consent"'), `the consent page, got ${consent.status} ${consent.url}`);
    const callback = await ua.submit(consent, /\/consent$/, { decision: 'approve', grant: checkboxValues(consent.body, 'grant') }, atClient);
    const code = new URL(callback.url).searchParams.get('code');
    assert.ok(code, callback.url);
    const claims = jwtClaims(assertTokens(await redeemCode(server, client, { code, pkce: auth.pkce, redirectUri: auth.redirectUri }, { resource: server.mcpUrl })).access_token);
    assert.deepEqual(claims.amr, ['hwk', 'user', 'mfa']);
    assert.equal(claims.acr, ACR_MFA);
  });

  it('signs in without a password on the device page: on to the confirmation of that code', async () => {
    const person = await enrolledPerson('pk-device@example.com');
    const device = await startDeviceAuthorization(server);
    const ua = new UserAgent();
    const signIn = await ua.follow(device.verification_uri_complete);
    assert.equal(deviceStep(signIn.body), 'login');
    const box = passkeyBox(signIn, '/passkeys/sign-in');
    assert.match(box.fields.next!, /^\/device\/continue\?/);
    const answer = await ceremony(ua, box, person.authenticator);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const confirm = await ua.follow(new URL(answer.body.redirect as string, server.url).href);
    assert.equal(deviceStep(confirm.body), 'confirm');
  });

  it('is the second factor after a password: no session before it, then amr pwd + hwk + mfa', async () => {
    const person = await enrolledPerson('pk-second@example.com');
    const ua = new UserAgent();
    const asked = await consoleSignIn(server, person.email, TEST_PASSWORD, ua);
    assert.match(asked.url, /\/sign-in\/second-factor$/);
    assert.equal(ua.cookies.has(SESSION_COOKIE), false);
    assert.doesNotMatch(asked.body, /name="code"/, 'no TOTP: no code form');
    const answer = await ceremony(ua, passkeyBox(asked, '/sign-in/second-factor/passkey'), person.authenticator);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.redirect, '/');
    assert.ok(ua.cookies.has(SESSION_COOKIE));
    assert.deepEqual(await amrs(person.user.id), [['pwd'], ['pwd', 'hwk', 'mfa']], 'the enrolment session, then this one');
    const again = await postJson(ua, passkeyBox(asked, '/sign-in/second-factor/passkey').options, passkeyBox(asked, '/sign-in/second-factor/passkey').fields);
    assert.equal(again.body.error, 'signin_expired', 'the pending sign-in is used up');
  });

  it('a second factor without user verification is accepted; a sign-in without a password is not', async () => {
    const person = await enrolledPerson('pk-uv@example.com');
    const ua = new UserAgent();
    const asked = await consoleSignIn(server, person.email, TEST_PASSWORD, ua);
    const second = await ceremony(ua, passkeyBox(asked, '/sign-in/second-factor/passkey'), person.authenticator, { noUv: true });
    assert.equal(second.status, 200, 'after a password, possession is the second factor');
    const { ua: other, box } = await signInBox();
    const alone = await ceremony(other, box, person.authenticator, { noUv: true });
    assert.equal(alone.status, 401);
    assert.equal(alone.body.error, 'passkey_refused');
    assert.equal(other.cookies.has(SESSION_COOKIE), false);
    assert.equal(await failures(person.user.id, 'passkey_user_verification_missing'), 1);
  });

  it('refuses an answer made for another origin or another RP ID', async () => {
    const person = await enrolledPerson('pk-phish@example.com');
    for (const tamper of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }, { origin: server.url.replace('localhost', '127.0.0.1') }]) {
      const { ua, box } = await signInBox();
      const answer = await ceremony(ua, box, person.authenticator, tamper);
      assert.equal(answer.status, 401, JSON.stringify(tamper));
      assert.equal(answer.body.error, 'passkey_refused');
      assert.equal(ua.cookies.has(SESSION_COOKIE), false);
    }
    assert.equal(await failures(person.user.id, 'passkey_invalid'), 3, 'each on the record');
    const page = await person.ua.follow(`${server.url}/account/mfa`);
    const phished = await ceremony(person.ua, passkeyBox(page, '/account/passkeys/add'), new SoftAuthenticator(server.url), { origin: 'https://evil.example' });
    assert.equal(phished.body.error, 'passkey_refused', 'a registration made for another origin is refused too');
    assert.equal((await server.store.passkeys.forUser(person.user.id)).length, 1);
  });

  it('takes a challenge once, only in the browser it was given to', async () => {
    const person = await enrolledPerson('pk-replay@example.com');
    const { ua, box } = await signInBox();
    const first = await ceremony(ua, box, person.authenticator);
    assert.equal(first.status, 200);
    const replayed = await postJson(new UserAgent(), box.action, { ...box.fields, response: first.response });
    assert.equal(replayed.body.error, 'csrf_failed', 'another browser has no CSRF cookie for this token');
    const sameBrowser = await postJson(ua, box.action, { ...box.fields, response: first.response });
    assert.equal(sameBrowser.body.error, 'passkey_refused', 'the same answer again: its challenge is gone');
    // A challenge given to one browser answers nothing in another (even with that browser's own valid form).
    const { ua: a, box: boxA } = await signInBox();
    const { ua: b, box: boxB } = await signInBox();
    const optionsForA = await ceremonyOptions(a, boxA);
    const answer = await postJson(b, boxB.action, { ...boxB.fields, response: person.authenticator.assert(optionsForA as never) });
    assert.equal(answer.body.error, 'passkey_refused');
    assert.equal(b.cookies.has(SESSION_COOKIE), false);
    // An expired challenge (five minutes) answers nothing either.
    const { ua: late, box: lateBox } = await signInBox();
    const options = await ceremonyOptions(late, lateBox);
    clock.advance('6m');
    const stale = await postJson(late, lateBox.action, { ...lateBox.fields, response: person.authenticator.assert(options as never) });
    assert.equal(stale.body.error, 'passkey_refused');
  });

  it("refuses another person's passkey as a second factor, and a user handle that is not the owner's", async () => {
    const mallory = await enrolledPerson('pk-mallory@example.com');
    const victim = await enrolledPerson('pk-victim@example.com');
    const ua = new UserAgent();
    const asked = await consoleSignIn(server, victim.email, TEST_PASSWORD, ua);
    const box = passkeyBox(asked, '/sign-in/second-factor/passkey');
    const options = await ceremonyOptions(ua, box);
    const response = mallory.authenticator.assert({ ...(options as { challenge: string }), allowCredentials: [] });
    const answer = await postJson(ua, box.action, { ...box.fields, response });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error, 'passkey_refused');
    assert.equal(ua.cookies.has(SESSION_COOKIE), false);
    assert.equal(await failures(victim.user.id, 'passkey_not_yours'), 1);
    const { ua: other, box: signIn } = await signInBox();
    const swapped = await ceremony(other, signIn, mallory.authenticator, { userHandle: victim.authenticator.credentials[0]!.userHandle });
    assert.equal(swapped.body.error, 'passkey_refused', "the user handle must be the credential owner's");
  });

  it('refuses a counter that goes backwards (a cloned authenticator) and keeps the newest', async () => {
    const person = await enrolledPerson('pk-clone@example.com');
    const first = await signInBox();
    assert.equal((await ceremony(first.ua, first.box, person.authenticator, { counter: 10 })).status, 200);
    const clone = await signInBox();
    const cloned = await ceremony(clone.ua, clone.box, person.authenticator, { counter: 7 });
    assert.equal(cloned.status, 401);
    assert.equal(cloned.body.error, 'passkey_refused');
    const same = await signInBox();
    assert.equal((await ceremony(same.ua, same.box, person.authenticator, { counter: 10 })).body.error, 'passkey_refused', 'an equal counter too');
    assert.equal((await server.store.passkeys.find(person.authenticator.credentials[0]!.id))?.counter, 10);
    assert.equal(await failures(person.user.id, 'passkey_counter_regression'), 2);
    const next = await signInBox();
    assert.equal((await ceremony(next.ua, next.box, person.authenticator, { counter: 11 })).status, 200);
  });

  it('goes only where the page said: a tampered continuation is a forged form', async () => {
    const person = await enrolledPerson('pk-next@example.com');
    const { ua, box } = await signInBox();
    const options = await postJson(ua, box.options, { ...box.fields, next: '/account/keys' });
    assert.equal(options.body.error, 'csrf_failed');
    const withResume = await postJson(ua, box.options, { ...box.fields, resume: 'interaction:someone-else' });
    assert.equal(withResume.body.error, 'csrf_failed');
    const open = await postJson(ua, box.options, { ...box.fields, next: '//evil.example/' });
    assert.equal(open.body.error, 'csrf_failed');
    const foreign = await postJson(ua, box.options, box.fields, 'https://evil.example');
    assert.equal(foreign.body.error, 'csrf_failed', 'a post from another origin');
    assert.equal((await ceremony(ua, box, person.authenticator)).status, 200);
  });

  it('refuses a disabled account', async () => {
    const person = await enrolledPerson('pk-disabled@example.com');
    await server.store.users.setDisabled(person.user.id, clock.now());
    const { ua, box } = await signInBox();
    const answer = await ceremony(ua, box, person.authenticator);
    assert.equal(answer.body.error, 'passkey_refused');
    assert.equal(answer.body.reason, 'disabled');
    assert.equal(ua.cookies.has(SESSION_COOKIE), false);
  });

  it('lets a member of an organization that requires MFA enrol a passkey at sign-in', async () => {
    const strict = await server.store.orgs.create({ slug: 'pk-strict', name: 'Strict' });
    await server.addUser('pk-strict-owner@example.com', TEST_PASSWORD, { org: strict, role: 'owner' });
    const member = await server.addUser('pk-required@example.com', TEST_PASSWORD, { org: strict, role: 'member' });
    const owner = await adminClient(server, 'pk-strict-owner@example.com', false);
    assert.equal((await owner.call('PATCH', '/orgs/pk-strict', { settings: { requireMfa: true } })).status, 200);
    const ua = new UserAgent();
    const enrol = await consoleSignIn(server, 'pk-required@example.com', TEST_PASSWORD, ua);
    assert.match(enrol.url, /\/sign-in\/enrol$/);
    const authenticator = new SoftAuthenticator(server.url);
    const answer = await ceremony(ua, passkeyBox(enrol, '/sign-in/enrol/passkey'), authenticator, {}, { name: 'Phone' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.ok(ua.cookies.has(SESSION_COOKIE));
    assert.equal((await server.store.passkeys.forUser(member.id))[0]?.name, 'Phone');
    assert.deepEqual(await amrs(member.id), [['pwd', 'hwk', 'mfa']]);
    // Next time: the passkey is the second factor.
    const next = await consoleSignIn(server, 'pk-required@example.com', TEST_PASSWORD, new UserAgent());
    assert.match(next.url, /\/sign-in\/second-factor$/);
  });

  it('needs a recent sign-in to add or remove a passkey; removing one is audited and ends its use', async () => {
    const person = await enrolledPerson('pk-remove@example.com');
    clock.advance('16m');
    const page = await person.ua.follow(`${server.url}/account/mfa`);
    const late = await postJson(person.ua, passkeyBox(page, '/account/passkeys/add').options, passkeyBox(page, '/account/passkeys/add').fields);
    assert.equal(late.status, 401);
    assert.equal(late.body.error, 'reauthentication_required');
    const stale = await person.ua.submit(page, /\/account\/passkeys\/remove$/, {});
    assert.match(stale.url, /done=sign-in-again/);
    assert.equal((await server.store.passkeys.forUser(person.user.id)).length, 1);
    const ua = new UserAgent();
    const asked = await consoleSignIn(server, person.email, TEST_PASSWORD, ua);
    assert.equal((await ceremony(ua, passkeyBox(asked, '/sign-in/second-factor/passkey'), person.authenticator)).status, 200);
    const fresh = await ua.follow(`${server.url}/account/mfa`);
    const confirming = await ua.submit(fresh, /\/account\/passkeys\/remove$/, {});
    assert.equal((await server.store.passkeys.forUser(person.user.id)).length, 1, 'the first post only asks (console/confirm.ts)');
    const removed = await ua.submit(confirming, /\/account\/passkeys\/remove$/, {});
    assert.match(removed.url, /done=passkey-removed/);
    assert.match(removed.body, /data-testid="passkeys-none"/);
    const { ua: other, box } = await signInBox();
    assert.equal((await ceremony(other, box, person.authenticator)).body.error, 'passkey_refused', 'a removed passkey signs no one in');
    const forged = await ua.request(`${server.url}/account/passkeys/remove`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(server.url).origin }, body: 'id=x' });
    assert.equal(forged.status, 403, 'no CSRF token: refused');
  });
});

describe('passkeys and requireSso', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      identityProviders: [
        { id: 'corp', type: 'oidc', name: 'Corp SSO', issuer: 'https://idp.corp.invalid', clientId: 'portcullis', clientSecret: 'secret', organization: 'corp', domains: ['corp.test'], requireSso: true },
      ],
    });
  });
  after(() => server?.stop());

  it('refuses a passkey of a member whose organization signs in only through its IdP, and says where to go', async () => {
    const user = await server.addUser('pk-sso@example.com');
    const ua = new UserAgent();
    await consoleSignIn(server, user.email, TEST_PASSWORD, ua);
    const authenticator = new SoftAuthenticator(server.url);
    const added = await ceremony(ua, passkeyBox(await ua.follow(`${server.url}/account/mfa`), '/account/passkeys/add'), authenticator);
    assert.equal(added.status, 200, JSON.stringify(added.body));
    // Then the person joins the organization whose connection has requireSso.
    const corp = (await server.store.orgs.bySlug('corp')) ?? (await server.store.orgs.create({ slug: 'corp', name: 'Corp' }));
    await server.store.orgs.addMember(corp.id, user.id, 'member', Math.floor(Date.now() / 1000));
    const other = new UserAgent();
    const answer = await ceremony(other, passkeyBox(await other.follow(`${server.url}/login`), '/passkeys/sign-in'), authenticator);
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error, 'sso_required');
    assert.match(String(answer.body.location), /^\/sso\/corp\/start\?/);
    assert.equal(other.cookies.has(SESSION_COOKIE), false);
  });
});
