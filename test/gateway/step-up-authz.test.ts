/**
 * Step-up at the authorization server (authz/step-up.ts), over real HTTP: the step-up scope of an
 * application costs a sign-in within the application's max age — the password form comes back
 * although the browser is signed in, `prompt=none` cannot skip it — its tokens expire with it, a
 * refresh never carries it forward, and the consent page says what it is in plain English.
 * Plus the module's pure parts with fixed clocks.
 */
import type { ProtectedResource } from '../../src/core/protected-resource.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  accessTokenTtl,
  freshSignIn,
  requestedStepUpMaxAge,
  sessionAnswersLogin,
  tokenEndpointScopes,
} from '../../src/authz/step-up.ts';
import { plainDuration, scopeText } from '../../src/web/approval.ts';
import {
  addStaticClient,
  assertTokens,
  authorizationUrl,
  endpoint,
  obtainCode,
  postForm,
  redeemCode,
  refresh,
  registerPublic,
  serverTargets,
  type RegisteredClient,
} from '../helpers/authz.ts';
import { testClock, type TestClock } from '../helpers/clock.ts';
import { authorizeInBrowser } from '../helpers/oauth-flow.ts';
import type { TestServer } from '../helpers/server.ts';
import { checkboxValues, UserAgent } from '../helpers/user-agent.ts';

const resource = (overrides: Partial<ProtectedResource> = {}): ProtectedResource => ({
  url: 'https://auth.example.com/mcp/vault',
  name: 'Vault',
  path: '/mcp/vault',
  scopes: [],
  defaultScopes: [],
  toolScopes: {},
  stepUpScope: 'vault:step-up',
  stepUpMaxAge: 300,
  ...overrides,
});

