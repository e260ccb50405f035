/**
 * The `identityProviders` configuration and just-in-time accounts (identity/sso-accounts.ts) on
 * both stores: who a verified identity becomes, the Google and Entra presets' extra checks, and
 * the links kept in sso_links.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigInput } from '../../src/core/config.ts';
import { PortcullisError, type FieldError } from '../../src/core/errors.ts';
import { ConnectionRegistry, type OidcConnection } from '../../src/core/identity-providers.ts';
import { ssoAccount, passwordRefusedBy } from '../../src/identity/sso-accounts.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { silentLogger } from '../../src/core/log.ts';
import { maskedConfig } from '../../src/cli/config-check.ts';
import type { Store } from '../../src/store/store.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-sso-config-'));
const base = { id: 'acme', type: 'oidc', name: 'Acme SSO', issuer: 'https://idp.acme.test', clientId: 'c', clientSecret: 's', organization: 'acme', domains: ['acme.test'] } as const;
const load = (identityProviders: unknown[]) => loadConfig({ env: {}, cwd: dir, overrides: { identityProviders } as ConfigInput });

function refusedPaths(identityProviders: unknown[]): string[] {
  try {
    load(identityProviders);
  } catch (err) {
    assert.ok(err instanceof PortcullisError);
    assert.equal(err.code, 'config_invalid');
    return (err.detail.errors as FieldError[]).map((e) => e.path).sort();
  }
  assert.fail('expected the configuration to be refused');
}

describe('identityProviders configuration', () => {
  test('the issue’s shape loads, with defaults (member role, openid scope, not public)', () => {
    const config = load([{ ...base, roles: { claim: 'groups', map: { 'mcp-admins': 'admin' }, default: 'member' } }]);
    const [connection] = config.identityProviders;
    assert.equal(connection!.public, false);
    assert.deepEqual(connection!.type === 'oidc' && connection!.scopes, ['openid', 'email', 'profile']);
    assert.equal(connection!.roles.map['mcp-admins'], 'admin');
    assert.equal(new ConnectionRegistry(config.identityProviders).forEmail('Ann@ACME.test')?.id, 'acme');
    assert.equal(new ConnectionRegistry(config.identityProviders).forEmail('ann@other.test'), undefined);
  });

  test('`config check` shows no client secret or private key', () => {
    const shown = JSON.stringify(maskedConfig(load([base, { ...base, id: 'keyed', domains: ['keyed.test'], clientSecret: undefined, privateKeyJwt: { jwk: { kty: 'EC', d: 'private-part' } } }])));
    assert.doesNotMatch(shown, /"s"|private-part/);
  });

  test('an issuer must be https, except on a loopback host', () => {
    assert.deepEqual(refusedPaths([{ ...base, issuer: 'http://idp.acme.test' }]), ['identityProviders.0.issuer']);
    assert.equal((load([{ ...base, issuer: 'http://127.0.0.1:4000' }]).identityProviders[0] as OidcConnection).issuer, 'http://127.0.0.1:4000');
  });

  test('a domain claimed by two connections, a repeated id, unknown keys and a missing secret are refused', () => {
    assert.deepEqual(refusedPaths([base, { ...base, id: 'other' }]), ['identityProviders.1.domains']);
    assert.deepEqual(refusedPaths([base, { ...base, domains: ['other.test'] }]), ['identityProviders.1.id']);
    assert.deepEqual(refusedPaths([{ ...base, colour: 'red' }]), ['identityProviders.0.colour']);
    const { clientSecret: _secret, ...noSecret } = base;
    assert.deepEqual(refusedPaths([noSecret]), ['identityProviders.0.clientSecret']);
    assert.deepEqual(refusedPaths([{ ...base, roles: { default: 'root' } }]), ['identityProviders.0.roles.default']);
  });

  test('presets: Google’s issuer is known; Entra needs the tenant id and derives its issuer', () => {
    const { issuer: _issuer, ...noIssuer } = base;
    assert.equal((load([{ ...noIssuer, preset: 'google' }]).identityProviders[0] as OidcConnection).issuer, 'https://accounts.google.com');
    assert.deepEqual(refusedPaths([{ ...noIssuer, preset: 'entra' }]), ['identityProviders.0.tenantId']);
    const tenantId = '6f0b2c3e-1d2a-4b5c-9d8e-7f6a5b4c3d2e';
    assert.equal((load([{ ...noIssuer, preset: 'entra', tenantId }]).identityProviders[0] as OidcConnection).issuer, `https://login.microsoftonline.com/${tenantId}/v2.0`);
    assert.deepEqual(refusedPaths([noIssuer]), ['identityProviders.0.issuer']);
  });
});

for (const target of storesUnderTest()) {
  describe(`just-in-time accounts (${target.name})`, { skip: target.skip }, async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const store: Store = await target.make();
    const audit = new AuditLog(store, silentLogger(), now);
    const connectionFor = (extra: Record<string, unknown> = {}): OidcConnection =>
      load([{ ...base, organization: `org-${Math.random().toString(36).slice(2, 8)}`, roles: { map: { admins: 'admin' } }, ...extra }]).identityProviders[0] as OidcConnection;
    const claims = (sub: string, extra: Record<string, unknown> = {}) => ({ iss: 'https://idp.acme.test', sub, email: `${sub}@acme.test`, email_verified: true, ...extra });

    // The store's location closes it after the file (test/helpers/stores.ts).
    after(() => audit.flush());

    test("a first sign-in gets the organization's default access for new members", async () => {
      const connection = connectionFor();
      const org = await store.orgs.create({ slug: connection.organization, name: 'JIT' });
      const docs = await store.orgs.createResource({ orgId: org.id, kind: 'workspace', parentId: null, name: 'Docs', at: now() });
      await store.orgs.update(org.id, { settings: { newMemberAccess: { resourceId: docs.id, role: 'viewer' } } });
      const joined = await ssoAccount({ store, audit, now }, connection, claims(`d${Date.now()}`));
      assert.ok(joined.kind === 'ok');
      assert.deepEqual((await store.orgs.resourceMembers(org.id, joined.user.id)).map((m) => [m.resourceId, m.role]), [[docs.id, 'viewer']]);
    });

    test('first sign-in creates the user in the connection’s organization, created when missing, with the mapped role', async () => {
      const connection = connectionFor();
      const first = await ssoAccount({ store, audit, now }, connection, claims(`u${Date.now()}`, { groups: ['admins', 'other'] }));
      assert.equal(first.kind, 'ok');
      assert.ok(first.kind === 'ok');
      const org = await store.orgs.bySlug(connection.organization);
      assert.equal(org?.id, first.orgId);
      assert.equal((await store.orgs.member(first.orgId, first.user.id))?.role, 'admin');
      const again = await ssoAccount({ store, audit, now }, connection, claims(first.user.email.split('@')[0]!, { email: 'changed@acme.test', groups: [] }));
      assert.ok(again.kind === 'ok');
      assert.equal(again.user.id, first.user.id, 'the link (issuer + sub) decides, not the e-mail');
      assert.equal((await store.orgs.member(first.orgId, first.user.id))?.role, 'member');
    });

    test('Google: the hosted domain `hd` must be one of the connection’s domains', async () => {
      const connection = connectionFor({ preset: 'google', issuer: undefined });
      const sub = `g${Date.now()}`;
      const google = { ...claims(sub), iss: 'https://accounts.google.com' };
      assert.deepEqual(await ssoAccount({ store, audit, now }, connection, google), { kind: 'refused', reason: 'hosted_domain' });
      assert.deepEqual(await ssoAccount({ store, audit, now }, connection, { ...google, hd: 'gmail.com' }), { kind: 'refused', reason: 'hosted_domain' });
      assert.equal((await ssoAccount({ store, audit, now }, connection, { ...google, hd: 'acme.test' })).kind, 'ok');
    });

    test('Entra ID: the token’s tenant `tid` must be the configured one', async () => {
      const tenantId = '6f0b2c3e-1d2a-4b5c-9d8e-7f6a5b4c3d2e';
      const connection = connectionFor({ preset: 'entra', issuer: undefined, tenantId });
      const entra = { ...claims(`e${Date.now()}`), iss: connection.issuer };
      assert.deepEqual(await ssoAccount({ store, audit, now }, connection, { ...entra, tid: '00000000-0000-0000-0000-000000000000' }), { kind: 'refused', reason: 'tenant' });
      const { email_verified: _verified, ...asEntraSends } = entra;
      assert.deepEqual(await ssoAccount({ store, audit, now }, connection, { ...asEntraSends, tid: tenantId }), { kind: 'refused', reason: 'unverified_email' });
      assert.equal((await ssoAccount({ store, audit, now }, connection, { ...asEntraSends, tid: tenantId, xms_edov: true })).kind, 'ok');
    });

    test('requireSso refuses members’ passwords, except a listed owner’s', async () => {
      const connection = connectionFor({ requireSso: true, breakGlass: ['Boss@acme.test'] });
      const signedUp = await ssoAccount({ store, audit, now }, connection, claims(`m${Date.now()}`));
      assert.ok(signedUp.kind === 'ok');
      assert.equal((await passwordRefusedBy(store, [connection], signedUp.user))?.id, connection.id);
      const boss = await store.users.create({ email: `boss${Date.now()}@acme.test` });
      await store.orgs.addMember(signedUp.orgId, boss.id, 'owner', now());
      assert.equal((await passwordRefusedBy(store, [connection], boss))?.id, connection.id, 'an owner not on the list is refused');
      const listed = connectionFor({ requireSso: true, breakGlass: [boss.email], organization: connection.organization });
      assert.equal(await passwordRefusedBy(store, [listed], boss), undefined, 'the break-glass owner keeps the password');
      const outsider = await store.users.create({ email: `out${Date.now()}@else.test` });
      assert.equal(await passwordRefusedBy(store, [connection], outsider), undefined);
    });
  });
}
