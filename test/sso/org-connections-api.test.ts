/**
 * An organization's own single sign-on, through the admin API: its owners claim e-mail domains,
 * prove them with a DNS TXT record (a real DNS server on a loopback port answers), and add OIDC
 * and GitHub connections whose secrets are never shown again. Admins and members of the org are
 * refused, outsiders do not learn it exists; the configuration's connections are read-only; a
 * domain held by the configuration or by another organization cannot be taken, nor a public
 * mail provider's; every change and every refused verification is on the audit record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient, waitFor, type AdminClient, type ApiAnswer } from '../admin/support.ts';
import { startTestDns, type TestDns } from './dns-server.ts';
import { audited } from './support.ts';

const SECRET = 'org-connection-client-secret-4242';

function assertError(answer: ApiAnswer, code: string, status: number, path?: string): void {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error, code);
  if (path) assert.ok(((answer.body.errors as { path: string }[] | undefined) ?? []).some((e) => e.path === path), `a field error at ${path}: ${JSON.stringify(answer.body)}`);
}

const oidc = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'oidc',
  name: 'Initech SSO',
  issuer: 'https://idp.initech.test',
  clientId: 'portcullis',
  clientSecret: SECRET,
  domains: ['initech.test'],
  roles: { claim: 'groups', map: { 'mcp-admins': 'admin' } },
  ...extra,
});

describe('organization connections and domains through the admin API', () => {
  let server: TestServer;
  let dns: TestDns;
  let ada: AdminClient; // owner of acme
  let bob: AdminClient; // admin of acme
  let carl: AdminClient; // member of acme
  let olga: AdminClient; // owner of globex (the configured connection's org), nobody in acme
  let root: AdminClient; // server administrator, admin of acme

  before(async () => {
    dns = await startTestDns();
    server = await startTestServer({
      organizationConnections: { dnsServers: [dns.server] },
      identityProviders: [{ id: 'configured', type: 'oidc', name: 'Configured', issuer: 'https://idp.configured.test', clientId: 'c', clientSecret: 'configured-secret', organization: 'globex', domains: ['configured.test'] }],
    });
    await server.addUser('bob@example.com', undefined, { role: 'admin' });
    await server.addUser('carl@example.com', undefined, { role: 'member' });
    const globex = (await server.store.orgs.bySlug('globex'))!; // the configured connection's organization
    await server.addUser('olga@example.com', undefined, { role: 'owner', org: globex });
    ada = await adminClient(server, 'ada@example.com', false);
    bob = await adminClient(server, 'bob@example.com', false);
    carl = await adminClient(server, 'carl@example.com', false);
    olga = await adminClient(server, 'olga@example.com', false);
    root = await adminClient(server, 'root@example.com', true);
    await server.store.orgs.addMember(server.org.id, root.user.id, 'admin', Math.floor(Date.now() / 1000));
  });
  after(async () => {
    await server?.stop();
    await dns?.close();
  });

  it('is for owners: admins and members are refused, outsiders get 404', async () => {
    for (const [client, code, status] of [[bob, 'forbidden', 403], [carl, 'forbidden', 403], [olga, 'not_found', 404]] as const) {
      assertError(await client.call('GET', '/orgs/acme/identity-providers'), code, status);
      assertError(await client.call('POST', '/orgs/acme/domains', { domain: 'bobs.test' }), code, status);
      assertError(await client.call('POST', '/orgs/acme/identity-providers', oidc('bobs')), code, status);
    }
    assert.equal((await server.store.orgConnections.listDomains(server.org.id)).length, 0);
  });

  it('verifies a domain by its TXT record, and only by the right one', async () => {
    const claimed = await ada.call('POST', '/orgs/acme/domains', { domain: 'Initech.test' });
    assert.equal(claimed.status, 201);
    const record = claimed.body.record as { name: string; type: string; value: string };
    assert.equal(record.name, '_portcullis-challenge.initech.test');
    assert.equal(record.type, 'TXT');
    assert.match(record.value, /^portcullis-domain-verification=[A-Za-z0-9_-]{20,}$/);
    assert.equal(claimed.body.verified, false);

    assertError(await ada.call('POST', '/orgs/acme/domains/initech.test/verify'), 'verification_failed', 400);
    dns.txt.set(record.name, [['v=spf1 -all'], ['portcullis-domain-verification=someone-elses-token']]);
    assertError(await ada.call('POST', '/orgs/acme/domains/initech.test/verify'), 'verification_failed', 400);
    assert.ok(dns.asked.includes('_portcullis-challenge.initech.test'), 'the real DNS server was asked');
    assert.equal(await audited(server, 'admin.domain.verification_failed'), 2);

    // A TXT record's value may come split into several strings: they are one value.
    const value = record.value;
    dns.txt.set(record.name, [['v=spf1 -all'], [value.slice(0, 20), value.slice(20)]]);
    const verified = await ada.call('POST', '/orgs/acme/domains/initech.test/verify');
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    assert.equal(verified.body.verified, true);
    assert.equal(verified.body.verifiedHow, 'dns');
    assert.equal(await audited(server, 'admin.domain.verified'), 1);
  });

  it('refuses a domain claimed by the configuration or verified by another organization, and public mail domains', async () => {
    assertError(await ada.call('POST', '/orgs/acme/domains', { domain: 'configured.test' }), 'domain_claimed', 409);
    assertError(await ada.call('POST', '/orgs/acme/domains', { domain: 'gmail.com' }), 'invalid_request', 400, 'domain');
    assertError(await ada.call('POST', '/orgs/acme/domains', { domain: 'not a domain' }), 'invalid_request', 400, 'domain');
    assertError(await ada.call('POST', '/orgs/acme/domains', { domain: 'initech.test' }), 'already_exists', 409);
    // Globex holding the acme-verified domain: refused outright.
    assertError(await olga.call('POST', '/orgs/globex/domains', { domain: 'initech.test' }), 'domain_claimed', 409);

    // Asking is not holding: globex asks first, acme verifies first, globex's verification then fails.
    const theirs = await olga.call('POST', '/orgs/globex/domains', { domain: 'contested.test' });
    assert.equal(theirs.status, 201);
    const ours = await ada.call('POST', '/orgs/acme/domains', { domain: 'contested.test' });
    assert.equal(ours.status, 201, 'an unverified claim squats nothing');
    const name = '_portcullis-challenge.contested.test';
    dns.txt.set(name, [[(ours.body.record as { value: string }).value], [(theirs.body.record as { value: string }).value]]);
    assert.equal((await ada.call('POST', '/orgs/acme/domains/contested.test/verify')).status, 200);
    assertError(await olga.call('POST', '/orgs/globex/domains/contested.test/verify'), 'domain_claimed', 409);
  });

  it('lets a server administrator vouch for a domain, and nobody else', async () => {
    assert.equal((await ada.call('POST', '/orgs/acme/domains', { domain: 'vouched.test' })).status, 201);
    assertError(await ada.call('POST', '/orgs/acme/domains/vouched.test/verify', { method: 'admin' }), 'forbidden', 403);
    const vouched = await root.call('POST', '/orgs/acme/domains/vouched.test/verify', { method: 'admin' });
    assert.equal(vouched.status, 200);
    assert.equal(vouched.body.verifiedHow, 'admin');
  });

  it('adds a connection whose secret is never shown again; its domains must be verified ones of the org', async () => {
    assertError(await ada.call('POST', '/orgs/acme/identity-providers', oidc('initech', { domains: ['unclaimed.test'] })), 'invalid_request', 400, 'domains');
    assertError(await ada.call('POST', '/orgs/acme/identity-providers', oidc('initech', { organization: 'globex' })), 'invalid_request', 400, 'organization');
    assertError(await ada.call('POST', '/orgs/acme/identity-providers', oidc('initech', { issuer: 'http://idp.initech.test' })), 'invalid_request', 400, 'issuer');
    assertError(await ada.call('POST', '/orgs/acme/identity-providers', oidc('initech', { clientSecret: undefined })), 'invalid_request', 400, 'clientSecret');
    // The server would fetch wherever an owner points it: never at a loopback or private address.
    for (const issuer of ['https://127.0.0.1:8443', 'https://10.1.2.3', 'https://localhost', 'https://[::1]:9000', 'https://169.254.169.254']) {
      assertError(await ada.call('POST', '/orgs/acme/identity-providers', oidc('initech', { issuer })), 'invalid_request', 400, 'issuer');
    }
    assertError(await ada.call('POST', '/orgs/acme/identity-providers', { id: 'gh', type: 'github', name: 'GitHub', clientId: 'x', clientSecret: SECRET, apiUrl: 'https://192.168.1.1/api/v3', webUrl: 'https://github.example' }), 'invalid_request', 400, 'apiUrl');
    // Links are issued under github.com: an API elsewhere could answer /user with anyone's GitHub id.
    assertError(await ada.call('POST', '/orgs/acme/identity-providers', { id: 'gh', type: 'github', name: 'GitHub', clientId: 'x', clientSecret: SECRET, apiUrl: 'https://api.evil.test' }), 'invalid_request', 400, 'apiUrl');
    assertError(await ada.call('POST', '/orgs/acme/identity-providers', oidc('configured')), 'already_exists', 409);

    const created = await ada.call('POST', '/orgs/acme/identity-providers', oidc('initech'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.organization, 'acme');
    assert.equal(created.body.readOnly, false);
    assert.equal(created.body.clientAuth, 'client_secret');
    const listed = await ada.call('GET', '/orgs/acme/identity-providers');
    const one = await ada.call('GET', '/orgs/acme/identity-providers/initech');
    for (const answer of [created, listed, one]) assert.doesNotMatch(JSON.stringify(answer.body), new RegExp(SECRET), 'no secret in any answer');
    assert.deepEqual((listed.body.identityProviders as { id: string }[]).map((v) => v.id), ['initech']);
    const theirs = await olga.call('GET', '/orgs/globex/identity-providers');
    assert.deepEqual((theirs.body.identityProviders as { id: string; readOnly: boolean }[]).map((v) => [v.id, v.readOnly]), [['configured', true]], 'the configuration\'s, read-only');
    assert.doesNotMatch(JSON.stringify(theirs.body), /configured-secret/);

    const row = await server.store.orgConnections.getConnection('initech');
    assert.ok(row && row.secretsSealed, 'the secret is kept sealed');
    assert.ok(!row.definition.includes(SECRET) && !row.secretsSealed!.includes(SECRET), 'never in clear at rest');
    assert.equal(await audited(server, 'admin.sso_connection.created'), 1);

    // Another organization cannot take the id, nor one of its own domains.
    assertError(await olga.call('POST', '/orgs/globex/identity-providers', oidc('initech', { domains: ['globex.test'] })), 'already_exists', 409);
    // Two connections of one org cannot both own a domain.
    assertError(await ada.call('POST', '/orgs/acme/identity-providers', oidc('initech-2')), 'invalid_request', 400, 'domains');
  });

  it('changes some fields and keeps the secret; the configuration\'s connections are read-only', async () => {
    // A button on every sign-in page of a shared server is the server administrator's to allow.
    assertError(await ada.call('PATCH', '/orgs/acme/identity-providers/initech', { public: true }), 'invalid_request', 400, 'public');
    const renamed = await ada.call('PATCH', '/orgs/acme/identity-providers/initech', { name: 'Initech Okta' });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.name, 'Initech Okta');
    assert.doesNotMatch(JSON.stringify(renamed.body), new RegExp(SECRET));
    const { ssoConnections } = await import('../../src/identity/connection-directory.ts');
    // The running server's connections (read again in the background once the change is heard).
    const kept = await waitFor(() => {
      const now = ssoConnections(server.config).get('initech');
      return now?.name === 'Initech Okta' && now;
    }, 'the renamed connection');
    assert.ok(kept.type === 'oidc' && kept.clientSecret === SECRET, 'the secret left out is kept');
    assertError(await ada.call('PATCH', '/orgs/acme/identity-providers/initech', { type: 'github' }), 'invalid_request', 400, 'type');
    assertError(await ada.call('PATCH', '/orgs/acme/identity-providers/initech', { domains: ['gmail.com'] }), 'invalid_request', 400, 'domains');
    assertError(await olga.call('PATCH', '/orgs/globex/identity-providers/configured', { name: 'Mine now' }), 'read_only', 409);
    assertError(await olga.call('DELETE', '/orgs/globex/identity-providers/configured'), 'read_only', 409);
    assertError(await ada.call('DELETE', '/orgs/acme/identity-providers/configured'), 'not_found', 404, undefined);
    assertError(await olga.call('DELETE', '/orgs/globex/identity-providers/initech'), 'not_found', 404);
    assert.equal(await audited(server, 'admin.sso_connection.updated'), 1);
  });

  it('adds a GitHub connection; a domain in use is not given up until its connection is gone', async () => {
    const github = await ada.call('POST', '/orgs/acme/identity-providers', { id: 'acme-github', type: 'github', name: 'GitHub', clientId: 'Iv1.abc', clientSecret: SECRET, domains: ['vouched.test'], githubOrg: 'acme-corp' });
    assert.equal(github.status, 201, JSON.stringify(github.body));
    assert.doesNotMatch(JSON.stringify(github.body), new RegExp(SECRET));
    assertError(await ada.call('DELETE', '/orgs/acme/domains/vouched.test'), 'conflict', 409);
    assert.equal((await ada.call('DELETE', '/orgs/acme/identity-providers/acme-github')).status, 204);
    assert.equal((await ada.call('DELETE', '/orgs/acme/domains/vouched.test')).status, 204);
    assert.equal(await audited(server, 'admin.sso_connection.deleted'), 1);
    assert.equal(await audited(server, 'admin.domain.removed'), 1);
    const domains = (await ada.call('GET', '/orgs/acme/domains')).body.domains as { domain: string; verified: boolean }[];
    assert.deepEqual(domains.map((d) => [d.domain, d.verified]), [['contested.test', true], ['initech.test', true]]);
  });
});
