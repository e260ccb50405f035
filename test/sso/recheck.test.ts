/**
 * Leavers lose access at once (issue 13 §6): an MCP client signed in through the company's IdP
 * keeps refreshing with Portcullis, and at each refresh the IdP is asked again with the refresh
 * token it issued (a real second oidc-provider) — or, for GitHub, with the OAuth app's token (the
 * stand-in). An IdP that says the account is gone gets the client `invalid_grant` and ends the
 * user's access everywhere (the access token already out is refused by the gateway at once); an
 * IdP that is down does not sign anyone out; the IdP is asked at most once a minute per account.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { testClock } from '../helpers/clock.ts';
import { assertOAuthError, assertTokens, authorizationUrl, mcpStatus, redeemCode, refresh, registerPublic, type RegisteredClient, type TokenSet } from '../helpers/authz.ts';
import { audited, Browser, signInAtIdp, startTestIdp, type TestIdp, acmeConnection } from './support.ts';
import { startGithubStandIn, type GithubAccount, type GithubStandIn } from './github-stand-in.ts';

const clock = testClock();
let idp: TestIdp;
let github: GithubStandIn;
let server: TestServer;

const person = (name: string) => ({ email: `${name}@initech.test`, email_verified: true, name, groups: [] });
const octo = (id: number, login: string): GithubAccount => ({
  id,
  login,
  name: null,
  email: null,
  emails: [{ email: `${login}@octo.test`, primary: true, verified: true, visibility: 'private' }],
  orgs: { 'octo-org': 'active' },
  teams: [],
});

before(async () => {
  idp = await startTestIdp({ alice: person('alice'), bob: person('bob'), carol: person('carol'), dan: person('dan') });
  github = await startGithubStandIn({ octocat: octo(583231, 'octocat'), hubot: octo(1001, 'hubot') });
  server = await startTestServer(
    {
      identityProviders: [
        // Admins hold the demo's scopes (a member's consent would grant none).
        acmeConnection(idp, { roles: { default: 'admin' }, scopes: ['openid', 'email', 'profile'] }),
        // Re-checking off: no refresh token asked for, nothing kept.
        { id: 'quiet', type: 'oidc', name: 'Quiet SSO', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, organization: 'quiet', domains: ['quiet.test'], recheck: false },
        { id: 'github', type: 'github', name: 'GitHub', clientId: github.clientId, clientSecret: github.clientSecret, apiUrl: github.apiUrl, webUrl: github.webUrl, organization: 'octo', public: true, githubOrg: 'octo-org', roles: { default: 'admin' } },
      ],
    },
    { clock },
  );
  idp.serve(`${server.url}/sso/acme-sso/callback`);
  github.redirectUris.add(`${server.url}/sso/github/callback`);
});

after(async () => {
  await server?.stop();
  await idp?.close();
  await github?.close();
});

interface Signed {
  client: RegisteredClient;
  tokens: TokenSet;
}

/** An MCP client's authorization through "Continue with <connection>", signed in as `login` there. */
async function signInThrough(connection: 'acme-sso' | 'github', login: string): Promise<Signed> {
  const client = await registerPublic(server);
  const { url, pkce, redirectUri } = authorizationUrl(server, client);
  const browser = new Browser();
  const atClient = (location: string) => location.startsWith(redirectUri);
  const signInPage = await browser.follow(url, atClient);
  const start = new RegExp(`href="([^"]*/sso/${connection}/start[^"]*)"`).exec(signInPage.body)?.[1];
  assert.ok(start, `a "Continue with" button for ${connection}`);
  github.signedIn = login;
  let consent = await browser.follow(new URL(start.replaceAll('&amp;', '&'), server.url).href, atClient);
  if (connection === 'acme-sso') consent = await signInAtIdp(browser, consent, login, atClient);
  assert.equal(consent.status, 200, consent.body.slice(0, 500));
  const grants = [...consent.body.matchAll(/name="grant" value="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&'));
  const back = await browser.submit(consent, /\/consent$/, { decision: 'approve', grant: grants }, atClient);
  const code = new URL(back.location!).searchParams.get('code');
  assert.ok(code, `a code at the client: ${back.location}`);
  return { client, tokens: assertTokens(await redeemCode(server, client, { code, pkce, redirectUri }, { resource: server.mcpUrl })) };
}

async function linkOf(email: string) {
  const user = (await server.store.users.findByEmail(email))!;
  return { user, link: (await server.store.ssoLinks.forUser(user.id))[0]! };
}

/** Past the interval within which an account is not asked about again (a minute). */
const nextMinute = () => clock.advance(61);

describe('leavers lose access at once: the IdP is asked again at every refresh', () => {
  test('asks the IdP for a refresh token (offline_access with prompt=consent, OpenID Connect Core §11)', async () => {
    const answer = await new Browser().request(`${server.url}/sso/acme-sso/start?return_to=%2F`);
    const sent = new URL(answer.location!).searchParams;
    assert.ok(sent.get('scope')?.split(' ').includes('offline_access'), sent.get('scope') ?? '');
    assert.equal(sent.get('prompt'), 'consent');
    const quiet = new URL((await new Browser().request(`${server.url}/sso/quiet/start?return_to=%2F`)).location!).searchParams;
    assert.equal(quiet.get('scope')?.split(' ').includes('offline_access'), false, '"recheck": false asks for no refresh token');
    assert.equal(quiet.get('prompt'), null);
  });

  test('while the IdP account is fine, refreshes work and the IdP’s rotated refresh token is kept', async () => {
    const { client, tokens } = await signInThrough('acme-sso', 'alice');
    const before = await linkOf('alice@initech.test');
    assert.ok(before.link.credentialSealed, 'the IdP’s refresh token is kept with the link');
    assert.doesNotMatch(before.link.credentialSealed, /^[A-Za-z0-9_-]{43}$/, 'sealed, not the token itself');
    nextMinute();
    const refreshed = assertTokens(await refresh(server, client, tokens.refresh_token!));
    const after = await linkOf('alice@initech.test');
    assert.ok(after.link.checkedAt !== null, 'asked');
    assert.notEqual(after.link.credentialSealed, before.link.credentialSealed, 'the rotated refresh token replaced the used one');
    nextMinute();
    assertTokens(await refresh(server, client, refreshed.refresh_token!));
    assert.equal(await mcpStatus(server, refreshed.access_token), 200);
  });

  test('the IdP disables the account: the refresh gets invalid_grant and every token of the user is refused at once', async () => {
    const first = await signInThrough('acme-sso', 'carol');
    const second = await signInThrough('acme-sso', 'carol');
    assert.equal(await mcpStatus(server, first.tokens.access_token), 200);
    const asked = assertTokens(await refresh(server, first.client, first.tokens.refresh_token!));
    idp.accounts.delete('carol');
    const within = assertTokens(await refresh(server, first.client, asked.refresh_token!));
    // Asked a moment ago: not asked again within the minute (the IdP is not hammered).
    assert.equal(await audited(server, 'sso.recheck.refused'), 0);
    nextMinute();
    const refused = await refresh(server, first.client, within.refresh_token!);
    assertOAuthError(refused, 'invalid_grant');
    assert.equal(await mcpStatus(server, first.tokens.access_token), 401, 'the access token already issued is refused at once');
    assert.equal(await mcpStatus(server, second.tokens.access_token), 401, 'so is every other client’s');
    assertOAuthError(await refresh(server, second.client, second.tokens.refresh_token!), 'invalid_grant');
    const { user, link: after } = await linkOf('carol@initech.test');
    assert.deepEqual(await server.store.sessions.listForUser(user.id), [], 'browser sessions ended');
    assert.equal(after.credentialSealed, null, 'nothing left to ask with');
    assert.equal(user.disabledAt, null, 'the account stays enabled: signing in again is the IdP’s decision');
    assert.equal(await audited(server, 'sso.recheck.refused', 'invalid_grant'), 1);
  });

  test('the IdP is down: the refresh goes on (an outage signs nobody out), audited', async () => {
    const { client, tokens } = await signInThrough('acme-sso', 'bob');
    const { link: before } = await linkOf('bob@initech.test');
    idp.unreachable = true;
    let refreshed: TokenSet;
    try {
      nextMinute();
      refreshed = assertTokens(await refresh(server, client, tokens.refresh_token!));
      assert.equal(await mcpStatus(server, refreshed.access_token), 200);
      assert.ok((await audited(server, 'sso.recheck.unavailable')) >= 1);
      assert.equal((await linkOf('bob@initech.test')).link.credentialSealed, before.credentialSealed, 'the refresh token is kept for the next question');
    } finally {
      idp.unreachable = false;
    }
    // Back up, and the account is gone meanwhile: the next question ends it.
    idp.accounts.delete('bob');
    nextMinute();
    assertOAuthError(await refresh(server, client, refreshed.refresh_token!), 'invalid_grant');
  });

  test('a sealed credential is bound to its link: copied onto another account, it does not open', async () => {
    const { client, tokens } = await signInThrough('acme-sso', 'dan');
    const alice = await linkOf('alice@initech.test');
    const { link } = await linkOf('dan@initech.test');
    await server.store.ssoLinks.setCredential(link.issuer, link.subject, alice.link.credentialSealed);
    nextMinute();
    assertTokens(await refresh(server, client, tokens.refresh_token!));
    assert.equal(await audited(server, 'sso.recheck.unavailable', 'credential_unreadable'), 1, 'never used as dan’s: alice’s IdP account is not asked about');
  });

  test('GitHub: access goes on while the account is a member; the org membership ending is a leaver', async () => {
    const { client, tokens } = await signInThrough('github', 'octocat');
    nextMinute();
    const refreshed = assertTokens(await refresh(server, client, tokens.refresh_token!));
    github.accounts.get('octocat')!.orgs = {};
    nextMinute();
    assertOAuthError(await refresh(server, client, refreshed.refresh_token!), 'invalid_grant');
    assert.equal(await mcpStatus(server, refreshed.access_token), 401);
    assert.equal(await audited(server, 'sso.recheck.refused', 'not_member'), 1);
  });

  test('GitHub: a token GitHub no longer accepts (401: the app revoked, the account deleted) is a leaver', async () => {
    const { client, tokens } = await signInThrough('github', 'hubot');
    github.accounts.delete('hubot');
    nextMinute();
    assertOAuthError(await refresh(server, client, tokens.refresh_token!), 'invalid_grant');
    assert.equal(await mcpStatus(server, tokens.access_token), 401);
  });
});