describe('step-up helpers (fixed clocks)', () => {
  it('freshSignIn: within max age, boundary included; no auth_time is never fresh', () => {
    assert.equal(freshSignIn(1000, 300, 1300), true);
    assert.equal(freshSignIn(1000, 300, 1301), false);
    assert.equal(freshSignIn(undefined, 300, 1000), false);
  });

  it('requestedStepUpMaxAge: only resources whose step-up scope is asked for; the shortest wins', () => {
    const vault = resource();
    const ledger = resource({ url: 'https://auth.example.com/mcp/ledger', stepUpScope: 'ledger:step-up', stepUpMaxAge: 60 });
    const plain = resource({ stepUpScope: undefined, stepUpMaxAge: undefined });
    assert.equal(requestedStepUpMaxAge([vault], new Set(['vault:read'])), undefined);
    assert.equal(requestedStepUpMaxAge([vault, ledger], new Set(['vault:step-up'])), 300);
    assert.equal(requestedStepUpMaxAge([vault, ledger], new Set(['vault:step-up', 'ledger:step-up'])), 60);
    assert.equal(requestedStepUpMaxAge([plain, undefined], new Set(['vault:step-up'])), undefined);
  });

  it('tokenEndpointScopes: kept only for a fresh interactive sign-in', () => {
    const vault = resource();
    const scopes = ['vault:read', 'vault:step-up'];
    const at = (grantType: string | undefined, authTime: number | undefined, now = 2000) => tokenEndpointScopes(vault, scopes, { grantType, authTime, now });
    assert.deepEqual(at('authorization_code', 1900), scopes);
    assert.deepEqual(at('urn:ietf:params:oauth:grant-type:device_code', 1900), scopes);
    assert.deepEqual(at('authorization_code', 1600), ['vault:read'], 'the sign-in went stale before the code was redeemed');
    assert.deepEqual(at('refresh_token', 1999), ['vault:read'], 'a refresh never carries it, however fresh');
    assert.deepEqual(at('client_credentials', undefined), ['vault:read'], 'no user, no sign-in');
    assert.deepEqual(at('urn:ietf:params:oauth:grant-type:token-exchange', 1999), ['vault:read']);
    assert.deepEqual(at(undefined, 1999), ['vault:read']);
    assert.deepEqual(tokenEndpointScopes(resource({ stepUpScope: undefined }), ['a', 'b'], { grantType: 'refresh_token', authTime: 0, now: 9 }), ['a', 'b']);
  });

  it('accessTokenTtl: a step-up token lives until the step-up ends, never longer than usual, at least 1 s', () => {
    const vault = resource();
    assert.equal(accessTokenTtl(vault, 'vault:read', 1000, 1000, 1800), 1800, 'no step-up scope: the usual lifetime');
    assert.equal(accessTokenTtl(vault, 'vault:read vault:step-up', 1000, 1000, 1800), 300);
    assert.equal(accessTokenTtl(vault, 'vault:read vault:step-up', 1000, 1200, 1800), 100);
    assert.equal(accessTokenTtl(vault, 'vault:step-up', 1000, 1100, 60), 60, 'capped by the usual lifetime');
    assert.equal(accessTokenTtl(vault, 'vault:step-up', 1000, 5000, 1800), 1);
    assert.equal(accessTokenTtl(vault, 'vault:step-up', undefined, 5000, 1800), 1);
    assert.equal(accessTokenTtl(undefined, 'vault:step-up', 1000, 1000, 1800), 1800);
    assert.equal(accessTokenTtl(vault, 'vault:step-upx', 1000, 1000, 1800), 1800, 'whole scope tokens only');
  });

  it('sessionAnswersLogin: our session answers no_session, and a step-up only when recent enough', () => {
    const prompt = (reasons: string[], maxAge?: number) => ({ reasons, details: maxAge === undefined ? {} : { step_up_max_age: maxAge } });
    const at = (authTime: number) => ({ authTime, amr: ['pwd'] });
    assert.equal(sessionAnswersLogin(prompt(['no_session']), at(0), 10_000), true);
    assert.equal(sessionAnswersLogin(prompt(['no_session', 'step_up'], 60), at(9_950), 10_000), true);
    assert.equal(sessionAnswersLogin(prompt(['step_up'], 60), at(9_900), 10_000), false);
    assert.equal(sessionAnswersLogin(prompt(['step_up']), at(10_000), 10_000), false, 'no max age given: the form');
    assert.equal(sessionAnswersLogin(prompt(['no_session', 'max_age']), at(10_000), 10_000), false);
    assert.equal(sessionAnswersLogin(prompt(['login_prompt']), at(10_000), 10_000), false);
  });

  it('plain English for the consent page', () => {
    assert.equal(plainDuration(1), '1 second');
    assert.equal(plainDuration(90), '90 seconds');
    assert.equal(plainDuration(300), '5 minutes');
    assert.equal(plainDuration(3600), '1 hour');
    assert.equal(plainDuration(7200), '2 hours');
    assert.equal(
      scopeText(resource({ scopes: [{ name: 'vault:step-up', description: 'Confirm it is you before sensitive actions in Vault' }] }), 'vault:step-up'),
      'Confirm it is you before sensitive actions in Vault — for 5 minutes after you sign in, then you are asked to sign in again',
    );
  });
});

/** An application with a step-up tool; its upstream is never reached in these tests. */
function stepUpApp(slug: string, maxAge: number | string) {
  return { slug, name: slug[0]!.toUpperCase() + slug.slice(1), upstream: { url: 'http://127.0.0.1:9/mcp' }, tools: { wipe: { stepUp: { maxAge } } }, autoApprove: true };
}

const MAX_AGE = 3;
const NORMAL_TTL = 600;

/** Move the server's clock until a sign-in at `authTime` (seconds) is older than `maxAge` by a second. */
function untilStale(clock: TestClock, authTime: number, maxAge: number): void {
  clock.advance(Math.max(0, authTime + maxAge + 1 - clock.now()));
}

const hasLoginForm = (body: string) => body.includes('/login"');
const hasConsentForm = (body: string) => body.includes('/consent"');

