/**
 * Step-up that needs a second factor (`stepUp: { maxAge, mfa: true }`), end to end with the real
 * MCP SDK v2 client through the gateway, and with the authorization server alone for a client that
 * asks for the second factor itself (RFC 9470 §4 `acr_values`):
 *
 * - the sensitive call is answered 403 `insufficient_scope` naming the step-up scope plus RFC 9470's
 *   `insufficient_user_authentication` with `acr_values="urn:portcullis:acr:mfa"` and `max_age`;
 * - re-authorizing asks for the password and then the TOTP code; the token's `acr` is the MFA one
 *   and the call goes through;
 * - a password alone never gets the step-up scope (no code reaches the client);
 * - once the sign-in is older than maxAge the call is refused again;
 * - `acr_values` at /authorize asks for the second factor (and leads someone without one to enrol);
 *   a person signed in recently with a password is asked only for the second factor.
 *
 * The server's clock is moved instead of sleeping; TOTP codes are computed at that clock.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { assertTokens, authorizationUrl, redeemCode, registerPublic, serverTargets, type RegisteredClient } from '../helpers/authz.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { assertNoServerErrors, createMcpClient, requestedScope, type Exchange, type McpTestClient } from '../helpers/mcp-clients.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { checkboxValues, UserAgent, type PageResponse } from '../helpers/user-agent.ts';
import { consoleSignIn, enrolAtAccount, totpCode } from '../mfa/support.ts';
import { parseChallenges, startRecordingUpstream, type Challenge, type RecordingUpstream } from './conditions-fixture.ts';

/** RFC 9470 §4's example ACR for our second factor (authz/protocol.ts ACR_MFA, as documented in the README). */
const ACR_MFA = 'urn:portcullis:acr:mfa';
const ACR_PASSWORD = 'urn:portcullis:acr:pwd';
const MAX_AGE = 300;

const wire = (exchanges: readonly Exchange[]) =>
  exchanges
    .filter((e) => !(e.method === 'GET' || e.method === 'DELETE') || !e.url.pathname.startsWith('/mcp/'))
    .map((e) => [e.method, e.url.pathname, e.rpc ?? e.grantType, e.status].filter((part) => part !== undefined).join(' '));

const claimsOf = (client: McpTestClient) => decodeJwt(client.provider.currentTokens!.access_token);
const hasLoginForm = (page: PageResponse) => page.body.includes('/login"');
const hasCodeForm = (page: PageResponse) => page.body.includes('/sign-in/second-factor"');

/** The two challenges of a step-up 403, the RFC 9470 one naming the second factor. */
function assertMfaChallenge(exchange: Exchange, scope: string): void {
  assert.equal(exchange.status, 403);
  const [first, second] = parseChallenges(exchange.wwwAuthenticate!) as [Challenge, Challenge];
  assert.equal(first.params.error, 'insufficient_scope');
  assert.equal(first.params.scope, scope);
  assert.equal(second.params.error, 'insufficient_user_authentication');
  assert.equal(second.params.acr_values, ACR_MFA);
  assert.equal(second.params.max_age, String(MAX_AGE));
}

/** Move the clock past the max age of a sign-in at `authTime` (and past the TOTP step just used). */
function untilStale(clock: TestClock, authTime: number): void {
  clock.advance(Math.max(31, authTime + MAX_AGE + 1 - clock.now()));
}

async function untilListed(client: McpTestClient, tool: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await client.toolNames()).includes(tool)) {
    if (Date.now() > deadline) throw new Error(`${tool} never listed`);
    await sleep(50);
  }
}

