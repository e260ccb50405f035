/**
 * SAML connections an organization's owner adds through the admin API: the IdP given by inline
 * metadata (checked when saved, its problems reported on the field), a metadata URL or explicitly
 * — never at a private address unless the server allows it, never for a domain the organization
 * has not verified — and a full sign-in through one against the test IdP (saml-idp.ts) with no
 * restart; pointed at another IdP, the connection's metadata is read again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { testClock } from '../helpers/clock.ts';
import { databaseTargets, dropSchema, postgresUrl } from '../helpers/databases.ts';
import { adminClient, waitFor, type AdminClient, type ApiAnswer } from '../admin/support.ts';
import { startTestDns, type TestDns } from './dns-server.ts';
import { audited, Browser, refusalCode } from './support.ts';
import { newSigningKey, TestSamlIdp } from './saml-idp.ts';
import { samlFlow } from './saml-support.ts';

const EMAIL = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';
const GROUPS = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups';

function assertError(answer: ApiAnswer, code: string, status: number, path?: string): void {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error, code);
  if (path) assert.ok(((answer.body.errors as { path: string }[] | undefined) ?? []).some((e) => e.path === path), `a field error at ${path}: ${JSON.stringify(answer.body)}`);
}

/** Claim `domain` for the org, publish its TXT record, verify it: the owner's steps. */
async function verifiedDomain(owner: AdminClient, dns: TestDns, domain: string): Promise<void> {
  const claimed = await owner.call('POST', '/orgs/acme/domains', { domain });
  assert.equal(claimed.status, 201, JSON.stringify(claimed.body));
  const record = claimed.body.record as { name: string; value: string };
  dns.txt.set(record.name, [[record.value]]);
  assert.equal((await owner.call('POST', `/orgs/acme/domains/${domain}/verify`)).status, 200);
}

const saml = (id: string, idp: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'saml',
  name: 'Initech SAML',
  domains: ['initech.test'],
  idp,
  roles: { attribute: GROUPS, map: { 'mcp-admins': 'admin' } },
  ...extra,
});

