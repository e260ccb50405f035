/**
 * Step-up for people who sign in through single sign-on (authz/interaction/step-up-sign-in.ts): a
 * step-up whose sign-in is too old sends them to their IdP for a fresh sign-in — `prompt=login`,
 * `max_age`, and the connection's `stepUpAcrValues` when a second factor is needed — and the IdP's
 * `amr` counts only because this connection says `trustAmr`. When the IdP's answer shows no second
 * factor, Portcullis asks for its own (someone without one is led to enrol). The IdP is a real
 * oidc-provider (support.ts); what it was asked is read from its own request log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { assertTokens, authorizationUrl, redeemCode, registerPublic, type RegisteredClient } from '../helpers/authz.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { postMcp, toolCall } from '../guard/sign-in.ts';
import { startRecordingUpstream, type RecordingUpstream } from '../gateway/conditions-fixture.ts';
import { totpCode } from '../mfa/support.ts';
import { deviceStep, pollDeviceToken, startDeviceAuthorization } from '../helpers/device.ts';
import { Browser, signInAtIdp, startTestIdp, type Answer, type TestIdp } from './support.ts';

const CONNECTION = 'acme-sso';
const ACR_MFA = 'urn:portcullis:acr:mfa';
/** What this IdP calls its two-factor level (Okta's would be urn:okta:loa:2fa:any). */
const IDP_2FA = 'urn:example:loa:2fa';
const MAX_AGE = 300;
const PLAIN_SECRET = 'plain-connection-secret-0123456789';

