/**
 * A connection an organization's owner adds through the admin API is used at once, without a
 * restart: home-realm discovery sends the owner's colleagues to their IdP (a real second
 * oidc-provider) and a full sign-in creates them in the organization with their mapped role; a
 * domain the organization has not verified routes nobody; a removed connection signs nobody in.
 * And a second instance on the same PostgreSQL hears every change (the change feed). The test IdP
 * is on a loopback address, which owners' connections may name only with `allowPrivateIssuers`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startPortcullis, type Running } from '../../src/server/app.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { databaseTargets, dropSchema, postgresUrl } from '../helpers/databases.ts';
import { adminClient, waitFor, type AdminClient } from '../admin/support.ts';
import { startTestDns, type TestDns } from './dns-server.ts';
import { audited, Browser, refusalCode, signInAtIdp, startTestIdp, type Answer, type TestIdp } from './support.ts';

const ACCOUNTS = {
  ida: { email: 'ida@initech.test', email_verified: true, name: 'Ida', groups: ['mcp-admins'] },
  sam: { email: 'sam@squat.test', email_verified: true, name: 'Sam', groups: [] },
};

/** Claim `domain` for the org and publish its TXT record, then verify it: the owner's steps. */
async function verifiedDomain(owner: AdminClient, dns: TestDns, org: string, domain: string): Promise<void> {
  const claimed = await owner.call('POST', `/orgs/${org}/domains`, { domain });
  assert.equal(claimed.status, 201, JSON.stringify(claimed.body));
  const record = claimed.body.record as { name: string; value: string };
  dns.txt.set(record.name, [[record.value]]);
  const verified = await owner.call('POST', `/orgs/${org}/domains/${domain}/verify`);
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
}

function connection(id: string, idp: TestIdp, extra: Record<string, unknown> = {}) {
  return { id, type: 'oidc', name: 'Initech SSO', issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, domains: ['initech.test'], roles: { map: { 'mcp-admins': 'admin' } }, scopes: ['openid', 'email', 'profile', 'groups'], ...extra };
}

/** The console's sign-in form with only an e-mail typed: where does it lead? */
async function emailFirst(browser: Browser, url: string, email: string): Promise<Answer> {
  const form = await browser.request(`${url}/login`);
  return browser.submit(form, /\/login$/, { email, password: '' });
}

async function roleIn(store: Running['store'], slug: string, email: string): Promise<string | undefined> {
  const user = await store.users.findByEmail(email);
  const org = await store.orgs.bySlug(slug);
  return user && org ? (await store.orgs.member(org.id, user.id))?.role : undefined;
}

describe('an organization\'s own connection signs its people in without a restart', () => {
  let idp: TestIdp;
  let dns: TestDns;
  let server: TestServer;
  let ada: AdminClient;

  before(async () => {
    idp = await startTestIdp(ACCOUNTS);
    dns = await startTestDns();
    server = await startTestServer({ organizationConnections: { dnsServers: [dns.server], allowPrivateIssuers: true } });
    idp.serve(`${server.url}/sso/initech/callback`);
    ada = await adminClient(server, 'ada@example.com', false);
  });
  after(async () => {
    await server?.stop();
    await idp?.close();
    await dns?.close();
  });

  it('routes nobody before the connection exists', async () => {
    const answer = await emailFirst(new Browser(), server.url, 'ida@initech.test');
    assert.ok(answer.url.startsWith(server.url), `stays here: ${answer.url}`);
  });

  it('sends a colleague to the IdP once the owner added the connection, and signs them in with the mapped role', async () => {
    await verifiedDomain(ada, dns, 'acme', 'initech.test');
    assert.equal((await ada.call('POST', '/orgs/acme/identity-providers', connection('initech', idp))).status, 201);
    const browser = new Browser();
    const atIdp = await waitFor(async () => {
      const page = await emailFirst(browser, server.url, 'ida@initech.test');
      return page.url.startsWith(idp.issuer) && page;
    }, 'home-realm discovery to the new connection');
    const atCallback = (location: string) => location.startsWith(`${server.url}/sso/initech/callback`);
    const callback = await signInAtIdp(browser, atIdp, 'ida', atCallback);
    const back = await browser.request(callback.location!);
    assert.equal(back.status, 303, back.body.slice(0, 300));
    assert.equal(await roleIn(server.store, 'acme', 'ida@initech.test'), 'admin', 'created in the connection\'s organization with the mapped role');
    assert.ok((await audited(server, 'signin.succeeded', 'sso')) >= 1);
  });

  it('uses a changed secret at the next sign-in (what was discovered for the old one is dropped)', async () => {
    const { ssoConnections } = await import('../../src/identity/connection-directory.ts');
    const signIn = async () => {
      const browser = new Browser();
      const page = await emailFirst(browser, server.url, 'ida@initech.test');
      const callback = await signInAtIdp(browser, page, 'ida', (location) => location.startsWith(`${server.url}/sso/initech/callback`));
      return browser.request(callback.location!);
    };
    assert.equal((await ada.call('PATCH', '/orgs/acme/identity-providers/initech', { clientSecret: 'not-the-secret-the-idp-knows' })).status, 200);
    await waitFor(() => {
      const now = ssoConnections(server.config).get('initech');
      return now?.type === 'oidc' && now.clientSecret === 'not-the-secret-the-idp-knows';
    }, 'the directory to read the new secret');
    const refused = await signIn();
    assert.equal(refused.status, 400, 'the IdP refuses the code exchange with the new (wrong) secret');
    assert.equal(refusalCode(refused.body), 'sso_refused');
    assert.equal((await ada.call('PATCH', '/orgs/acme/identity-providers/initech', { clientSecret: idp.clientSecret })).status, 200);
    await waitFor(() => {
      const now = ssoConnections(server.config).get('initech');
      return now?.type === 'oidc' && now.clientSecret === idp.clientSecret;
    }, 'the directory to read the right secret');
    assert.equal((await signIn()).status, 303);
  });

  it('does not route a domain the organization no longer holds verified', async () => {
    await verifiedDomain(ada, dns, 'acme', 'squat.test');
    assert.equal((await ada.call('POST', '/orgs/acme/identity-providers', connection('squatter', idp, { domains: ['squat.test'] }))).status, 201);
    const { ssoConnections } = await import('../../src/identity/connection-directory.ts');
    await waitFor(() => ssoConnections(server.config).forEmail('sam@squat.test')?.id === 'squatter', 'the new connection to route');
    // The verification is gone (given up past the API's in-use check), then the domain asked for again, unverified.
    await server.store.orgConnections.deleteDomain(server.org.id, 'squat.test');
    assert.equal((await ada.call('POST', '/orgs/acme/domains', { domain: 'squat.test' })).status, 201);
    await waitFor(() => ssoConnections(server.config).forEmail('sam@squat.test') === undefined, 'the directory to drop the route');
    assert.ok(ssoConnections(server.config).get('squatter'), 'the connection is still there, routing nobody');
    const answer = await emailFirst(new Browser(), server.url, 'sam@squat.test');
    assert.ok(answer.url.startsWith(server.url), `an unverified domain routes nobody: ${answer.url}`);
  });

  it('signs nobody in through a removed connection', async () => {
    assert.equal((await ada.call('DELETE', '/orgs/acme/identity-providers/initech')).status, 204);
    const browser = new Browser();
    const refused = await waitFor(async () => {
      const answer = await browser.request(`${server.url}/sso/initech/start`);
      return refusalCode(answer.body) === 'unknown_connection' && answer;
    }, 'the connection to be gone');
    assert.ok(refused.status >= 400 && refused.status < 500, `refused: ${refused.status}`);
  });
});

