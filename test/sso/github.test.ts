/**
 * Sign-in through a GitHub OAuth app, end to end against a local stand-in for GitHub
 * (github-stand-in.ts): "Continue with GitHub" on an MCP client's authorization, the verified
 * primary e-mail only, organization and team membership mapped to a role, the numeric id as the
 * identity across a rename, and a replayed state refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertTokens, authorizationUrl, redeemCode, registerPublic } from '../helpers/authz.ts';
import { loadConfig } from '../../src/core/config.ts';
import { PortcullisError } from '../../src/core/errors.ts';
import { audited, Browser, refusalCode, type Answer } from './support.ts';
import { startGithubStandIn, type GithubAccount, type GithubStandIn } from './github-stand-in.ts';

let github: GithubStandIn;
let server: TestServer;

const account = (id: number, login: string, extra: Partial<GithubAccount> = {}): GithubAccount => ({
  id,
  login,
  name: null,
  email: null,
  emails: [{ email: `${login}@octo.test`, primary: true, verified: true, visibility: 'private' }],
  orgs: { 'octo-org': 'active' },
  teams: [],
  ...extra,
});

before(async () => {
  github = await startGithubStandIn({
    octocat: account(583231, 'octocat', {
      name: 'The Octocat',
      email: 'public@elsewhere.test',
      emails: [
        { email: 'octocat@octo.test', primary: true, verified: true, visibility: 'public' },
        { email: 'cat@unverified.test', primary: false, verified: false, visibility: null },
      ],
      teams: ['octo-org/platform'],
    }),
    hubot: account(1001, 'hubot'),
    eve: account(1002, 'eve', {
      email: 'eve@octo.test',
      emails: [
        { email: 'eve@octo.test', primary: true, verified: false, visibility: 'private' },
        { email: 'eve-other@octo.test', primary: false, verified: true, visibility: null },
      ],
    }),
    outsider: account(1003, 'outsider', { orgs: {} }),
    invitee: account(1004, 'invitee', { orgs: { 'octo-org': 'pending' } }),
    // Verified at GitHub an address that already has a Portcullis account (the test server's ada).
    claimant: account(1005, 'claimant', { emails: [{ email: 'ada@example.com', primary: true, verified: true, visibility: null }] }),
  });
  const common = { type: 'github' as const, clientId: github.clientId, clientSecret: github.clientSecret, apiUrl: github.apiUrl, webUrl: github.webUrl };
  server = await startTestServer({
    identityProviders: [
      {
        ...common,
        id: 'github',
        name: 'GitHub',
        organization: 'octo',
        public: true,
        githubOrg: 'octo-org',
        roles: { map: { 'octo-org/platform': 'admin', 'octo-org': 'member' }, default: 'member' },
      },
      { ...common, id: 'github-team', name: 'GitHub Platform', organization: 'platform', githubOrg: 'octo-org', githubTeam: 'platform' },
    ],
  });
  github.redirectUris.add(`${server.url}/sso/github/callback`);
  github.redirectUris.add(`${server.url}/sso/github-team/callback`);
});

after(async () => {
  await server?.stop();
  await github?.close();
});

const atGithub = (location: string) => location.startsWith(`${github.webUrl}/login/oauth/authorize`);

async function roleIn(slug: string, email: string): Promise<string | undefined> {
  const user = await server.store.users.findByEmail(email);
  const org = await server.store.orgs.bySlug(slug);
  return user && org ? (await server.store.orgs.member(org.id, user.id))?.role : undefined;
}


/** Signed in at GitHub as `who`, start a sign-in through `connection`; returns GitHub's redirect to the callback. */
async function callbackFor(browser: Browser, who: string, connection = 'github'): Promise<string> {
  github.signedIn = who;
  const toCallback = (location: string) => location.startsWith(`${server.url}/sso/${connection}/callback`);
  const answer = await browser.follow(`${server.url}/sso/${connection}/start?return_to=/`, toCallback);
  assert.ok(answer.location && toCallback(answer.location), `GitHub sends the browser back: ${answer.location ?? answer.body.slice(0, 300)}`);
  return answer.location;
}

async function signInAs(who: string, connection = 'github'): Promise<{ browser: Browser; answer: Answer }> {
  const browser = new Browser();
  const answer = await browser.request(await callbackFor(browser, who, connection));
  return { browser, answer };
}

const signedIn = (browser: Browser) => browser.jars.get(new URL(server.url).origin)?.has('__Host-pc_session') ?? false;

