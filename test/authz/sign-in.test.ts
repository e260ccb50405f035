/**
 * The sign-in page of an authorization: one generic failure whether the e-mail is unknown or the
 * password wrong (no account enumeration, by answer or by timing); repeated failures lock the
 * account — and an unknown e-mail alike — with 429 and Retry-After, and a flood from one address
 * locks that address; every form needs its CSRF token, bound to this browser and this sign-in,
 * and is refused from a foreign Origin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../../src/web/session.ts';
import { authorizationUrl, registerPublic, type RegisteredClient } from '../helpers/authz.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { findForm, UserAgent, type PageResponse } from '../helpers/user-agent.ts';

const atClient = (location: string) => location.startsWith('http://127.0.0.1:');

interface SignInPage {
  ua: UserAgent;
  page: PageResponse;
}

/** Open an authorization in a fresh browser and stop at the sign-in page. */
async function openSignIn(server: TestServer, client: RegisteredClient, ua = new UserAgent()): Promise<SignInPage> {
  const page = await ua.follow(authorizationUrl(server, client).url, atClient);
  assert.equal(page.status, 200);
  assert.ok(page.body.includes('/login"'), 'the sign-in page');
  return { ua, page };
}

/** Post a form of `page` with exactly these fields and headers (no hidden fields added). */
async function post(at: SignInPage, action: RegExp, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<PageResponse> {
  const form = findForm(at.page.body, action);
  return at.ua.request(new URL(form.action, at.page.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(at.page.url).origin, ...headers },
    body: new URLSearchParams(fields),
  });
}

/** Submit the sign-in form as a person would (its hidden CSRF field included). */
function signInWith(at: SignInPage, email: string, password: string): Promise<PageResponse> {
  const { hidden } = findForm(at.page.body, /\/login$/);
  return post(at, /\/login$/, { ...hidden, email, password });
}

/** After a refused form, the browser is still at the sign-in step: nothing was signed in. */
async function stillSignedOut(at: SignInPage) {
  const again = await at.ua.follow(at.page.url, atClient);
  assert.equal(again.status, 200);
  assert.ok(again.body.includes('/login"'), 'still asked to sign in');
  assert.equal(at.ua.cookies.has(SESSION_COOKIE), false, 'no session cookie');
}

