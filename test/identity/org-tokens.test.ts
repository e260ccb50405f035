/**
 * A token never grants more than its user may do in the organization it acts for
 * (docs/design/identity.md "Scopes and roles"): the consent page offers what the user's role
 * allows, the token endpoint recomputes it at every issuance (so a role change applies at the next
 * refresh, a removal at once), and the org's own rules (which clients, how long) hold at both.
 */
import type { Org, OrgResource } from '../../src/store/orgs.ts';
import type { User } from '../../src/store/users.ts';
import { CLI_CLIENT_ID } from '../../src/shared/cli-client.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  assertOAuthError,
  assertTokens,
  authorizationUrl,
  obtainCode,
  redeemCode,
  refresh,
  registerConfidential,
  registerPublic,
  type RegisteredClient,
  type TokenSet,
} from '../helpers/authz.ts';
import { approveDeviceOverHttp, deviceStep, pollDeviceToken, startDeviceAuthorization } from '../helpers/device.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { checkboxValues, findForm, UserAgent, type PageResponse } from '../helpers/user-agent.ts';
import type { OrgRole, ResourceRole } from '../../src/core/roles.ts';

const ALL = 'demo:read demo:write demo:delete';
const WEB_REDIRECT = 'https://app.example.com/callback';

const claimsOf = (token: string) => decodeJwt(token) as Record<string, unknown>;
const scopesOf = (tokens: TokenSet) => tokens.scope.split(' ').filter(Boolean).sort();
const at = () => Math.floor(Date.now() / 1000);