describe('step-up at the authorization server', { concurrency: true }, () => {
  for (const target of serverTargets()) {
    describe(`${target.dialect} store`, { concurrency: 1, skip: target.skip }, () => {
      let server: TestServer;
      const clock = testClock();
      let client: RegisteredClient;
      let vault: string;
      let ledger: string;
      /** The user's browser: it stays signed in across these tests. */
      const ua = new UserAgent();
      let signedInAt = 0;
      let refreshToken = '';

      before(async () => {
        server = await target.start({ tokens: { accessTokenTtl: NORMAL_TTL }, applications: [stepUpApp('vault', MAX_AGE), stepUpApp('ledger', '1h')] }, { clock });
        vault = `${server.url}/mcp/vault`;
        ledger = `${server.url}/mcp/ledger`;
        client = await registerPublic(server);
      });
      after(() => server?.stop());

      it('the step-up scope is advertised, and the consent page explains it in plain English', async () => {
        const discovery = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as { scopes_supported: string[] };
        assert.ok(discovery.scopes_supported.includes('vault:step-up'));
        const prm = (await (await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp/vault`)).json()) as { scopes_supported: string[] };
        assert.ok(prm.scopes_supported.includes('vault:step-up'));

        const code = await obtainCode(server, client, { resource: vault, scope: 'vault:read vault:step-up', ua });
        assert.ok(code.pages.some((page) => hasLoginForm(page.body)), 'a first sign-in: the password form');
        const consent = code.pages.find((page) => hasConsentForm(page.body))!;
        assert.deepEqual(checkboxValues(consent.body, 'grant'), ['0|vault:read', '0|vault:step-up']);
        assert.match(consent.body, /Confirm it is you before sensitive actions in Vault — for 3 seconds after you sign in, then you are asked to sign in again/);

        const tokens = assertTokens(await redeemCode(server, client, code));
        assert.equal(tokens.scope, 'vault:read vault:step-up');
        const claims = decodeJwt(tokens.access_token);
        signedInAt = claims.auth_time as number;
        assert.equal(claims.scope, 'vault:read vault:step-up');
        assert.ok(tokens.expires_in >= 1 && tokens.expires_in <= MAX_AGE, `expires_in ${tokens.expires_in}`);
        assert.ok(claims.exp! - signedInAt <= MAX_AGE, 'the token expires with the step-up');
        assert.ok(tokens.refresh_token);
        refreshToken = tokens.refresh_token!;
      });

      it('a refresh never carries the step-up forward: not in the token, not in the response, even when asked for', async () => {
        const first = assertTokens(await refresh(server, client, refreshToken));
        assert.equal(first.scope, 'vault:read');
        assert.equal(decodeJwt(first.access_token).scope, 'vault:read');
        assert.equal(first.expires_in, NORMAL_TTL, 'without the step-up scope, the usual lifetime');
        assert.equal(decodeJwt(first.access_token).auth_time, signedInAt, 'a refresh keeps the original sign-in time');

        const asked = assertTokens(await refresh(server, client, first.refresh_token!, { scope: 'vault:read vault:step-up' }));
        assert.equal(asked.scope, 'vault:read');
        assert.equal(decodeJwt(asked.access_token).scope, 'vault:read');
        refreshToken = asked.refresh_token!;
      });

      it('once the sign-in is older than the max age, prompt=none cannot get the step-up scope: login_required', async () => {
        untilStale(clock, signedInAt, MAX_AGE);
        const { url, redirectUri } = authorizationUrl(server, client, { resource: vault, scope: 'vault:read vault:step-up', params: { prompt: 'none' } });
        const atClient = (location: string) => location.startsWith(redirectUri);
        const answer = await ua.follow(url, atClient);
        const callback = new URL(answer.url);
        assert.ok(atClient(answer.url), `sent back to the client, not to a page: ${answer.status} ${answer.url}`);
        assert.equal(callback.searchParams.get('error'), 'login_required');
        assert.equal(callback.searchParams.get('iss'), server.url);
        assert.equal(callback.searchParams.get('code'), null);
      });

      it('without the step-up scope, the same old sign-in is still good: no password form', async () => {
        const { url, redirectUri } = authorizationUrl(server, client, { resource: vault, scope: 'vault:read' });
        const { pages, callback } = await authorizeInBrowser(url, { email: server.user.email, password: 'not needed', redirectUri, ua });
        assert.ok(!pages.some((page) => hasLoginForm(page.body)));
        assert.ok(callback.searchParams.get('code'));
      });

      it('asking for the step-up scope shows the password form again, though the browser is signed in; the new token carries it', async () => {
        const { url, pkce, redirectUri } = authorizationUrl(server, client, { resource: vault, scope: 'vault:read vault:step-up' });
        const form = await ua.follow(url);
        assert.ok(hasLoginForm(form.body), 'the password form, not a silent reuse of the browser session');
        assert.match(form.body, /<h1>Confirm it is you<\/h1>/);
        assert.ok(form.body.includes(`value="${server.user.email}"`), 'the e-mail is filled in');
        // A wrong password does not get through.
        const wrong = await ua.submit(form, /\/login$/, { email: server.user.email, password: 'wrong password' });
        assert.equal(wrong.status, 401);
        assert.ok(hasLoginForm(wrong.body));

        const { pages, callback } = await authorizeInBrowser(url, { email: server.user.email, password: server.password, redirectUri, ua });
        assert.ok(pages.some((page) => hasLoginForm(page.body)));
        const tokens = assertTokens(await redeemCode(server, client, { code: callback.searchParams.get('code')!, pkce, redirectUri }));
        assert.equal(tokens.scope, 'vault:read vault:step-up');
        const claims = decodeJwt(tokens.access_token);
        assert.ok((claims.auth_time as number) > signedInAt, 'a new sign-in time');
        assert.ok(tokens.expires_in <= MAX_AGE);
        signedInAt = claims.auth_time as number;
      });

      it('a code redeemed after the step-up has gone stale gives a token without it, at the usual lifetime', async () => {
        const code = await obtainCode(server, client, { resource: vault, scope: 'vault:read vault:step-up', ua });
        untilStale(clock, signedInAt, MAX_AGE);
        const tokens = assertTokens(await redeemCode(server, client, code));
        assert.equal(tokens.scope, 'vault:read');
        assert.equal(decodeJwt(tokens.access_token).scope, 'vault:read');
        assert.equal(tokens.expires_in, NORMAL_TTL);
      });

      it('a service account never gets the step-up scope, even when its administrator allowed it', async () => {
        const job = await addStaticClient(server, { client_name: 'Nightly job', portcullis_scopes: ['vault:read', 'vault:step-up'] });
        const tokens = assertTokens(await postForm(endpoint(server, 'token'), { grant_type: 'client_credentials', resource: vault, scope: 'vault:read vault:step-up' }, job));
        assert.equal(tokens.scope, 'vault:read');
        assert.equal(decodeJwt(tokens.access_token).scope, 'vault:read');
      });

      it('a sign-in recent enough for the step-up is reused: consent only, no password form', async () => {
        // The browser signed in seconds ago; the ledger's step-up lasts an hour.
        const code = await obtainCode(server, client, { resource: ledger, scope: 'ledger:read ledger:step-up', ua, password: 'not needed' });
        assert.ok(!code.pages.some((page) => hasLoginForm(page.body)));
        assert.ok(code.pages.some((page) => hasConsentForm(page.body)));
        const tokens = assertTokens(await redeemCode(server, client, code));
        assert.equal(tokens.scope, 'ledger:read ledger:step-up');
        assert.equal(tokens.expires_in, NORMAL_TTL, 'an hour of step-up left: the usual lifetime caps it');
      });
    });
  }
});