describe('single sign-on through a GitHub OAuth app', () => {
  test('"Continue with GitHub" goes to GitHub’s authorize endpoint with PKCE S256, state and the scopes needed', async () => {
    const browser = new Browser();
    const page = await browser.request(`${server.url}/login`);
    const start = /href="([^"]*\/sso\/github\/start[^"]*)"/.exec(page.body)?.[1];
    assert.ok(start, 'a "Continue with GitHub" button');
    assert.match(page.body, /Continue with GitHub</);
    const answer = await browser.request(new URL(start.replaceAll('&amp;', '&'), server.url).href);
    assert.equal(answer.status, 303);
    assert.ok(answer.location && atGithub(answer.location), answer.location);
    const sent = new URL(answer.location).searchParams;
    assert.equal(sent.get('client_id'), github.clientId);
    assert.equal(sent.get('redirect_uri'), `${server.url}/sso/github/callback`);
    assert.deepEqual(sent.get('scope')?.split(' ').sort(), ['read:org', 'read:user', 'user:email']);
    assert.equal(sent.get('code_challenge_method'), 'S256');
    assert.ok(sent.get('state') && sent.get('code_challenge'));
  });

  test('an MCP client authorizes through GitHub: created in the organization with the team’s role, then a tools/call', async () => {
    const client = await registerPublic(server);
    const { url, pkce, redirectUri } = authorizationUrl(server, client);
    const browser = new Browser();
    const atClient = (location: string) => location.startsWith(redirectUri);
    const signInPage = await browser.follow(url, atClient);
    const start = /href="([^"]*\/sso\/github\/start[^"]*)"/.exec(signInPage.body)?.[1];
    assert.ok(start, 'the authorization’s sign-in page offers "Continue with GitHub"');
    github.signedIn = 'octocat';
    const consent = await browser.follow(new URL(start.replaceAll('&amp;', '&'), server.url).href, atClient);
    assert.equal(consent.status, 200, consent.body.slice(0, 500));
    const grants = [...consent.body.matchAll(/name="grant" value="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&'));
    const back = await browser.submit(consent, /\/consent$/, { decision: 'approve', grant: grants }, atClient);
    const code = new URL(back.location!).searchParams.get('code');
    assert.ok(code, `a code at the client: ${back.location}`);
    const tokens = assertTokens(await redeemCode(server, client, { code, pkce, redirectUri }, { resource: server.mcpUrl }));
    assert.deepEqual(github.refusals, [], 'GitHub received the right client secret and PKCE verifier');

    const user = await server.store.users.findByEmail('octocat@octo.test');
    assert.ok(user, 'the account carries the verified primary address, not /user’s public e-mail');
    assert.equal(await server.store.users.findByEmail('public@elsewhere.test'), undefined);
    assert.equal(user.name, 'The Octocat');
    assert.equal(user.passwordHash, null);
    assert.equal(await roleIn('octo', 'octocat@octo.test'), 'admin', 'team octo-org/platform maps to admin (beats the org’s member)');
    const links = await server.store.ssoLinks.forUser(user.id);
    assert.deepEqual(links.map((l) => [l.issuer, l.subject, l.connectionId]), [[new URL(github.webUrl).origin, '583231', 'github']]);
    const [session] = await server.store.sessions.listForUser(user.id);
    assert.deepEqual([session?.amr, session?.ssoConnection], [['ext'], 'github']);
    assert.ok((await audited(server, 'sso.user.created')) >= 1);

    const call = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_projects', arguments: {} } }),
    });
    const text = await call.text();
    assert.equal(call.status, 200, text);
    assert.match(text, /"result"/);
  });

  test('an organization member outside the mapped team gets the organization’s role', async () => {
    const { browser, answer } = await signInAs('hubot');
    assert.equal(answer.status, 303);
    assert.ok(signedIn(browser));
    assert.equal(await roleIn('octo', 'hubot@octo.test'), 'member');
  });

  test('the numeric id links the next sign-in even after the login changed', async () => {
    const before = (await server.store.users.findByEmail('hubot@octo.test'))!;
    const sessions = (await server.store.sessions.listForUser(before.id)).length;
    const hubot = github.accounts.get('hubot')!;
    github.accounts.set('hubot', { ...hubot, login: 'hubot-renamed', emails: [{ email: 'hubot-new@octo.test', primary: true, verified: true, visibility: null }] });
    const { answer } = await signInAs('hubot');
    assert.equal(answer.status, 303);
    assert.equal(await server.store.users.findByEmail('hubot-new@octo.test'), undefined, 'no second account');
    assert.equal((await server.store.sessions.listForUser(before.id)).length, sessions + 1, 'the same account signed in');
    assert.deepEqual((await server.store.ssoLinks.forUser(before.id)).map((l) => l.subject), ['1001']);
    assert.equal(await roleIn('octo', 'hubot@octo.test'), 'member', 'the renamed login is the one asked about (team lookups use it)');
  });

  test('an unverified primary e-mail is refused and creates no account (even with another verified address)', async () => {
    const { browser, answer } = await signInAs('eve');
    assert.equal(answer.status, 400);
    assert.equal(refusalCode(answer.body), 'sso_refused');
    assert.equal(signedIn(browser), false);
    assert.equal(await server.store.users.findByEmail('eve@octo.test'), undefined);
    assert.equal(await server.store.users.findByEmail('eve-other@octo.test'), undefined);
    assert.ok((await audited(server, 'signin.failed', 'github_unverified_email')) >= 1);
  });

  test('an existing account is never taken over by a connection without domains of its own, verified address or not', async () => {
    const { browser, answer } = await signInAs('claimant');
    assert.equal(answer.status, 403);
    assert.equal(refusalCode(answer.body), 'sso_account_refused');
    assert.equal(signedIn(browser), false);
    assert.equal(await server.store.ssoLinks.find(new URL(github.webUrl).origin, '1005'), undefined, 'no link to the existing account');
    assert.ok((await audited(server, 'signin.failed', 'account_exists')) >= 1);
  });

  test('organization membership is required: a non-member and a pending invitee are refused', async () => {
    for (const who of ['outsider', 'invitee']) {
      const { browser, answer } = await signInAs(who);
      assert.equal(answer.status, 400, who);
      assert.equal(refusalCode(answer.body), 'sso_refused');
      assert.equal(signedIn(browser), false);
      assert.equal(await server.store.users.findByEmail(`${who}@octo.test`), undefined);
    }
    assert.ok((await audited(server, 'signin.failed', 'not_member')) >= 2);
  });

  test('a required team: its member signs in, an organization member outside it is refused', async () => {
    const member = await signInAs('octocat', 'github-team');
    assert.equal(member.answer.status, 303);
    assert.equal(await roleIn('platform', 'octocat@octo.test'), 'member', 'no map: the default role');
    const outside = await signInAs('hubot', 'github-team');
    assert.equal(outside.answer.status, 400);
    assert.equal(await roleIn('platform', 'hubot@octo.test'), undefined);
  });

  test('a replayed state is refused', async () => {
    const browser = new Browser();
    const callback = await callbackFor(browser, 'octocat');
    assert.equal((await browser.request(callback)).status, 303);
    const replay = await browser.request(callback);
    assert.equal(replay.status, 400);
    assert.equal(refusalCode(replay.body), 'sso_refused');
    assert.ok((await audited(server, 'signin.failed', 'state_unknown')) >= 1);
  });

  test('GitHub unreachable: the callback is refused as idp_unavailable', async () => {
    const browser = new Browser();
    const callback = await callbackFor(browser, 'octocat');
    await github.close();
    try {
      const answer = await browser.request(callback);
      assert.equal(answer.status, 502);
      assert.equal(refusalCode(answer.body), 'idp_unavailable');
      assert.equal(signedIn(browser), false);
      assert.ok((await audited(server, 'signin.failed', 'idp_unavailable')) >= 1);
    } finally {
      github.close = async () => {};
    }
  });
});