describe('step-up with a second factor, MCP SDK v2 client', { concurrency: true }, () => {
  for (const target of serverTargets()) {
    describe(`${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
      let server: TestServer;
      const clock = testClock();
      let upstream: RecordingUpstream;
      let client: McpTestClient;
      let secret: string;
      const HELD = 'bank:read bank:write';
      const WITH_STEP_UP = 'bank:read bank:write bank:step-up';
      const otp = () => totpCode(secret, clock);

      before(async () => {
        upstream = await startRecordingUpstream();
        server = await target.start({
          tokens: { accessTokenTtl: 900 },
          applications: [{ slug: 'bank', name: 'Bank', upstream: { url: upstream.url }, autoApprove: true, tools: { move_money: { stepUp: { maxAge: MAX_AGE, mfa: true } } } }],
        }, { clock });
        client = await createMcpClient({ ...server, mcpUrl: `${server.url}/mcp/bank` }, { sdk: 'v2', registration: 'dynamic' });
      });
      after(async () => {
        await client?.close();
        await server?.stop();
        await upstream?.stop();
      });

      it('signs in with the password only (no second factor yet): acr is the password one; other tools work', async () => {
        assert.equal(await client.connect(), 'redirected');
        await client.authorize();
        assert.equal(client.provider.currentTokens!.scope, HELD);
        assert.equal(claimsOf(client).acr, ACR_PASSWORD);
        await untilListed(client, 'move_money');
        assert.equal((await client.call('read_balance')).content[0]!.text, 'read_balance done');
      });

      it('the sensitive call: 403 naming the step-up scope, plus RFC 9470 with acr_values and max_age; never upstream', async () => {
        // The person turns TOTP on meanwhile (in another browser), and the sign-in grows old.
        const ua = new UserAgent();
        await consoleSignIn(server, server.user.email, server.password, ua);
        ({ secret } = await enrolAtAccount(server, clock, ua));
        untilStale(clock, claimsOf(client).auth_time as number);
        const mark = client.mark();
        await assert.rejects(client.call('move_money'), UnauthorizedError);
        const seen = client.since(mark);
        assert.deepEqual(wire(seen), ['POST /mcp/bank tools/call 403']);
        assertMfaChallenge(seen[0]!, WITH_STEP_UP);
        assert.equal(requestedScope(client.provider.pendingAuthorization), `${WITH_STEP_UP} offline_access`);
        assert.ok(!upstream.toolCalls().includes('move_money'));
      });

      it('re-authorizing asks for the password, then the TOTP code; the token says MFA and the call goes through', async () => {
        const { pages } = await client.authorize({ otp });
        assert.ok(pages.some(hasLoginForm), 'the password form');
        assert.ok(pages.some(hasCodeForm), 'then the second factor');
        const tokens = client.provider.currentTokens!;
        assert.equal(tokens.scope, WITH_STEP_UP);
        assert.equal(claimsOf(client).acr, ACR_MFA);
        assert.ok((claimsOf(client).amr as string[]).includes('mfa'));
        assert.equal((await client.call('move_money')).content[0]!.text, 'move_money done');
        assert.equal(upstream.toolCalls().at(-1), 'move_money');
      });

      it('once the sign-in is older than maxAge: refused again (401 RFC 9470 with acr_values → refresh without the scope → 403)', async () => {
        untilStale(clock, claimsOf(client).auth_time as number);
        const calls = upstream.toolCalls().length;
        const mark = client.mark();
        await assert.rejects(client.call('move_money'), UnauthorizedError);
        const seen = client.since(mark);
        assert.deepEqual(wire(seen), ['POST /mcp/bank tools/call 401', 'POST /oauth/token refresh_token 200', 'POST /mcp/bank tools/call 403']);
        const [expired] = parseChallenges(seen[0]!.wwwAuthenticate!) as [Challenge];
        assert.equal(expired.params.error, 'insufficient_user_authentication');
        assert.equal(expired.params.acr_values, ACR_MFA);
        assertMfaChallenge(seen[2]!, WITH_STEP_UP);
        assert.equal(upstream.toolCalls().length, calls);
      });

      it('the password and the code again, and the call goes through again', async () => {
        const { pages } = await client.authorize({ otp });
        assert.ok(pages.some(hasCodeForm));
        assert.equal((await client.call('move_money')).content[0]!.text, 'move_money done');
        assertNoServerErrors(client);
      });

      it('a password alone never gets the step-up: the browser is held at the second factor, no code reaches the client', async () => {
        const other = await registerPublic(server);
        const auth = authorizationUrl({ ...server, mcpUrl: `${server.url}/mcp/bank` }, other, { scope: 'bank:read bank:step-up' });
        const atClient = (location: string) => location.startsWith(auth.redirectUri.replace(/:\d+(?=\/)/, '')) || location.startsWith(auth.redirectUri);
        const ua = new UserAgent();
        const form = await ua.follow(auth.url, atClient);
        const held = await ua.submit(form, /\/login$/, { email: server.user.email, password: server.password }, atClient);
        assert.ok(hasCodeForm(held), `the second factor is asked for: ${held.url}`);
        // Skipping it: straight to the interaction's resume, then the authorization again.
        const uid = /\/interaction\/([^/"]+)\/login"/.exec(form.body)?.[1];
        assert.ok(uid);
        const resumed = await ua.follow(`${server.url}/interaction/${uid}/login/resume`, atClient);
        assert.ok(!atClient(resumed.url), 'no code for the client');
        assert.ok(hasLoginForm(resumed), 'the sign-in is asked for again');
      });

      it('signed in with a password a moment ago (no second factor yet): the step-up leads to enrolment, not to consent', async () => {
        await server.addUser(`recent-${target.dialect}@example.com`);
        const ua = new UserAgent();
        await consoleSignIn(server, `recent-${target.dialect}@example.com`, TEST_PASSWORD, ua);
        const other = await registerPublic(server);
        const bank = { ...server, mcpUrl: `${server.url}/mcp/bank` };
        // A first authorization without the step-up: the engine's session now holds this password sign-in.
        const plain = authorizationUrl(bank, other, { scope: 'bank:read' });
        const consent = await ua.follow(plain.url, (location) => location.startsWith(plain.redirectUri));
        await ua.submit(consent, /\/consent$/, { decision: 'approve', grant: checkboxValues(consent.body, 'grant') }, (location) => location.startsWith(plain.redirectUri));
        const auth = authorizationUrl(bank, other, { scope: 'bank:read bank:step-up' });
        const page = await ua.follow(auth.url, (location) => location.startsWith(auth.redirectUri));
        assert.match(page.url, /\/sign-in\/enrol$/, `the second factor first: ${page.url}`);
      });
    });
  }
});

describe('a client asking for the second factor itself (acr_values, RFC 9470 §4)', () => {
  const clock = testClock();
  let server: TestServer;
  let client: RegisteredClient;
  let secret: string;

  before(async () => {
    server = await startTestServer({}, { clock });
    client = await registerPublic(server);
    const ua = new UserAgent();
    await consoleSignIn(server, server.user.email, server.password, ua);
    ({ secret } = await enrolAtAccount(server, clock, ua));
    clock.advance(31);
  });
  after(() => server?.stop());

  function start(params: Record<string, string>, scope: string | undefined = 'openid') {
    const auth = authorizationUrl(server, client, { scope, params });
    const atClient = (location: string) => location.startsWith(auth.redirectUri.replace(/:\d+(?=\/)/, '')) || location.startsWith(auth.redirectUri);
    return { auth, atClient };
  }

  async function approve(ua: UserAgent, page: PageResponse, atClient: (l: string) => boolean): Promise<URL> {
    const done = page.body.includes('/consent"') ? await ua.submit(page, /\/consent$/, { decision: 'approve' }, atClient) : page;
    assert.ok(atClient(done.url), `at the client: ${done.url}\n${done.body.slice(0, 500)}`);
    return new URL(done.url);
  }

  it('discovery lists the ACRs our sign-ins end in', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { acr_values_supported?: string[] };
    assert.ok(metadata.acr_values_supported?.includes(ACR_MFA));
  });

  it('acr_values=urn:portcullis:acr:mfa: password, then the code; the tokens carry acr MFA', async () => {
    const { auth, atClient } = start({ acr_values: ACR_MFA });
    const ua = new UserAgent();
    const form = await ua.follow(auth.url, atClient);
    const codePage = await ua.submit(form, /\/login$/, { email: server.user.email, password: server.password }, atClient);
    assert.ok(hasCodeForm(codePage));
    const next = await ua.submit(codePage, /\/sign-in\/second-factor$/, { code: totpCode(secret, clock) }, atClient);
    const callback = await approve(ua, next, atClient);
    const tokens = assertTokens(await redeemCode(server, client, { code: callback.searchParams.get('code')!, pkce: auth.pkce, redirectUri: auth.redirectUri }, { resource: server.mcpUrl }));
    assert.equal(decodeJwt(tokens.access_token).acr, ACR_MFA);
    assert.equal(decodeJwt(String(tokens.id_token)).acr, ACR_MFA);
    clock.advance(31);
  });

  it('a person signed in recently with a password only is asked for the second factor alone, not the password', async () => {
    await server.addUser('recent@example.com');
    const ua = new UserAgent();
    await consoleSignIn(server, 'recent@example.com', TEST_PASSWORD, ua);
    const { auth, atClient } = start({ acr_values: ACR_MFA });
    const page = await ua.follow(auth.url, atClient);
    assert.ok(!hasLoginForm(page), 'no password form');
    // No second factor yet and no organization requiring one: led to enrol (TOTP).
    assert.match(page.url, /\/sign-in\/enrol$/);
  });

  it('the same person with the password ACR also acceptable: no second factor asked', async () => {
    const ua = new UserAgent();
    await consoleSignIn(server, 'recent@example.com', TEST_PASSWORD, ua);
    const { atClient, auth } = start({ acr_values: `${ACR_MFA} ${ACR_PASSWORD}` });
    const page = await ua.follow(auth.url, atClient);
    await approve(ua, page, atClient);
  });

  it('an essential acr claim naming MFA asks for the second factor too', async () => {
    const claims = JSON.stringify({ id_token: { acr: { essential: true, value: ACR_MFA } } });
    const { auth, atClient } = start({ claims });
    const ua = new UserAgent();
    const form = await ua.follow(auth.url, atClient);
    const codePage = await ua.submit(form, /\/login$/, { email: server.user.email, password: server.password }, atClient);
    assert.ok(hasCodeForm(codePage));
  });

  it('a plain OAuth client (no openid scope) may send acr_values too (RFC 9470 §4): the same second factor', async () => {
    clock.advance(31);
    const { auth, atClient } = start({ acr_values: ACR_MFA, max_age: String(MAX_AGE) }, undefined);
    const ua = new UserAgent();
    const form = await ua.follow(auth.url, atClient);
    assert.ok(hasLoginForm(form), `the sign-in, not an invalid_request: ${form.url}`);
    const codePage = await ua.submit(form, /\/login$/, { email: server.user.email, password: server.password }, atClient);
    assert.ok(hasCodeForm(codePage));
    const next = await ua.submit(codePage, /\/sign-in\/second-factor$/, { code: totpCode(secret, clock) }, atClient);
    const callback = await approve(ua, next, atClient);
    const tokens = assertTokens(await redeemCode(server, client, { code: callback.searchParams.get('code')!, pkce: auth.pkce, redirectUri: auth.redirectUri }, { resource: server.mcpUrl }));
    assert.equal(decodeJwt(tokens.access_token).acr, ACR_MFA);
  });

  it('…and max_age: a sign-in older than it asks for the password again, a recent one is reused', async () => {
    const ua = new UserAgent();
    await consoleSignIn(server, 'recent@example.com', TEST_PASSWORD, ua);
    clock.advance(120);
    const old = start({ max_age: '60' }, undefined);
    assert.ok(hasLoginForm(await ua.follow(old.auth.url, old.atClient)), 'older than max_age: the form');
    const recent = start({ max_age: '600' }, undefined);
    const page = await ua.follow(recent.auth.url, recent.atClient);
    assert.ok(!hasLoginForm(page), 'within max_age: no password');
    await approve(ua, page, recent.atClient);
  });
});