describe('tokens bound to an organization', () => {
  let server: TestServer;
  let client: RegisteredClient;
  let workspace: OrgResource;
  let otherWorkspace: OrgResource;
  let people = 0;
  const clock = testClock();

  before(async () => {
    server = await startTestServer({}, { clock });
    client = await registerPublic(server, { client_name: 'Notes desktop' });
    workspace = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'workspace', parentId: null, name: 'Research', at: at() });
    otherWorkspace = await server.store.orgs.createResource({ orgId: server.org.id, kind: 'workspace', parentId: null, name: 'Finance', at: at() });
  });
  after(() => server?.stop());

  /** A new person in `org` with an org role, and (for members) a role on the Research workspace. */
  async function person(orgRole: OrgRole, resourceRole?: ResourceRole, org: Org = server.org, on: OrgResource = workspace): Promise<User> {
    const user = await server.addUser(`person${++people}@example.com`, TEST_PASSWORD, { role: orgRole, org });
    if (resourceRole) await server.store.orgs.setResourceMember(on.id, user.id, resourceRole, at());
    return user;
  }

  /** Sign in as `user`, approve what the consent page offers (minus `untick`), redeem the code. */
  async function tokensFor(user: User, options: { scope?: string; untick?: string[]; with?: RegisteredClient } = {}): Promise<TokenSet & { pages: PageResponse[] }> {
    const code = await obtainCode(server, options.with ?? client, { email: user.email, password: TEST_PASSWORD, scope: options.scope ?? ALL, untick: options.untick });
    return { ...assertTokens(await redeemCode(server, options.with ?? client, code)), pages: code.pages };
  }

  describe('which scopes the token carries, by role', () => {
    const cases: { who: string; org: OrgRole; res?: ResourceRole; scopes: string[] }[] = [
      { who: 'a viewer', org: 'member', res: 'viewer', scopes: ['demo:read'] },
      { who: 'an editor', org: 'member', res: 'editor', scopes: ['demo:read', 'demo:write'] },
      { who: 'a manager', org: 'member', res: 'manager', scopes: ['demo:delete', 'demo:read', 'demo:write'] },
      { who: 'an admin', org: 'admin', scopes: ['demo:delete', 'demo:read', 'demo:write'] },
      { who: 'an owner', org: 'owner', scopes: ['demo:delete', 'demo:read', 'demo:write'] },
    ];
    for (const c of cases) {
      it(`${c.who} asking for everything gets ${c.scopes.join(', ')}, and the token says for which org`, async () => {
        const user = await person(c.org, c.res);
        const tokens = await tokensFor(user);
        assert.deepEqual(scopesOf(tokens), c.scopes);
        const claims = claimsOf(tokens.access_token);
        assert.equal(claims.org_id, server.org.id);
        assert.deepEqual(claims.res, c.res ? { [workspace.id]: { viewer: 'read', editor: 'write', manager: 'delete' }[c.res] } : { '*': 'delete' });
      });
    }

    it('the consent page shows what the role does not allow as unavailable, without a box to tick', async () => {
      const viewer = await person('member', 'viewer');
      const { pages } = await tokensFor(viewer);
      const consent = pages.find((p) => p.body.includes('/consent"'))!;
      assert.deepEqual(checkboxValues(consent.body, 'grant'), ['0|demo:read']);
      assert.match(consent.body, /class="unavailable" data-scope="demo:write"/);
      assert.match(consent.body, /class="unavailable" data-scope="demo:delete"/);
    });

    it('a forged consent form ticking a scope the role does not allow does not get it', async () => {
      const viewer = await person('member', 'viewer');
      const ua = new UserAgent();
      const { url, pkce, redirectUri } = authorizationUrl(server, client, { scope: ALL });
      const consent = await signInToConsent(ua, url, viewer);
      const back = await ua.submit(consent, /\/consent$/, { decision: 'approve', grant: ['0|demo:read', '0|demo:write', '0|demo:delete'] }, toClient);
      const code = new URL(back.url).searchParams.get('code')!;
      const tokens = assertTokens(await redeemCode(server, client, { code, pkce, redirectUri }));
      assert.deepEqual(scopesOf(tokens), ['demo:read']);
    });

    it('the ID token tells who the user is, in which org, with which role, and the workspaces they can read', async () => {
      const viewer = await person('member', 'viewer');
      const tokens = await tokensFor(viewer, { scope: `openid ${ALL}` });
      assert.equal(typeof tokens.id_token, 'string');
      const id = claimsOf(String(tokens.id_token));
      assert.equal(id.sub, viewer.id);
      assert.equal(id.org_id, server.org.id);
      assert.equal(id.org_slug, 'acme');
      assert.equal(id.org_name, 'Acme');
      assert.equal(id.org_role, 'member');
      assert.deepEqual(id.workspaces, [{ id: workspace.id, name: 'Research' }]);

      const admin = await person('admin');
      const adminId = claimsOf(String((await tokensFor(admin, { scope: `openid ${ALL}` })).id_token));
      assert.equal(adminId.org_role, 'admin');
      assert.deepEqual(
        (adminId.workspaces as { id: string }[]).map((w) => w.id).sort(),
        [workspace.id, otherWorkspace.id].sort(),
      );
    });
  });

  describe('changes after consent', () => {
    it('a role change applies at the next refresh, both ways, within what was consented', async () => {
      const editor = await person('member', 'editor');
      const first = await tokensFor(editor);
      assert.deepEqual(scopesOf(first), ['demo:read', 'demo:write']);

      await server.store.orgs.setResourceMember(workspace.id, editor.id, 'viewer', at());
      const demoted = assertTokens(await refresh(server, client, first.refresh_token!));
      assert.deepEqual(scopesOf(demoted), ['demo:read']);
      assert.deepEqual(claimsOf(demoted.access_token).res, { [workspace.id]: 'read' });

      await server.store.orgs.setResourceMember(workspace.id, editor.id, 'manager', at());
      const promoted = assertTokens(await refresh(server, client, demoted.refresh_token!));
      assert.deepEqual(scopesOf(promoted), ['demo:read', 'demo:write'], 'never more than the user consented to');
      assert.deepEqual(claimsOf(promoted.access_token).res, { [workspace.id]: 'delete' });
    });

    it('a removed member cannot refresh: invalid_grant', async () => {
      const member = await person('member', 'editor');
      const tokens = await tokensFor(member);
      assert.equal(await server.store.orgs.removeMember(server.org.id, member.id), 'ok');
      assertOAuthError(await refresh(server, client, tokens.refresh_token!), 'invalid_grant', 400);
    });

    it('a disabled user cannot refresh, nor redeem a code obtained before: invalid_grant', async () => {
      const user = await person('admin');
      const tokens = await tokensFor(user);
      const code = await obtainCode(server, client, { email: user.email, password: TEST_PASSWORD, scope: ALL });
      await server.store.users.setDisabled(user.id, at());
      assertOAuthError(await refresh(server, client, tokens.refresh_token!), 'invalid_grant', 400);
      assertOAuthError(await redeemCode(server, client, code), 'invalid_grant', 400);
    });

    it('every issuance marks the grant as used (connected apps show it)', async () => {
      const user = await person('admin');
      const tokens = await tokensFor(user);
      const grantId = String(claimsOf(tokens.access_token).grant_id);
      const context = await server.store.grantContexts.get(grantId);
      assert.equal(context?.orgId, server.org.id);
      assert.equal(context?.userId, user.id);
      assert.equal(context?.clientId, client.client_id);
      assert.ok(context?.lastUsedAt !== null && context!.lastUsedAt! >= context!.createdAt);
    });
  });

  describe('device authorization (portcullis-cli)', () => {
    it("binds the device's token the same way: the role's scopes, org_id and res, the ID token's org claims; a removed member's refresh is refused", async () => {
      const viewer = await person('member', 'viewer');
      const device = await startDeviceAuthorization(server, { scope: `openid ${ALL}`, resource: server.mcpUrl });
      const { page } = await approveDeviceOverHttp(server, device.user_code, { email: viewer.email, password: TEST_PASSWORD });
      assert.equal(deviceStep(page.body), 'approved');
      const tokens = assertTokens(await pollDeviceToken(server, device.device_code));
      assert.deepEqual(scopesOf(tokens).filter((s) => s.startsWith('demo:')), ['demo:read']);
      const claims = claimsOf(tokens.access_token);
      assert.equal(claims.org_id, server.org.id);
      assert.deepEqual(claims.res, { [workspace.id]: 'read' });
      const id = claimsOf(String(tokens.id_token));
      assert.equal(id.org_role, 'member');
      assert.deepEqual(id.workspaces, [{ id: workspace.id, name: 'Research' }]);

      const cli = { client_id: CLI_CLIENT_ID, token_endpoint_auth_method: 'none' };
      const refreshed = assertTokens(await refresh(server, cli, tokens.refresh_token!));
      assert.equal(claimsOf(refreshed.access_token).org_id, server.org.id);
      assert.equal(await server.store.orgs.removeMember(server.org.id, viewer.id), 'ok');
      assertOAuthError(await refresh(server, cli, refreshed.refresh_token!), 'invalid_grant', 400);
    });
  });

  describe("the organization's settings", () => {
    async function orgWith(slug: string, settings: Org['settings']): Promise<Org> {
      return server.store.orgs.create({ slug, name: slug[0]!.toUpperCase() + slug.slice(1), settings });
    }

    it('its access-token lifetime applies when shorter than the server’s', async () => {
      const org = await orgWith('shortlived', { accessTokenTtl: 120 });
      const user = await person('owner', undefined, org);
      const tokens = await tokensFor(user);
      assert.equal(tokens.expires_in, 120);
      const claims = claimsOf(tokens.access_token);
      assert.equal(Number(claims.exp) - Number(claims.iat), 120);
      assert.equal(claims.org_id, org.id);
      const refreshed = assertTokens(await refresh(server, client, tokens.refresh_token!));
      assert.equal(refreshed.expires_in, 120);
    });

    it('its session maximum ends refreshing that long after the first sign-in', async () => {
      const org = await orgWith('brief', { sessionMaxTtl: 2 });
      const user = await person('owner', undefined, org);
      const tokens = await tokensFor(user);
      const refreshed = assertTokens(await refresh(server, client, tokens.refresh_token!));
      clock.advance(3);
      assertOAuthError(await refresh(server, client, refreshed.refresh_token!), 'invalid_grant', 400);
    });

    it('an org that does not allow dynamically registered clients is not offered; with no other org the user is told, and the client gets access_denied', async () => {
      const org = await orgWith('closed', { clientKinds: ['pre-registered'] });
      const user = await person('owner', undefined, org);
      const ua = new UserAgent();
      const { url, state } = authorizationUrl(server, client, { scope: ALL });
      const page = await signInToConsent(ua, url, user, false);
      assert.equal(page.status, 403);
      assert.ok(page.body.includes('No organization can use'));
      assert.ok(page.body.includes('Closed'));
      const back = await ua.submit(page, /\/abort$/, {}, toClient);
      const callback = new URL(back.url);
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.equal(callback.searchParams.get('state'), state);
      assert.equal(callback.searchParams.get('code'), null);
    });

    it('an org whose allow-list leaves the client out is not offered; a posted one is refused', async () => {
      const listed = await orgWith('listed', { clientAllowList: ['some-other-client'] });
      const user = await person('owner', undefined, listed);
      await server.store.orgs.addMember(server.org.id, user.id, 'admin', at());
      const ua = new UserAgent();
      const { url } = authorizationUrl(server, client, { scope: ALL });
      const consent = await signInToConsent(ua, url, user);
      assert.ok(!consent.body.includes(listed.id), 'the refusing org is not offered');
      assert.match(consent.body, new RegExp(`name="org" value="${server.org.id}"`));
      const refused = await ua.submit(consent, /\/consent$/, { decision: 'approve', org: listed.id, grant: ['0|demo:read'] }, toClient);
      assert.equal(refused.status, 400);
      assert.ok(refused.body.includes('role="alert"'));
    });

    it('an org that stops allowing a client after consent stops its refreshes: invalid_grant', async () => {
      const org = await orgWith('changing', {});
      const user = await person('owner', undefined, org);
      const tokens = await tokensFor(user);
      assert.equal(claimsOf(tokens.access_token).org_id, org.id);
      await server.store.orgs.update(org.id, { settings: { clientAllowList: ['some-other-client'] } });
      assertOAuthError(await refresh(server, client, tokens.refresh_token!), 'invalid_grant', 400);
      await server.store.orgs.update(org.id, { settings: { clientKinds: ['pre-registered', 'metadata-document'] } });
      assertOAuthError(await refresh(server, client, tokens.refresh_token!), 'invalid_grant', 400);
      await server.store.orgs.update(org.id, { settings: {} });
      assertTokens(await refresh(server, client, tokens.refresh_token!));
    });
  });

  describe('a user in several organizations', () => {
    let globex: Org;
    let both: User;

    before(async () => {
      globex = await server.store.orgs.create({ slug: 'globex', name: 'Globex' });
      both = await person('admin');
      await server.store.orgs.addMember(globex.id, both.id, 'member', at());
      const lab = await server.store.orgs.createResource({ orgId: globex.id, kind: 'workspace', parentId: null, name: 'Lab', at: at() });
      await server.store.orgs.setResourceMember(lab.id, both.id, 'viewer', at());
    });

    it('picks the org on the consent page; the token acts for it with the role there', async () => {
      const ua = new UserAgent();
      const { url, pkce, redirectUri } = authorizationUrl(server, client, { scope: ALL });
      const consent = await signInToConsent(ua, url, both);
      const radios = [...consent.body.matchAll(/<input type="radio" name="org" value="([^"]+)"( checked)?/g)];
      assert.deepEqual(radios.map((r) => r[1]).sort(), [server.org.id, globex.id].sort());
      assert.equal(radios.find((r) => r[2])?.[1], server.org.id, 'the first org is preselected');

      // Without JavaScript: "show permissions" re-renders the page for the chosen org.
      const forGlobex = await ua.submit(consent, /\/consent$/, { decision: 'switch', org: globex.id }, toClient);
      assert.equal(forGlobex.status, 200);
      assert.deepEqual(checkboxValues(forGlobex.body, 'grant'), ['0|demo:read']);
      assert.match(forGlobex.body, new RegExp(`value="${globex.id}" checked`));

      const back = await ua.submit(forGlobex, /\/consent$/, { decision: 'approve', org: globex.id, grant: ['0|demo:read'] }, toClient);
      const code = new URL(back.url).searchParams.get('code')!;
      const tokens = assertTokens(await redeemCode(server, client, { code, pkce, redirectUri }));
      assert.equal(claimsOf(tokens.access_token).org_id, globex.id);
      assert.deepEqual(scopesOf(tokens), ['demo:read']);
    });

    it("the org of the client's previous grant comes preselected; switching to where the role is higher offers more", async () => {
      const ua = new UserAgent();
      const { url, pkce, redirectUri } = authorizationUrl(server, client, { scope: ALL });
      const consent = await signInToConsent(ua, url, both);
      assert.match(consent.body, new RegExp(`value="${globex.id}" checked`), 'Globex, as last time');
      assert.deepEqual(checkboxValues(consent.body, 'grant'), ['0|demo:read']);

      const forAcme = await ua.submit(consent, /\/consent$/, { decision: 'switch', org: server.org.id }, toClient);
      assert.deepEqual(checkboxValues(forAcme.body, 'grant'), ['0|demo:read', '0|demo:write', '0|demo:delete']);
      const back = await ua.submit(forAcme, /\/consent$/, { decision: 'approve', org: server.org.id, grant: checkboxValues(forAcme.body, 'grant') }, toClient);
      const tokens = assertTokens(await redeemCode(server, client, { code: new URL(back.url).searchParams.get('code')!, pkce, redirectUri }));
      assert.equal(claimsOf(tokens.access_token).org_id, server.org.id);
      assert.deepEqual(scopesOf(tokens), ['demo:delete', 'demo:read', 'demo:write']);
    });

    it('a posted org the user is not a member of is refused, and no code is issued', async () => {
      const stranger = await server.store.orgs.create({ slug: 'initech', name: 'Initech' });
      const ua = new UserAgent();
      const { url } = authorizationUrl(server, client, { scope: ALL });
      const consent = await signInToConsent(ua, url, both);
      for (const org of [stranger.id, '', 'org_does_not_exist']) {
        const answer = await ua.submit(consent, /\/consent$/, { decision: 'approve', org, grant: ['0|demo:read'] }, toClient);
        assert.equal(answer.status, 400, `org ${JSON.stringify(org)}`);
        assert.ok(!answer.url.includes('code='));
      }
    });

    it('a remembered consent keeps its org: the next authorization asks nothing and acts for the same org', async () => {
      const confidential = await registerConfidential(server, { redirect_uris: [WEB_REDIRECT] });
      const ua = new UserAgent();
      const first = authorizationUrl(server, confidential, { scope: ALL, redirectUri: WEB_REDIRECT });
      const consent = await signInToConsent(ua, first.url, both);
      const back = await ua.submit(consent, /\/consent$/, { decision: 'approve', org: globex.id, grant: ['0|demo:read'] }, toClient);
      assert.ok(new URL(back.url).searchParams.get('code'));

      const again = authorizationUrl(server, confidential, { scope: ALL, redirectUri: WEB_REDIRECT });
      const silent = await ua.follow(again.url, toClient);
      const code = new URL(silent.url).searchParams.get('code');
      assert.ok(code, 'no consent page the second time');
      const tokens = assertTokens(await redeemCode(server, confidential, { code, pkce: again.pkce, redirectUri: WEB_REDIRECT }));
      assert.equal(claimsOf(tokens.access_token).org_id, globex.id);
      assert.deepEqual(scopesOf(tokens), ['demo:read']);
    });
  });
});

const toClient = (location: string) => location.startsWith('http://127.0.0.1') || location.startsWith(WEB_REDIRECT);

/** Open the authorization URL and sign in; returns the consent page (or whatever comes instead). */
async function signInToConsent(ua: UserAgent, url: string, user: User, expectConsent = true): Promise<PageResponse> {
  let page = await ua.follow(url, toClient);
  if (page.body.includes('/login"')) page = await ua.submit(page, /\/login$/, { email: user.email, password: TEST_PASSWORD }, toClient);
  if (expectConsent) {
    assert.ok(page.body.includes('/consent"'), `expected the consent page, got ${page.status}:\n${page.body.slice(0, 600)}`);
    findForm(page.body, /\/consent$/);
  }
  return page;
}