describe('an owner\'s SAML connection through the admin API', () => {
  const idp = new TestSamlIdp();
  let server: TestServer;
  let dns: TestDns;
  let ada: AdminClient;

  before(async () => {
    dns = await startTestDns();
    // No allowPrivateIssuers: owners' IdPs must be at public https addresses.
    server = await startTestServer({ organizationConnections: { dnsServers: [dns.server] } });
    ada = await adminClient(server, 'ada@example.com', false);
    await verifiedDomain(ada, dns, 'initech.test');
  });
  after(async () => {
    await server?.stop();
    await dns?.close();
    await idp.close();
  });

  it('creates one from pasted metadata: the IdP read from it, nothing secret, audited', async () => {
    const created = await ada.call('POST', '/orgs/acme/identity-providers', saml('initech-saml', { metadataXml: idp.metadataXml() }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const shown = await ada.call('GET', '/orgs/acme/identity-providers/initech-saml');
    assert.equal(shown.status, 200);
    assert.equal(shown.body.type, 'saml');
    assert.equal(shown.body.organization, 'acme');
    assert.deepEqual(shown.body.idp, { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.key.certificatePem] }, 'the entity ID, the HTTP-Redirect sign-on URL and the signing certificate from the metadata');
    assert.equal(shown.body.readOnly, false);
    assert.equal((await server.store.orgConnections.getConnection('initech-saml'))?.secretsSealed, null, 'nothing sealed');
    assert.ok((await audited(server, 'admin.sso_connection.created')) >= 1);
  });

  it('refuses unusable metadata on its field, as the configuration file does', async () => {
    const broken = [
      '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"', // not well-formed
      idp.metadataXml().replace(/<md:KeyDescriptor[\s\S]*?<\/md:KeyDescriptor>/, ''), // no signing certificate
      `<!DOCTYPE x [<!ENTITY e "e">]>${idp.metadataXml().replace('<?xml version="1.0"?>', '')}`, // a DTD (SAML metadata needs none)
    ];
    for (const metadataXml of broken) assertError(await ada.call('POST', '/orgs/acme/identity-providers', saml('broken', { metadataXml })), 'invalid_request', 400, 'idp.metadataXml');
    assert.equal(await server.store.orgConnections.getConnection('broken'), undefined);
  });

  it('refuses an IdP at a private or plain-http address: metadata URL, sign-on URL, or inside pasted metadata', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ metadataUrl: 'not a url' }, 'idp.metadataUrl'],
      [{ metadataUrl: 'http://127.0.0.1:9/metadata' }, 'idp.metadataUrl'],
      [{ metadataUrl: 'https://10.1.2.3/metadata' }, 'idp.metadataUrl'],
      [{ metadataUrl: 'https://localhost/metadata' }, 'idp.metadataUrl'],
      [{ entityId: idp.entityId, ssoUrl: 'https://192.168.1.1/sso', certificates: [idp.key.certificatePem] }, 'idp.ssoUrl'],
      [{ metadataXml: idp.metadataXml().replaceAll(idp.ssoUrl, 'http://127.0.0.1:8080/sso') }, 'idp.metadataXml'],
    ];
    for (const [given, path] of cases) assertError(await ada.call('POST', '/orgs/acme/identity-providers', saml('private', given, { domains: ['initech.test'] })), 'invalid_request', 400, path);
    assert.equal(await server.store.orgConnections.getConnection('private'), undefined);
  });

  it('refuses a domain the organization has not verified', async () => {
    assertError(await ada.call('POST', '/orgs/acme/identity-providers', saml('unverified', { metadataUrl: 'https://idp.initech.test/metadata' }, { domains: ['globex.test'] })), 'invalid_request', 400, 'domains');
    assert.equal(await server.store.orgConnections.getConnection('unverified'), undefined);
  });

  it('accepts explicit IdP values at public https addresses, and a public button only where the server allows it', async () => {
    await verifiedDomain(ada, dns, 'initrode.test');
    const explicit = { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.key.certificatePem] };
    assertError(await ada.call('POST', '/orgs/acme/identity-providers', saml('initrode', explicit, { domains: ['initrode.test'], public: true })), 'invalid_request', 400, 'public');
    const created = await ada.call('POST', '/orgs/acme/identity-providers', saml('initrode', explicit, { domains: ['initrode.test'] }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
  });
});