describe('step-up for SSO users: a fresh sign-in at the IdP', () => {
  const clock = testClock();
  let idp: TestIdp;
  let server: TestServer;
  let upstream: RecordingUpstream;
  let client: RegisteredClient;
  const browser = new Browser();
  let bankUrl: string;

  before(async () => {
    idp = await startTestIdp({
      sam: { email: 'sam@initech.test', email_verified: true, name: 'Sam', groups: [] },
      pat: { email: 'pat@plain.test', email_verified: true, name: 'Pat', groups: [] },
    });
    upstream = await startRecordingUpstream();
    server = await startTestServer({
      identityProviders: [
        {
          id: CONNECTION,
          type: 'oidc',
          name: 'Acme SSO',
          issuer: idp.issuer,
          clientId: idp.clientId,
          clientSecret: idp.clientSecret,
          organization: 'initech',
          domains: ['initech.test'],
          scopes: ['openid', 'email', 'profile'],
          // Everyone an admin of initech: the bank's tools are theirs to call.
          roles: { default: 'admin' },
          trustAmr: true,
          stepUpAcrValues: [IDP_2FA],
          // No refresh tokens (which would add prompt=consent to every request): a plain sign-in
          // with the IdP's session alive is then answered silently, as most IdPs do.
          recheck: false,
        },
        {
          // The same IdP, but its `amr` is not trusted here.
          id: 'plain-sso',
          type: 'oidc',
          name: 'Plain SSO',
          issuer: idp.issuer,
          clientId: 'portcullis-plain',
          clientSecret: PLAIN_SECRET,
          organization: 'plain',
          domains: ['plain.test'],
          scopes: ['openid', 'email', 'profile'],
          roles: { default: 'admin' },
        },
      ],
      applications: [{ slug: 'bank', name: 'Bank', upstream: { url: upstream.url }, autoApprove: true, tools: { move_money: { stepUp: { maxAge: MAX_AGE, mfa: true } } } }],
    }, { clock });
    idp.serve(`${server.url}/sso/${CONNECTION}/callback`, [
      { client_id: 'portcullis-plain', client_secret: PLAIN_SECRET, redirect_uris: [`${server.url}/sso/plain-sso/callback`], grant_types: ['authorization_code', 'refresh_token'] },
    ]);
    client = await registerPublic(server);
    bankUrl = `${server.url}/mcp/bank`;
  });
  after(async () => {
    await server?.stop();
    await idp?.close();
    await upstream?.stop();
  });

  function authorize(scope: string) {
    const auth = authorizationUrl({ ...server, mcpUrl: bankUrl }, client, { scope });
    const atClient = (location: string) => location.startsWith(auth.redirectUri);
    return { auth, atClient };
  }

  /** Approve at Portcullis's consent page (every permission offered) and redeem the code. */
  async function approveAndRedeem(consent: Answer, { auth, atClient }: ReturnType<typeof authorize>) {
    assert.equal(consent.status, 200, consent.body.slice(0, 500));
    const grants = [...consent.body.matchAll(/name="grant" value="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&'));
    const back = await browser.submit(consent, /\/consent$/, { decision: 'approve', grant: grants }, atClient);
    const code = new URL(back.location!).searchParams.get('code');
    assert.ok(code, `a code at the client: ${back.location}`);
    return assertTokens(await redeemCode(server, client, { code, pkce: auth.pkce, redirectUri: auth.redirectUri }, { resource: bankUrl }));
  }

  const callTool = (token: string, tool: string) => postMcp(bankUrl, toolCall(tool), { token, headers: { 'mcp-protocol-version': '2025-06-18' } });

  test('signs in through the IdP (no second factor shown); the sensitive tool is refused with acr_values', async () => {
    const flow = authorize('bank:read bank:write');
    const signInPage = await browser.follow(flow.auth.url, flow.atClient);
    const idpPage = await browser.submit(signInPage, /\/login$/, { email: 'sam@initech.test', password: '' }, flow.atClient);
    const tokens = await approveAndRedeem(await signInAtIdp(browser, idpPage, 'sam', flow.atClient), flow);
    assert.notEqual(decodeJwt(tokens.access_token).acr, ACR_MFA);
    const deadline = Date.now() + 10_000;
    while ((await callTool(tokens.access_token, 'read_balance')).status !== 200) {
      if (Date.now() > deadline) throw new Error('the gateway never learnt the tools');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const refused = await callTool(tokens.access_token, 'move_money');
    assert.equal(refused.status, 403);
    assert.match(refused.headers.get('www-authenticate') ?? '', new RegExp(`acr_values="${ACR_MFA}"`));
  });

  test('the step-up sends Sam to the IdP with prompt=login, max_age and the connection’s acr_values; with the IdP’s amr mfa (trusted) the tool is allowed', async () => {
    clock.advance(MAX_AGE + 1);
    const flow = authorize('bank:read bank:write bank:step-up');
    const asked = idp.authorizationRequests.length;
    const idpPage = await browser.follow(flow.auth.url, flow.atClient);
    assert.ok(idpPage.url.startsWith(idp.issuer), `at the IdP: ${idpPage.url}`);
    const request = idp.authorizationRequests.at(-1)!;
    assert.equal(idp.authorizationRequests.length, asked + 1);
    assert.ok(request.searchParams.get('prompt')!.split(' ').includes('login'), `prompt=${request.searchParams.get('prompt')}`);
    assert.equal(request.searchParams.get('max_age'), String(MAX_AGE));
    assert.equal(request.searchParams.get('acr_values'), IDP_2FA);
    assert.equal(request.searchParams.get('login_hint'), 'sam@initech.test');
    assert.match(idpPage.body, /name="login"/, 'the IdP asks Sam to sign in again, though its session is alive');

    idp.amr = ['pwd', 'otp', 'mfa'];
    const tokens = await approveAndRedeem(await signInAtIdp(browser, idpPage, 'sam', flow.atClient), flow);
    assert.ok(tokens.scope.split(' ').includes('bank:step-up'), tokens.scope);
    assert.equal(decodeJwt(tokens.access_token).acr, ACR_MFA);
    const allowed = await callTool(tokens.access_token, 'move_money');
    assert.equal(allowed.status, 200);
    assert.equal(upstream.toolCalls().at(-1), 'move_money');
  });

  test('when the IdP’s answer shows no second factor, Portcullis asks for its own (Sam has none: enrolment, then the step-up completes)', async () => {
    clock.advance(MAX_AGE + 1);
    idp.amr = undefined;
    const flow = authorize('bank:read bank:write bank:step-up');
    const idpPage = await browser.follow(flow.auth.url, flow.atClient);
    assert.ok(idpPage.url.startsWith(idp.issuer));
    const next = await signInAtIdp(browser, idpPage, 'sam', flow.atClient);
    assert.match(next.url, /\/sign-in\/enrol$/, `Portcullis's own second factor: ${next.url}`);
    assert.ok(!flow.atClient(next.location ?? ''), 'no code for the client');
    // Sam sets TOTP up; the session that follows keeps its SSO connection, and the step-up completes.
    const secret = /data-secret="([A-Z2-7]+)"/.exec(next.body)![1]!;
    const codes = await browser.submit(next, /\/sign-in\/enrol$/, { code: totpCode(secret, clock) }, flow.atClient);
    const onward = /href="([^"]+)" data-testid="continue"/.exec(codes.body)![1]!.replaceAll('&amp;', '&');
    const consent = await browser.follow(new URL(onward, server.url).href, flow.atClient);
    const tokens = await approveAndRedeem(consent, flow);
    assert.equal(decodeJwt(tokens.access_token).acr, ACR_MFA);
    assert.ok(tokens.scope.split(' ').includes('bank:step-up'));
    const sam = (await server.store.users.findByEmail('sam@initech.test'))!;
    const sessions = await server.store.sessions.listForUser(sam.id);
    assert.ok(sessions.some((session) => session.ssoConnection === CONNECTION && session.amr.includes('mfa')), JSON.stringify(sessions));
  });

  test('without trustAmr the IdP’s amr mfa does not count; a step-up with no session here goes e-mail first to the IdP, fresh', async () => {
    idp.amr = ['pwd', 'otp', 'mfa'];
    const fresh = new Browser();
    const flow = authorize('bank:read bank:step-up');
    const form = await fresh.follow(flow.auth.url, flow.atClient);
    assert.match(form.body, /Confirm it is you/);
    const idpPage = await fresh.submit(form, /\/login$/, { email: 'pat@plain.test', password: '' }, flow.atClient);
    assert.ok(idpPage.url.startsWith(idp.issuer), `at the IdP: ${idpPage.url}`);
    const request = idp.authorizationRequests.at(-1)!;
    assert.ok(request.searchParams.get('prompt')!.split(' ').includes('login'));
    assert.equal(request.searchParams.get('max_age'), String(MAX_AGE));
    assert.equal(request.searchParams.get('acr_values'), null, 'this connection names no acr_values');
    const next = await signInAtIdp(fresh, idpPage, 'pat', flow.atClient);
    assert.match(next.url, /\/sign-in\/enrol$/, `Portcullis's own second factor: ${next.url}`);
    const pat = (await server.store.users.findByEmail('pat@plain.test'))!;
    const [session] = await server.store.sessions.listForUser(pat.id);
    assert.deepEqual(session?.amr, ['ext'], 'the IdP’s amr is not recorded');
  });

  test('a plain SSO sign-in (no max_age asked, the IdP answering from its own session) does not pass for a step-up', async () => {
    clock.advance(MAX_AGE + 1);
    idp.amr = ['pwd', 'otp', 'mfa'];
    const flow = authorize('bank:read bank:write bank:step-up');
    const toIdp = await browser.follow(flow.auth.url, (location) => location.includes('/sso/'));
    const interaction = new URL(toIdp.location!).searchParams.get('return_to')!;
    // Sam (or whoever sits at Sam's computer) starts a plain sign-in instead, back to the same interaction.
    const asked = idp.authorizationRequests.length;
    const plain = await browser.follow(`${server.url}/sso/${CONNECTION}/start?return_to=${encodeURIComponent(interaction)}`, flow.atClient);
    // The IdP signs Sam in silently (its session is alive); back at the interaction, Portcullis
    // sends Sam to the IdP again, this time for a fresh sign-in.
    const [first, second] = idp.authorizationRequests.slice(asked);
    assert.ok(first && !first.searchParams.has('max_age') && !first.searchParams.get('prompt')?.includes('login'), 'a plain request, answered silently');
    assert.equal(second?.searchParams.get('max_age'), String(MAX_AGE), 'then a step-up request');
    assert.ok(plain.url.startsWith(idp.issuer), `at the IdP again: ${plain.url}`);
    assert.match(plain.body, /name="login"/);
  });

  test('the device page (`portcullis login`) sends an SSO user’s step-up to the IdP too, and back to the code — never to a password Sam does not have', async () => {
    clock.advance(MAX_AGE + 1);
    idp.amr = ['pwd', 'otp', 'mfa'];
    const started = await startDeviceAuthorization(server, { resource: bankUrl, scope: 'bank:step-up' });
    const asked = idp.authorizationRequests.length;
    const idpPage = await browser.follow(started.verification_uri_complete);
    assert.ok(idpPage.url.startsWith(idp.issuer), `at the IdP, not a password form: ${idpPage.url}`);
    const request = idp.authorizationRequests.at(-1)!;
    assert.equal(idp.authorizationRequests.length, asked + 1);
    assert.ok(request.searchParams.get('prompt')!.split(' ').includes('login'));
    assert.equal(request.searchParams.get('max_age'), String(MAX_AGE));
    const confirm = await signInAtIdp(browser, idpPage, 'sam', () => false);
    assert.equal(deviceStep(confirm.body), 'confirm', `back at the code: ${confirm.url}`);
    assert.equal(deviceStep((await browser.submit(confirm, /\/device\/confirm$/, { decision: 'approve', grant: 'bank:step-up' })).body), 'approved');
    const tokens = assertTokens(await pollDeviceToken(server, started.device_code));
    assert.ok(tokens.scope.split(' ').includes('bank:step-up'), tokens.scope);
    assert.equal(decodeJwt(tokens.access_token).acr, ACR_MFA);
  });
});