describe('sign-in during an authorization', () => {
  let server: TestServer;
  let lockServer: TestServer;
  let floodServer: TestServer;
  let client: RegisteredClient;
  let lockClient: RegisteredClient;
  let floodClient: RegisteredClient;

  before(async () => {
    [server, lockServer, floodServer] = await Promise.all([startTestServer(), startTestServer(), startTestServer()]);
    [client, lockClient, floodClient] = await Promise.all([registerPublic(server), registerPublic(lockServer), registerPublic(floodServer)]);
  });
  after(() => Promise.all([server?.stop(), lockServer?.stop(), floodServer?.stop()]));

  it('answers a wrong password and an unknown e-mail identically, then accepts the right password', async () => {
    const at = await openSignIn(server, client);
    const wrongPassword = await signInWith(at, server.user.email, 'not the password');
    const unknownEmail = await signInWith(at, 'nobody@example.com', 'not the password');
    assert.equal(wrongPassword.status, 401);
    assert.equal(unknownEmail.status, 401);
    // The form keeps what the person typed (so they need not type it again), and apart from that
    // echo the two answers are the same page, word for word: nothing tells whether the account exists.
    assert.ok(wrongPassword.body.includes(`value="${server.user.email}"`), 'the typed e-mail is kept in the form');
    const typedOut = (body: string, email: string) => body.replaceAll(`value="${email}"`, 'value="…"');
    assert.equal(typedOut(unknownEmail.body, 'nobody@example.com'), typedOut(wrongPassword.body, server.user.email), 'the same page, word for word');
    assert.ok(wrongPassword.body.includes('role="alert"'), 'an error is shown');
    // E-mail case and surrounding spaces do not make a difference either.
    const ok = await signInWith(at, `  ${server.user.email.toUpperCase()} `, TEST_PASSWORD);
    assert.equal(ok.status, 303, 'signed in, on to consent');
  });

  it('takes as long for an unknown e-mail as for a wrong password', async () => {
    const known = await Promise.all([1, 2, 3, 4, 5].map((i) => server.addUser(`timing${i}@example.com`)));
    const at = await openSignIn(server, client);
    const timeOf = async (email: string) => {
      const started = performance.now();
      const res = await signInWith(at, email, 'not the password');
      assert.equal(res.status, 401);
      return performance.now() - started;
    };
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (const [i, user] of known.entries()) {
      knownTimes.push(await timeOf(user.email));
      unknownTimes.push(await timeOf(`ghost${i}@example.com`));
    }
    const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[2]!;
    // Without a decoy hash an unknown e-mail would answer in a small fraction of the time.
    assert.ok(median(unknownTimes) > median(knownTimes) * 0.4, `unknown ${median(unknownTimes)} ms vs known ${median(knownTimes)} ms`);
  });

  it('locks an account after repeated failures (429 + Retry-After), even for the right password', async () => {
    const victim = await lockServer.addUser('victim@example.com');
    const at = await openSignIn(lockServer, lockClient);
    for (let i = 1; i <= 6; i++) assert.equal((await signInWith(at, victim.email, `guess ${i}`)).status, 401, `attempt ${i}`);
    const locked = await signInWith(at, victim.email, 'guess 7');
    assert.equal(locked.status, 429);
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 30, `Retry-After: ${locked.headers.get('retry-after')}`);
    const right = await signInWith(at, victim.email, TEST_PASSWORD);
    assert.equal(right.status, 429, 'not even the right password gets through while locked');
    // Another browser does not get around it: the lock is on the account.
    assert.equal((await signInWith(await openSignIn(lockServer, lockClient), victim.email, TEST_PASSWORD)).status, 429);
  });

  it('locks an unknown e-mail the same way, so the lock reveals nothing', async () => {
    const at = await openSignIn(lockServer, lockClient);
    for (let i = 1; i <= 6; i++) assert.equal((await signInWith(at, 'ghost@example.com', `guess ${i}`)).status, 401, `attempt ${i}`);
    const locked = await signInWith(at, 'ghost@example.com', 'guess 7');
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    // Other accounts are not locked by it.
    const fine = await signInWith(await openSignIn(lockServer, lockClient), lockServer.user.email, TEST_PASSWORD);
    assert.equal(fine.status, 303);
  });

  it('locks an address that sprays many accounts (429 + Retry-After)', async () => {
    const at = await openSignIn(floodServer, floodClient);
    let locked: PageResponse | undefined;
    for (let i = 1; i <= 40 && !locked; i++) {
      const res = await signInWith(at, `spray${i}@example.com`, 'Winter2026!');
      // Each failure is 401 — until the address is locked out, then 429.
      if (res.status === 429) locked = res;
      else assert.equal(res.status, 401, `attempt ${i}`);
    }
    assert.ok(locked, 'a flood of failures from one address is stopped');
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
  });

  it('refuses a sign-in form without its CSRF token', async () => {
    const at = await openSignIn(server, client);
    const res = await post(at, /\/login$/, { email: server.user.email, password: TEST_PASSWORD });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('location'), null);
    await stillSignedOut(at);
  });

  it("refuses a CSRF token taken from another browser (login CSRF: the attacker's own session)", async () => {
    const victim = await openSignIn(server, client);
    const attacker = await openSignIn(server, client);
    const { hidden: attackerFields } = findForm(attacker.page.body, /\/login$/);
    // The attacker's valid token, posted from the victim's browser to the victim's sign-in.
    const res = await post(victim, /\/login$/, { ...attackerFields, email: server.user.email, password: TEST_PASSWORD });
    assert.equal(res.status, 403);
    await stillSignedOut(victim);
    // The victim's own token is bound to its sign-in: it does not work for another one either.
    const second = await openSignIn(server, client, victim.ua);
    const { hidden: firstFields } = findForm(victim.page.body, /\/login$/);
    assert.equal((await post(second, /\/login$/, { ...firstFields, email: server.user.email, password: TEST_PASSWORD })).status, 403);
  });

  it('refuses forms posted from a foreign Origin, even with a valid token', async () => {
    for (const origin of ['https://evil.example', 'null', `${new URL(server.url).protocol}//evil.${new URL(server.url).host}`]) {
      const at = await openSignIn(server, client);
      const { hidden } = findForm(at.page.body, /\/login$/);
      const res = await post(at, /\/login$/, { ...hidden, email: server.user.email, password: TEST_PASSWORD }, { origin });
      assert.equal(res.status, 403, origin);
      await stillSignedOut(at);
    }
    // The consent form and the cancel button too.
    const at = await openSignIn(server, client);
    const consent = await signInWith(at, server.user.email, TEST_PASSWORD);
    const consentPage = await at.ua.follow(new URL(consent.headers.get('location')!, at.page.url).href, atClient);
    assert.ok(consentPage.body.includes('/consent"'));
    const onConsent: SignInPage = { ua: at.ua, page: consentPage };
    const { hidden } = findForm(consentPage.body, /\/consent$/);
    const forged = await post(onConsent, /\/consent$/, { ...hidden, decision: 'approve' }, { origin: 'https://evil.example' });
    assert.equal(forged.status, 403);
    assert.equal(forged.headers.get('location'), null, 'no code was sent anywhere');
    const noToken = await post(onConsent, /\/consent$/, { decision: 'approve' });
    assert.equal(noToken.status, 403);
    const fresh = await openSignIn(server, client);
    assert.equal((await post(fresh, /\/abort$/, {})).status, 403, 'cancel needs its token too');
  });
});