for (const target of databaseTargets()) {
  describe(`an owner's SAML connection signs people in without a restart (${target.dialect})`, { skip: target.skip }, () => {
    const clock = testClock();
    const idp = new TestSamlIdp();
    /** Another IdP the connection is later pointed at (same entity ID, its own key). */
    const moved = new TestSamlIdp();
    let server: TestServer;
    let dns: TestDns;
    let ada: AdminClient;
    const schema = `pct_saml_${randomBytes(5).toString('hex')}`;

    before(async () => {
      dns = await startTestDns();
      await idp.serveMetadata();
      await moved.serveMetadata();
      // The test IdP serves its metadata on loopback: allowed here only by allowPrivateIssuers.
      const databaseUrl = target.dialect === 'postgres' ? postgresUrl() : undefined;
      server = await startTestServer({ ...(databaseUrl ? { databaseUrl } : {}), organizationConnections: { dnsServers: [dns.server], allowPrivateIssuers: true } }, { clock, ...(databaseUrl ? { schema } : {}) });
      ada = await adminClient(server, 'ada@example.com', false);
      await verifiedDomain(ada, dns, 'initech.test');
    });
    after(async () => {
      await server?.stop();
      await dns?.close();
      await idp.close();
      await moved.close();
      if (server && target.dialect === 'postgres') await dropSchema(postgresUrl(), schema);
    });

    const signIn = async (signer: TestSamlIdp, nameId: string, email: string, groups: string[], connection = 'initech-saml', key = signer.key) => {
      const flow = samlFlow(server, signer);
      const browser = new Browser();
      const request = await flow.start(browser, connection, '/account');
      const response = signer.response(flow.sp(connection), { now: clock.now(), inResponseTo: request.id, nameId, attributes: { [EMAIL]: email, [GROUPS]: groups }, key });
      return { answer: await flow.post(browser, connection, response, request.relayState), signedIn: () => flow.signedIn(browser) };
    };

    it('signs a colleague in through the IdP of the metadata URL, into the organization with the mapped role', async () => {
      const created = await ada.call('POST', '/orgs/acme/identity-providers', saml('initech-saml', { metadataUrl: idp.metadataUrl }));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await waitFor(async () => (await fetch(`${server.url}/sso/initech-saml/saml/metadata`)).status === 200, 'the directory to serve the new connection');
      const { answer, signedIn } = await signIn(idp, 'ida-0001', 'Ida@Initech.test', ['mcp-admins']);
      assert.equal(answer.status, 303, answer.body.slice(0, 500));
      assert.equal(answer.location, `${server.url}/account`);
      assert.ok(signedIn());
      const user = await server.store.users.findByEmail('ida@initech.test');
      assert.ok(user, 'created just in time');
      const org = (await server.store.orgs.bySlug('acme'))!;
      assert.equal((await server.store.orgs.member(org.id, user.id))?.role, 'admin', 'mcp-admins maps to admin');
      const links = await server.store.ssoLinks.forUser(user.id);
      assert.deepEqual(links.map((l) => [l.issuer, l.subject, l.connectionId]), [[idp.entityId, 'ida-0001', 'initech-saml']]);
    });

    it('does not let another connection naming the same IdP entity ID (with its own key) sign in an account linked through this one', async () => {
      await verifiedDomain(ada, dns, 'initrode.test');
      const mallory = newSigningKey('not the idp');
      const copycat = saml('copycat', { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [mallory.certificatePem] }, { domains: ['initrode.test'] });
      assert.equal((await ada.call('POST', '/orgs/acme/identity-providers', copycat)).status, 201);
      await waitFor(async () => (await fetch(`${server.url}/sso/copycat/saml/metadata`)).status === 200, 'the directory to serve the copycat');
      const before = await audited(server, 'signin.failed', 'other_connection');
      const attempt = await signIn(idp, 'ida-0001', 'ida@initrode.test', ['mcp-admins'], 'copycat', mallory);
      assert.equal(refusalCode(attempt.answer.body), 'sso_account_refused');
      assert.equal(attempt.signedIn(), false);
      assert.equal(await audited(server, 'signin.failed', 'other_connection'), before + 1);
      assert.equal((await ada.call('DELETE', '/orgs/acme/identity-providers/copycat')).status, 204);
    });

    it('reads the metadata again once the owner points the connection at another IdP: the old key is refused, the new one signs in', async () => {
      const changed = await ada.call('PATCH', '/orgs/acme/identity-providers/initech-saml', { idp: { metadataUrl: moved.metadataUrl } });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      const { ssoConnections } = await import('../../src/identity/connection-directory.ts');
      await waitFor(() => {
        const now = ssoConnections(server.config).get('initech-saml');
        return now?.type === 'saml' && 'metadataUrl' in now.idp && now.idp.metadataUrl === moved.metadataUrl;
      }, 'the directory to read the change');
      const stale = await signIn(idp, 'ida-0001', 'ida@initech.test', []);
      assert.equal(refusalCode(stale.answer.body), 'sso_refused', 'signed with the key of the IdP no longer named');
      assert.equal(stale.signedIn(), false);
      assert.equal(moved.metadataHits, 1, 'the new metadata was fetched');
      const fresh = await signIn(moved, 'ida-0001', 'ida@initech.test', []);
      assert.equal(fresh.answer.status, 303, fresh.answer.body.slice(0, 500));
      assert.ok(fresh.signedIn());
    });

    it('signs nobody in once deleted, and forgets the links made through it', async () => {
      const ida = (await server.store.users.findByEmail('ida@initech.test'))!;
      const throughIt = async () => (await server.store.ssoLinks.forUser(ida.id)).filter((l) => l.connectionId === 'initech-saml').length;
      assert.ok((await throughIt()) > 0, 'Ida signed in through it');
      assert.equal((await ada.call('DELETE', '/orgs/acme/identity-providers/initech-saml')).status, 204);
      // A connection made later with this id (by any organization) inherits nobody.
      assert.equal(await throughIt(), 0);
      await waitFor(async () => (await fetch(`${server.url}/sso/initech-saml/saml/metadata`)).status === 404, 'the directory to drop the connection');
    });
  });
}
