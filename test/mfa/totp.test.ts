/**
 * TOTP as a second factor (RFC 6238), end to end against a real server: enrolment at
 * /account/mfa (QR code, secret, a code to confirm, ten recovery codes shown once; the secret
 * stored sealed), then every password sign-in asks for the code before a session exists — the
 * authorization flow (the token's `amr` names otp, RFC 8176, and its `acr` the MFA level), the
 * console and the device page. Wrong, replayed and used-up codes are refused with stable codes
 * and counted by the sign-in limiter; an organization that requires MFA sends a member without it
 * to enrol first. The server's clock is moved instead of sleeping.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../../src/web/session.ts';
import { authorizationUrl, assertTokens, redeemCode, registerPublic, type RegisteredClient } from '../helpers/authz.ts';
import { testClock } from '../helpers/clock.ts';
import { adminClient } from '../admin/support.ts';
import { approveDeviceOverHttp, pollDeviceToken, startDeviceAuthorization } from '../helpers/device.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { checkboxValues, UserAgent, type PageResponse } from '../helpers/user-agent.ts';
import { consoleSignIn, enrolAtAccount, jwtClaims, pageCode, recoveryCodesOn, totpCode, type Enrolled } from './support.ts';

const ACR_MFA = 'urn:portcullis:acr:mfa';

describe('TOTP second factor', () => {
  const clock = testClock();
  let server: TestServer;
  let client: RegisteredClient;

  before(async () => {
    server = await startTestServer({}, { clock });
    client = await registerPublic(server);
  });
  after(() => server?.stop());

  /** A new person, signed in with the password, who turns TOTP on at /account/mfa. */
  async function enrolledPerson(email: string): Promise<Enrolled & { email: string }> {
    await server.addUser(email);
    const ua = new UserAgent();
    const home = await consoleSignIn(server, email, TEST_PASSWORD, ua);
    assert.equal(home.status, 200);
    return { email, ...(await enrolAtAccount(server, clock, ua)) };
  }

  /** Open an authorization in a fresh browser and give the password: the page that follows. */
  async function authorizeWithPassword(email: string) {
    const ua = new UserAgent();
    const auth = authorizationUrl(server, client);
    const atClient = (location: string) => location.replace(/:\d+(?=\/)/, '').startsWith(auth.redirectUri.replace(/:\d+(?=\/)/, ''));
    const signIn = await ua.follow(auth.url, atClient);
    const next = await ua.submit(signIn, /\/login$/, { email, password: TEST_PASSWORD }, atClient);
    return { ua, auth, atClient, page: next };
  }

  const submitCode = (ua: UserAgent, page: PageResponse, code: string, stopAt?: (l: string) => boolean) => ua.submit(page, /\/sign-in\/second-factor$/, { code }, stopAt);

  it('enrols with a QR code and a confirming code; the secret is stored sealed and ten recovery codes are shown once', async () => {
    const person = await enrolledPerson('totp-enrol@example.com');
    assert.equal(person.recoveryCodes.length, 10);
    assert.equal(new Set(person.recoveryCodes).size, 10);
    const status = await person.ua.follow(`${server.url}/account/mfa`);
    assert.match(status.body, /data-testid="mfa-status" data-code="on"/);
    assert.ok(!recoveryCodesOn(status).length, 'the codes are not shown again');
    const user = await server.store.users.findByEmail(person.email);
    const factor = await server.store.mfa.findTotp(user!.id);
    assert.ok(factor?.confirmedAt, 'confirmed');
    assert.ok(!factor.secretSealed.includes(person.secret), 'the secret is not kept in clear');
    assert.match(factor.secretSealed, /^v1\./, 'a sealed envelope');
  });

  it('a wrong confirming code leaves TOTP off', async () => {
    await server.addUser('totp-typo@example.com');
    const ua = new UserAgent();
    await consoleSignIn(server, 'totp-typo@example.com', TEST_PASSWORD, ua);
    const setup = await ua.submit(await ua.follow(`${server.url}/account/mfa`), /\/account\/mfa\/setup$/, {});
    const wrong = await ua.submit(setup, /\/account\/mfa\/confirm$/, { code: '000000' === totpCode(/data-secret="([A-Z2-7]+)"/.exec(setup.body)![1]!, clock) ? '111111' : '000000' });
    assert.equal(wrong.status, 400);
    assert.equal(pageCode(wrong), 'wrong_otp');
    const user = await server.store.users.findByEmail('totp-typo@example.com');
    assert.equal((await server.store.mfa.findTotp(user!.id))?.confirmedAt, null);
  });

  it('asks for the code in the authorization flow; the token carries amr otp and the MFA acr', async () => {
    const person = await enrolledPerson('totp-authorize@example.com');
    clock.advance(30);
    const flow = await authorizeWithPassword(person.email);
    assert.equal(flow.page.status, 200);
    assert.match(flow.page.url, /\/sign-in\/second-factor$/);
    assert.equal(flow.ua.cookies.has(SESSION_COOKIE), false, 'no session before the second factor');
    const consent = await submitCode(flow.ua, flow.page, totpCode(person.secret, clock), flow.atClient);
    assert.ok(consent.body.includes('/consent"'), `the consent page, got ${consent.status} ${consent.url}`);
    const callback = await flow.ua.submit(consent, /\/consent$/, { decision: 'approve', grant: checkboxValues(consent.body, 'grant') }, flow.atClient);
    const code = new URL(callback.url).searchParams.get('code');
    assert.ok(code, `a code at the client: ${callback.url}`);
    const tokens = assertTokens(await redeemCode(server, client, { code, pkce: flow.auth.pkce, redirectUri: flow.auth.redirectUri }, { resource: server.mcpUrl }));
    const claims = jwtClaims(tokens.access_token);
    assert.ok((claims.amr as string[]).includes('otp'), `amr: ${JSON.stringify(claims.amr)}`);
    assert.ok((claims.amr as string[]).includes('pwd'));
    assert.equal(claims.acr, ACR_MFA);
  });

  it('refuses a wrong code (wrong_otp) and the same code twice (otp_reused)', async () => {
    const person = await enrolledPerson('totp-replay@example.com');
    clock.advance(30);
    const code = totpCode(person.secret, clock);
    const first = await authorizeWithPassword(person.email);
    const wrong = await submitCode(first.ua, first.page, code === '123456' ? '654321' : '123456', first.atClient);
    assert.equal(wrong.status, 401);
    assert.equal(pageCode(wrong), 'wrong_otp');
    const ok = await submitCode(first.ua, wrong, code, first.atClient);
    assert.ok(ok.body.includes('/consent"'), 'the right code after a wrong one goes on');
    // Another browser, the same code within its window: refused (RFC 6238 §5.2).
    const second = await authorizeWithPassword(person.email);
    const replay = await submitCode(second.ua, second.page, code, second.atClient);
    assert.equal(replay.status, 401);
    assert.equal(pageCode(replay), 'otp_reused');
    assert.equal(second.ua.cookies.has(SESSION_COOKIE), false);
    await server.audit.flush();
    const user = await server.store.users.findByEmail(person.email);
    const failed = await server.store.audit.list({ kind: 'signin.failed', subject: user!.id });
    assert.ok(failed.some((e) => e.reason === 'wrong_otp'), 'the wrong code is on the record');
  });

  it('accepts a recovery code once', async () => {
    const person = await enrolledPerson('totp-recovery@example.com');
    const recovery = person.recoveryCodes[3]!;
    const first = await authorizeWithPassword(person.email);
    const ok = await submitCode(first.ua, first.page, recovery.toUpperCase(), first.atClient);
    assert.ok(ok.body.includes('/consent"'), 'a recovery code (any case) signs in');
    const second = await authorizeWithPassword(person.email);
    const again = await submitCode(second.ua, second.page, recovery, second.atClient);
    assert.equal(again.status, 401);
    assert.equal(pageCode(again), 'wrong_otp');
  });

  it('locks the second step after repeated wrong codes (429 + Retry-After), even for the right code', async () => {
    const person = await enrolledPerson('totp-lock@example.com');
    clock.advance(30);
    const flow = await authorizeWithPassword(person.email);
    let page = flow.page;
    const right = totpCode(person.secret, clock);
    const wrongCode = right === '000000' ? '000001' : '000000';
    // Five free failures, the sixth locks (the sign-in limiter's policy): the seventh try is refused.
    for (let i = 0; i < 7; i++) page = await submitCode(flow.ua, page, wrongCode, flow.atClient);
    assert.equal(page.status, 429);
    assert.equal(pageCode(page), 'too_many_attempts');
    assert.ok(Number(page.headers.get('retry-after')) > 0);
    const locked = await submitCode(flow.ua, page, right, flow.atClient);
    assert.equal(locked.status, 429);
    assert.equal(flow.ua.cookies.has(SESSION_COOKIE), false);
  });

  it('asks for the code at the console sign-in, and the pending sign-in is single-use', async () => {
    const person = await enrolledPerson('totp-console@example.com');
    clock.advance(30);
    const ua = new UserAgent();
    const asked = await consoleSignIn(server, person.email, TEST_PASSWORD, ua);
    assert.match(asked.url, /\/sign-in\/second-factor$/);
    assert.equal(ua.cookies.has(SESSION_COOKIE), false);
    const home = await submitCode(ua, asked, totpCode(person.secret, clock));
    assert.equal(home.status, 200);
    assert.ok(ua.cookies.has(SESSION_COOKIE), 'signed in');
    const account = await ua.follow(`${server.url}/account`);
    assert.equal(account.status, 200);
    const sessions = await server.store.sessions.listForUser((await server.store.users.findByEmail(person.email))!.id);
    assert.deepEqual(sessions[0]!.amr, ['pwd', 'otp', 'mfa']);
    // The pending sign-in is gone once used.
    const reused = await ua.follow(`${server.url}/sign-in/second-factor`);
    assert.equal(reused.status, 410);
    assert.equal(pageCode(reused), 'signin_expired');
  });

  it('asks for the code on the device page before the approval', async () => {
    const person = await enrolledPerson('totp-device@example.com');
    clock.advance(30);
    const device = await startDeviceAuthorization(server);
    const stopped = await approveDeviceOverHttp(server, device.user_code, { email: person.email, password: TEST_PASSWORD });
    assert.match(stopped.page.url, /\/sign-in\/second-factor$/, 'the second step, not the confirmation');
    const afterCode = await submitCode(stopped.ua, stopped.page, totpCode(person.secret, clock));
    assert.match(afterCode.body, /<form id="device-confirm"/);
    const approved = await approveDeviceOverHttp(server, device.user_code, { email: person.email, password: TEST_PASSWORD, ua: stopped.ua });
    assert.match(approved.page.body, /<main id="device-approved"/);
    clock.advance(device.interval);
    const tokens = assertTokens(await pollDeviceToken(server, device.device_code));
    const claims = jwtClaims(tokens.access_token);
    assert.ok((claims.amr as string[]).includes('otp'));
    assert.equal(claims.acr, ACR_MFA);
  });

  it('asks for the code when someone with TOTP signs in on an invitation page', async () => {
    const person = await enrolledPerson('totp-invited@example.com');
    const beta = await server.store.orgs.create({ slug: 'beta', name: 'Beta' });
    await server.addUser('beta-owner@example.com', TEST_PASSWORD, { org: beta, role: 'owner' });
    const owner = await adminClient(server, 'beta-owner@example.com', false);
    const invited = await owner.call('POST', '/orgs/beta/invitations', { email: person.email, role: 'member' });
    assert.equal(invited.status, 201, JSON.stringify(invited.body));
    clock.advance(30);
    const ua = new UserAgent();
    const offer = await ua.follow(String(invited.body.link));
    const asked = await ua.submit(offer, /\/invitations\/[^/]+$/, { password: TEST_PASSWORD });
    assert.match(asked.url, /\/sign-in\/second-factor$/);
    assert.equal(ua.cookies.has(SESSION_COOKIE), false);
    await submitCode(ua, asked, totpCode(person.secret, clock));
    assert.ok(ua.cookies.has(SESSION_COOKIE), 'signed in after the code');
    const user = await server.store.users.findByEmail(person.email);
    assert.ok((await server.store.orgs.forUser(user!.id)).some((o) => o.slug === 'beta'), 'joined');
  });

  it('turns TOTP off only with a current code or the password', async () => {
    const person = await enrolledPerson('totp-off@example.com');
    const page = await person.ua.follow(`${server.url}/account/mfa`);
    const refused = await person.ua.submit(page, /\/account\/mfa\/disable$/, { proof: 'not my password' });
    assert.equal(refused.status, 401);
    assert.equal(pageCode(refused), 'wrong_proof');
    const off = await person.ua.submit(page, /\/account\/mfa\/disable$/, { proof: TEST_PASSWORD });
    assert.match(off.body, /data-testid="mfa-status" data-code="off"/);
    clock.advance(30);
    const again = await consoleSignIn(server, person.email, TEST_PASSWORD);
    assert.doesNotMatch(again.url, /second-factor/, 'no second step once off');
  });

  it('makes new recovery codes with a current code; the old ones stop working', async () => {
    const person = await enrolledPerson('totp-newcodes@example.com');
    clock.advance(30);
    const page = await person.ua.follow(`${server.url}/account/mfa`);
    const fresh = await person.ua.submit(page, /\/account\/mfa\/recovery-codes$/, { proof: totpCode(person.secret, clock) });
    const codes = recoveryCodesOn(fresh);
    assert.equal(codes.length, 10);
    const old = await authorizeWithPassword(person.email);
    assert.equal(pageCode(await submitCode(old.ua, old.page, person.recoveryCodes[0]!, old.atClient)), 'wrong_otp');
    const ok = await submitCode(old.ua, old.page, codes[0]!, old.atClient);
    assert.ok(ok.body.includes('/consent"'));
  });

  it('sends a member of an organization that requires MFA to enrol before the session exists', async () => {
    const strict = await server.store.orgs.create({ slug: 'strict', name: 'Strict' });
    await server.addUser('strict-owner@example.com', TEST_PASSWORD, { org: strict, role: 'owner' });
    await server.addUser('totp-required@example.com', TEST_PASSWORD, { org: strict, role: 'member' });
    // The owner turns the requirement on through the admin API (PATCH /orgs/:org settings).
    const owner = await adminClient(server, 'strict-owner@example.com', false);
    const set = await owner.call('PATCH', '/orgs/strict', { settings: { requireMfa: true } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal((await server.store.orgs.get(strict.id))?.settings.requireMfa, true);
    assert.equal((await owner.call('PATCH', '/orgs/strict', { settings: { requireMfa: 'yes' } })).status, 400);
    await owner.call('PATCH', '/orgs/strict', { settings: { requireMfa: true } });
    const ua = new UserAgent();
    const enrol = await consoleSignIn(server, 'totp-required@example.com', TEST_PASSWORD, ua);
    assert.match(enrol.url, /\/sign-in\/enrol$/);
    assert.equal(ua.cookies.has(SESSION_COOKIE), false);
    assert.equal((await ua.follow(`${server.url}/account`)).url.includes('/login'), true, 'not signed in yet');
    const secret = /data-secret="([A-Z2-7]+)"/.exec(enrol.body)?.[1];
    assert.ok(secret);
    const done = await ua.submit(enrol, /\/sign-in\/enrol$/, { code: totpCode(secret, clock) });
    assert.equal(done.status, 200);
    assert.equal(recoveryCodesOn(done).length, 10);
    assert.ok(ua.cookies.has(SESSION_COOKIE), 'signed in after the confirming code');
    const user = await server.store.users.findByEmail('totp-required@example.com');
    assert.ok((await server.store.mfa.findTotp(user!.id))?.confirmedAt);
    await server.audit.flush();
    const kinds = (await server.store.audit.list({ subject: user!.id })).map((e) => `${e.kind}:${e.reason ?? ''}`);
    assert.ok(kinds.includes('mfa.enrolled:totp'), kinds.join(' '));
    assert.ok(kinds.includes('signin.succeeded:totp'), kinds.join(' '));
  });
});