describe('GitHub connection configuration', () => {
  const load = (connection: Record<string, unknown>) =>
    loadConfig({ env: {}, cwd: '/tmp', overrides: { identityProviders: [{ id: 'gh', type: 'github', name: 'GitHub', clientId: 'c', clientSecret: 's', organization: 'octo', ...connection }] } });
  const refusedPaths = (connection: Record<string, unknown>): string[] => {
    try {
      load(connection);
    } catch (err) {
      assert.ok(err instanceof PortcullisError);
      assert.equal(err.code, 'config_invalid');
      return ((err.detail as { errors: { path: string }[] }).errors).map((e) => e.path);
    }
    return assert.fail('expected the configuration to be refused');
  };

  test('defaults: github.com, no domains, member role', () => {
    const [gh] = load({}).identityProviders;
    assert.ok(gh?.type === 'github');
    assert.deepEqual([gh.webUrl, gh.apiUrl, gh.issuer, gh.domains, gh.roles.default], ['https://github.com', 'https://api.github.com', 'https://github.com', [], 'member']);
  });

  test('a team needs its organization; role keys are of githubOrg; plain http only to loopback', () => {
    assert.ok(refusedPaths({ githubTeam: 'platform' }).some((p) => p.includes('githubTeam')));
    assert.ok(refusedPaths({ githubOrg: 'octo-org', roles: { map: { 'other-org/admins': 'admin' } } }).some((p) => p.includes('roles')));
    assert.ok(refusedPaths({ apiUrl: 'http://github.example.com' }).some((p) => p.includes('apiUrl')));
    assert.ok(refusedPaths({ clientSecret: undefined }).some((p) => p.includes('clientSecret')));
  });
});