const postgres = databaseTargets().find((t) => t.dialect === 'postgres')!;

describe('a second instance on the same PostgreSQL hears every change', { skip: postgres.skip }, () => {
  let idp: TestIdp;
  let dns: TestDns;
  let first: TestServer;
  let second: Running;
  let ada: AdminClient;
  const schema = `pct_sso_${randomBytes(5).toString('hex')}`;

  before(async () => {
    idp = await startTestIdp(ACCOUNTS);
    dns = await startTestDns();
    const databaseUrl = postgresUrl();
    const organizationConnections = { dnsServers: [dns.server], allowPrivateIssuers: true, allowPublicButtons: true };
    first = await startTestServer({ databaseUrl, organizationConnections }, { schema });
    const config = loadConfig({ env: {}, cwd: first.config.dataDir, overrides: { port: 0, dataDir: first.config.dataDir, logLevel: 'silent', databaseUrl, organizationConnections } });
    second = await startPortcullis(config, { log: silentLogger(), quiet: true, schema });
    idp.serve(`${second.url}/sso/pg-initech/callback`);
    ada = await adminClient(first, 'ada@example.com', false);
  });
  after(async () => {
    await idp?.close();
    await dns?.close();
    await second?.close();
    await first?.stop();
    if (first) await dropSchema(postgresUrl(), schema);
  });

  it('signs in through a connection added on the other instance, shows its change, forgets it once removed', async () => {
    await verifiedDomain(ada, dns, 'acme', 'initech.test');
    assert.equal((await ada.call('POST', '/orgs/acme/identity-providers', connection('pg-initech', idp))).status, 201);
    const browser = new Browser();
    const atIdp = await waitFor(async () => {
      const page = await emailFirst(browser, second.url, 'ida@initech.test');
      return page.url.startsWith(idp.issuer) && page;
    }, 'the second instance to route to the new connection', 3000);
    const callback = await signInAtIdp(browser, atIdp, 'ida', (location) => location.startsWith(`${second.url}/sso/pg-initech/callback`));
    assert.equal((await browser.request(callback.location!)).status, 303);
    assert.equal(await roleIn(second.store, 'acme', 'ida@initech.test'), 'admin');

    assert.equal((await ada.call('PATCH', '/orgs/acme/identity-providers/pg-initech', { name: 'Initech Okta', public: true })).status, 200);
    await waitFor(async () => (await new Browser().request(`${second.url}/login`)).body.includes('Continue with Initech Okta'), 'the button on the second instance', 3000);

    assert.equal((await ada.call('DELETE', '/orgs/acme/identity-providers/pg-initech')).status, 204);
    const refused = await waitFor(async () => {
      const answer = await new Browser().request(`${second.url}/sso/pg-initech/start`);
      return refusalCode(answer.body) === 'unknown_connection' && answer;
    }, 'the second instance to forget the connection', 3000);
    assert.ok(refused.status >= 400 && refused.status < 500, `refused: ${refused.status}`);
  });
});
