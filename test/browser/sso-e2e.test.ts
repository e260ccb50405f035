/**
 * The whole company sign-in story in a real browser (Debian's Chromium), as issue 13 tells it: an
 * MCP SDK client sends the user to Portcullis, "Continue with Acme SSO" leads to the company's IdP
 * (a second, real oidc-provider), its sign-in and consent pages, back to Portcullis's consent and
 * to the client, whose tools/call works — the user created in the connection's organization with
 * the role the IdP's groups map to. Then the leavers: one is disabled at the IdP, and the
 * client's next refresh is refused and its call with it; another is deactivated through SCIM with
 * the PATCH Okta sends, and the client's next call is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';
import { testClock } from '../helpers/clock.ts';
import { passExpiry } from '../helpers/mcp-clients.ts';
import { mcpStatus } from '../helpers/authz.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { issueToken, scimRequest, URN } from '../scim/support.ts';
import { audited, startTestIdp, type TestIdp, acmeConnection } from '../sso/support.ts';
import { DesktopClient, startCallbackServer, type CallbackServer } from './support.ts';

describe('company sign-in end to end in a browser: SSO in, leavers out', { skip: chromiumSkip() }, () => {
  const clock = testClock();
  let idp: TestIdp;
  let server: TestServer;
  let callback: CallbackServer;
  let browser: Browser;
  const clients: DesktopClient[] = [];

  before(async () => {
    const person = (name: string) => ({ email: `${name}@initech.test`, email_verified: true, name, groups: ['mcp-admins'] });
    idp = await startTestIdp({ alice: person('alice'), dave: person('dave') }, 'localhost');
    server = await startTestServer(
      {
        identityProviders: [
          acmeConnection(idp),
        ],
      },
      { clock },
    );
    idp.serve(`${server.url}/sso/acme-sso/callback`);
    callback = await startCallbackServer();
    browser = await launchChromium();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await browser?.close();
    await callback?.close();
    await server?.stop();
    await idp?.close();
  });

  /** An MCP SDK client authorized by `login` through "Continue with Acme SSO", in a browser context of its own. */
  async function connectThroughSso(login: string): Promise<DesktopClient> {
    const client = new DesktopClient(server.mcpUrl, callback.redirectUri, `SSO Client ${login}`);
    clients.push(client);
    const authorizationUrl = await client.connect();
    assert.ok(authorizationUrl, 'the client sends the user to the browser');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(authorizationUrl.href);
      await Promise.all([page.waitForURL((url) => url.origin === new URL(idp.issuer).origin), page.getByRole('link', { name: 'Continue with Acme SSO' }).click()]);
      await page.locator('input[name=login]').fill(login);
      await page.locator('input[name=password]').fill('anything');
      await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign-in' }).click()]);
      // The IdP's consent: offline_access (its refresh token is what re-checks the account later).
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('button', { name: 'Approve' }).waitFor();
      await Promise.all([page.waitForURL((url) => url.origin === callback.origin), page.getByRole('button', { name: 'Approve' }).click()]);
    } finally {
      await context.close();
    }
    await client.finish(callback.received.at(-1)!);
    return client;
  }

  async function roleInInitech(email: string): Promise<string | undefined> {
    const user = await server.store.users.findByEmail(email);
    const org = await server.store.orgs.bySlug('initech');
    return user && org ? (await server.store.orgs.member(org.id, user.id))?.role : undefined;
  }

  it('an MCP client signs in through the IdP and calls a tool; disabled at the IdP, its next refresh and call are refused', async () => {
    const client = await connectThroughSso('alice');
    assert.ok((await client.toolNames()).includes('list_projects'));
    assert.equal(await roleInInitech('alice@initech.test'), 'admin', 'created in initech with the role groups ["mcp-admins"] map to');

    idp.accounts.delete('alice');
    // The client refreshes when its access token has expired (the SDK refreshes on 401).
    passExpiry(clock, client.provider.tokens()!.access_token);
    await assert.rejects(client.toolNames(), 'the refresh is refused, and so is the call');
    assert.ok(client.provider.invalidated.length > 0, 'the SDK threw its tokens away (invalid_grant)');
    assert.equal(await audited(server, 'sso.recheck.refused', 'invalid_grant'), 1);
  });

  it('deactivated through SCIM (the PATCH Okta sends), the client’s next call is refused', async () => {
    const initech = (await server.store.orgs.bySlug('initech'))!;
    await server.addUser('it-admin@example.com', TEST_PASSWORD, { org: initech, role: 'owner' });
    const token = await issueToken(server, 'initech', 'it-admin@example.com');
    // Okta provisions the person before their first sign-in; the sign-in links that account.
    const created = await scimRequest(server, token, 'POST', '/Users', {
      schemas: [URN.user],
      userName: 'dave@initech.test',
      name: { givenName: 'Dave', familyName: 'Initech' },
      emails: [{ primary: true, value: 'dave@initech.test', type: 'work' }],
      active: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));

    const client = await connectThroughSso('dave');
    assert.ok((await client.toolNames()).includes('list_projects'));

    const accessToken = client.provider.tokens()!.access_token;
    assert.equal(await mcpStatus(server, accessToken), 200);
    const patched = await scimRequest(server, token, 'PATCH', `/Users/${created.body.id}`, { schemas: [URN.patch], Operations: [{ op: 'replace', value: { active: false } }] });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(await mcpStatus(server, accessToken), 401, 'the token already issued is refused at once');
    await assert.rejects(client.toolNames(), 'and the client’s refresh with it');
    assert.equal(await roleInInitech('dave@initech.test'), undefined, 'out of the organization');
  });
});
