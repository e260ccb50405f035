/**
 * SAML 2.0 connections, end to end against a test IdP built here (saml-idp.ts): the SP metadata
 * an administrator gives the IdP, the AuthnRequest sent by redirect, a signed Response posted to
 * the ACS ending in a session in the connection's organization with the mapped role — with the
 * IdP described by a metadata URL, inline metadata or explicitly — and the configuration's refusals.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { testClock } from '../helpers/clock.ts';
import { loadConfig, type ConfigInput } from '../../src/core/config.ts';
import { PortcullisError, type FieldError } from '../../src/core/errors.ts';
import { audited, Browser, refusalCode } from './support.ts';
import { TestSamlIdp } from './saml-idp.ts';
import { samlFlow, type SamlFlow } from './saml-support.ts';

const clock = testClock();
const idp = new TestSamlIdp();
let server: TestServer;
let flow: SamlFlow;

const EMAIL = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';
const DISPLAY_NAME = 'http://schemas.microsoft.com/identity/claims/displayname';
const GROUPS = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups';

before(async () => {
  const metadataUrl = await idp.serveMetadata();
  const common = { type: 'saml' as const, organization: 'acme-corp' };
  server = await startTestServer(
    {
      identityProviders: [
        { ...common, id: 'acme', name: 'Acme SAML', domains: ['acme.test'], public: true, idp: { metadataUrl }, roles: { map: { 'mcp-admins': 'admin' } } },
        { ...common, id: 'inline', name: 'Inline', domains: ['inline.test'], idp: { metadataXml: idp.metadataXml() }, allowIdpInitiated: true, trustAuthnContext: true },
        // Nothing listens on port 9 (discard) of loopback here: the IdP's metadata cannot be fetched.
        { ...common, id: 'down', name: 'Down', domains: ['down.test'], idp: { metadataUrl: 'http://127.0.0.1:9/metadata' } },
        { ...common, id: 'explicit', name: 'Explicit', domains: ['explicit.test'], idp: { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.key.certificatePem] }, wantAssertionsSigned: false },
      ],
    },
    { clock },
  );
  flow = samlFlow(server, idp);
});

after(async () => {
  await server?.stop();
  await idp.close();
});

async function roleIn(slug: string, email: string): Promise<string | undefined> {
  const user = await server.store.users.findByEmail(email);
  const org = await server.store.orgs.bySlug(slug);
  return user && org ? (await server.store.orgs.member(org.id, user.id))?.role : undefined;
}

describe('SAML service provider', () => {
  test('the SP metadata names the entity ID, the HTTP-POST ACS and wants signed assertions', async () => {
    const response = await fetch(`${server.url}/sso/acme/saml/metadata`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/samlmetadata\+xml/);
    const errors: string[] = [];
    const doc = new DOMParser({ onError: (level, message) => void errors.push(`${level}: ${message}`) }).parseFromString(await response.text(), 'text/xml');
    assert.deepEqual(errors, [], 'well-formed');
    const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
    const root = doc.documentElement!;
    assert.deepEqual([root.namespaceURI, root.localName, root.getAttribute('entityID')], [MD, 'EntityDescriptor', `${server.url}/sso/acme/saml`]);
    const sp = root.getElementsByTagNameNS(MD, 'SPSSODescriptor')[0]!;
    assert.equal(sp.getAttribute('WantAssertionsSigned'), 'true');
    assert.equal(sp.getAttribute('AuthnRequestsSigned'), 'false');
    assert.match(sp.getAttribute('protocolSupportEnumeration') ?? '', /urn:oasis:names:tc:SAML:2\.0:protocol/);
    const acs = sp.getElementsByTagNameNS(MD, 'AssertionConsumerService')[0]!;
    assert.equal(acs.getAttribute('Binding'), 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    assert.equal(acs.getAttribute('Location'), `${server.url}/sso/acme/saml/acs`);
    assert.equal((await fetch(`${server.url}/sso/nope/saml/metadata`)).status, 404);
  });

  test('a full sign-in: AuthnRequest by redirect, signed Response to the ACS, a session in the organization with the mapped role', async () => {
    const browser = new Browser();
    const login = await browser.request(`${server.url}/login`);
    assert.match(login.body, /\/sso\/acme\/start/, 'a "Continue with Acme SAML" button');
    const request = await flow.start(browser, 'acme', '/account');
    assert.match(request.id, /^[_A-Za-z][\w.-]*$/, 'an xs:ID');
    assert.equal(request.issuer, flow.sp('acme').entityId);
    assert.equal(request.acsUrl, flow.sp('acme').acsUrl);
    assert.equal(request.destination, idp.ssoUrl);
    assert.equal(request.protocolBinding, 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    assert.ok(request.relayState, 'RelayState travels with the request');

    const response = idp.response(flow.sp('acme'), {
      now: clock.now(),
      inResponseTo: request.id,
      nameId: 'idp-user-0001',
      attributes: { [EMAIL]: 'Grace@Acme.test', [DISPLAY_NAME]: 'Grace Hopper', [GROUPS]: ['staff', 'mcp-admins'] },
    });
    const answer = await flow.post(browser, 'acme', response, request.relayState);
    assert.equal(answer.status, 303, answer.body.slice(0, 500));
    assert.equal(answer.location, `${server.url}/account`);
    assert.ok(flow.signedIn(browser));

    const user = await server.store.users.findByEmail('grace@acme.test');
    assert.ok(user, 'created just in time');
    assert.equal(user.name, 'Grace Hopper');
    assert.equal(user.passwordHash, null);
    assert.equal(await roleIn('acme-corp', 'grace@acme.test'), 'admin', 'mcp-admins maps to admin');
    const links = await server.store.ssoLinks.forUser(user.id);
    assert.deepEqual(links.map((l) => [l.issuer, l.subject, l.connectionId]), [[idp.entityId, 'idp-user-0001', 'acme']], 'issuer: the IdP entity ID; subject: the NameID');
    const [session] = await server.store.sessions.listForUser(user.id);
    assert.deepEqual([session?.amr, session?.ssoConnection], [['ext'], 'acme']);
    assert.ok((await audited(server, 'signin.succeeded', 'sso')) >= 1);
  });

  test('the next sign-in is the same account, and the role follows the groups; the metadata URL was fetched once', async () => {
    const browser = new Browser();
    const request = await flow.start(browser, 'acme');
    const response = idp.response(flow.sp('acme'), { now: clock.now(), inResponseTo: request.id, nameId: 'idp-user-0001', attributes: { [EMAIL]: 'grace@acme.test', [GROUPS]: 'staff' } });
    const answer = await flow.post(browser, 'acme', response, request.relayState);
    assert.equal(answer.status, 303);
    assert.equal(await roleIn('acme-corp', 'grace@acme.test'), 'member');
    assert.equal(idp.metadataHits, 1, 'metadata cached');
  });

  test('an address outside the connection’s domains is not trusted: no account', async () => {
    const browser = new Browser();
    const request = await flow.start(browser, 'acme');
    const response = idp.response(flow.sp('acme'), { now: clock.now(), inResponseTo: request.id, nameId: 'idp-user-0002', attributes: { [EMAIL]: 'mallory@elsewhere.test' } });
    const answer = await flow.post(browser, 'acme', response, request.relayState);
    assert.equal(refusalCode(answer.body), 'sso_account_refused');
    assert.equal(flow.signedIn(browser), false);
    assert.equal(await server.store.users.findByEmail('mallory@elsewhere.test'), undefined);
    assert.ok((await audited(server, 'signin.failed', 'unverified_email')) >= 1);
  });

  test('a Response captured from one browser’s sign-in and posted by another (login CSRF) signs nobody in', async () => {
    const victim = new Browser();
    const attacker = new Browser();
    const request = await flow.start(attacker, 'acme');
    const response = idp.response(flow.sp('acme'), { now: clock.now(), inResponseTo: request.id, nameId: 'idp-attacker', attributes: { [EMAIL]: 'attacker@acme.test' } });
    const before = await audited(server, 'signin.failed', 'login_csrf');
    const answer = await flow.post(victim, 'acme', response, request.relayState);
    assert.equal(refusalCode(answer.body), 'sso_refused');
    assert.equal(flow.signedIn(victim), false);
    assert.equal(await audited(server, 'signin.failed', 'login_csrf'), before + 1);
  });

  test('inline metadata, IdP-initiated when allowed (to the start page), MFA from a trusted AuthnContext; e-mail NameID as address', async () => {
    const browser = new Browser();
    const response = idp.response(flow.sp('inline'), {
      now: clock.now(),
      nameId: 'ines@inline.test',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      authnContext: 'http://schemas.microsoft.com/claims/multipleauthn',
    });
    const answer = await flow.post(browser, 'inline', response, '/somewhere-else');
    assert.equal(answer.status, 303, answer.body.slice(0, 400));
    assert.equal(answer.location, `${server.url}/`, 'an IdP’s RelayState is not a place to go');
    const user = await server.store.users.findByEmail('ines@inline.test');
    assert.ok(user);
    const [session] = await server.store.sessions.listForUser(user.id);
    assert.deepEqual(session?.amr, ['mfa']);
    // No request to use up here: only the assertion ID kept in the store stops the same response again.
    const before = await audited(server, 'signin.failed', 'replayed');
    const again = await flow.post(new Browser(), 'inline', response);
    assert.equal(refusalCode(again.body), 'sso_refused');
    assert.equal(await audited(server, 'signin.failed', 'replayed'), before + 1);
  });

  test('an explicit IdP without assertion signatures required: a signed Response is enough', async () => {
    const browser = new Browser();
    const request = await flow.start(browser, 'explicit');
    const response = idp.response(flow.sp('explicit'), { now: clock.now(), inResponseTo: request.id, nameId: 'e-1', attributes: { mail: 'eve@explicit.test' }, signAssertion: false, signResponse: true });
    const answer = await flow.post(browser, 'explicit', response, request.relayState);
    assert.equal(answer.status, 303, answer.body.slice(0, 400));
    assert.ok(await server.store.users.findByEmail('eve@explicit.test'));
  });

  test('an IdP whose metadata cannot be fetched: idp_unavailable, nothing sent anywhere', async () => {
    const answer = await new Browser().request(`${server.url}/sso/down/start?return_to=/`);
    assert.equal(answer.status, 502);
    assert.equal(refusalCode(answer.body), 'idp_unavailable');
  });

  test('a step-up asks the IdP for a fresh authentication (ForceAuthn), and an answer from its earlier session is refused', async () => {
    const plain = await flow.start(new Browser(), 'acme');
    assert.equal(plain.forceAuthn, false, 'an ordinary sign-in leaves the IdP its session');

    const stale = new Browser();
    const asked = await flow.start(stale, 'acme', '/account', { max_age: '300' });
    assert.equal(asked.forceAuthn, true);
    // The IdP answers from a sign-in ten minutes old, as if it had ignored ForceAuthn.
    const old = idp.response(flow.sp('acme'), { now: clock.now(), authnInstant: clock.now() - 600, inResponseTo: asked.id, nameId: 'idp-user-0001', attributes: { [EMAIL]: 'grace@acme.test' } });
    const refused = await flow.post(stale, 'acme', old, asked.relayState);
    assert.equal(refusalCode(refused.body), 'sso_refused');
    assert.equal(flow.signedIn(stale), false);
    assert.ok((await audited(server, 'signin.failed', 'stale_authentication')) >= 1);

    const fresh = new Browser();
    const again = await flow.start(fresh, 'acme', '/account', { max_age: '300' });
    const now = idp.response(flow.sp('acme'), { now: clock.now(), inResponseTo: again.id, nameId: 'idp-user-0001', attributes: { [EMAIL]: 'grace@acme.test' } });
    const answer = await flow.post(fresh, 'acme', now, again.relayState);
    assert.equal(answer.status, 303, answer.body.slice(0, 300));
    assert.ok(flow.signedIn(fresh));
  });

  test('the OIDC callback does not answer for a SAML connection', async () => {
    const answer = await new Browser().request(`${server.url}/sso/acme/callback?state=x&code=y`);
    assert.equal(refusalCode(answer.body), 'unknown_connection');
  });
});

describe('SAML connection configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-saml-config-'));
  const load = (identityProviders: unknown[]) => loadConfig({ env: {}, cwd: dir, overrides: { identityProviders } as ConfigInput });
  const base = { id: 'saml', type: 'saml', name: 'SAML', organization: 'acme', domains: ['acme.test'] };

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

  test('defaults: IdP-initiated off, 60 s of clock skew, signed assertions wanted', () => {
    const [connection] = load([{ ...base, idp: { metadataUrl: 'https://idp.example.com/metadata' } }]).identityProviders;
    assert.ok(connection?.type === 'saml');
    assert.deepEqual([connection.allowIdpInitiated, connection.clockSkewSeconds, connection.wantAssertionsSigned], [false, 60, true]);
  });

  test('inline metadata is read at load: broken or incomplete metadata is a configuration error', () => {
    assert.deepEqual(refusedPaths([{ ...base, idp: { metadataXml: '<md:EntityDescriptor' } }]), ['identityProviders.0.idp.metadataXml']);
    const noCertificate = idp.metadataXml().replace(/<md:KeyDescriptor[\s\S]*?<\/md:KeyDescriptor>/, '');
    assert.deepEqual(refusedPaths([{ ...base, idp: { metadataXml: noCertificate } }]), ['identityProviders.0.idp.metadataXml']);
    const withDoctype = `<!DOCTYPE x [<!ENTITY a "b">]>${idp.metadataXml().replace(/^<\?xml[^>]*>/, '')}`;
    assert.deepEqual(refusedPaths([{ ...base, idp: { metadataXml: withDoctype } }]), ['identityProviders.0.idp.metadataXml']);
  });

  test('a metadata URL or sign-on URL must be https (http only to loopback); a certificate must be PEM', () => {
    assert.ok(refusedPaths([{ ...base, idp: { metadataUrl: 'http://idp.example.com/metadata' } }]).every((p) => p.startsWith('identityProviders.0.idp')));
    assert.ok(refusedPaths([{ ...base, idp: { entityId: 'x', ssoUrl: 'http://idp.example.com/sso', certificates: [idp.key.certificatePem] } }]).length > 0);
    assert.ok(refusedPaths([{ ...base, idp: { entityId: 'x', ssoUrl: 'https://idp.example.com/sso', certificates: ['not a certificate'] } }]).length > 0);
  });
});
