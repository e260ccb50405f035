/**
 * Attacks on the SAML ACS, each refused with the refusal page, a stable reason and an audit
 * record, and no session: XML signature wrapping (an unsigned assertion beside or before the
 * signed one; the signed one moved into an Extensions or ds:Object wrapper with an evil one in
 * its place), unsigned or tampered messages, another key, wrong audience, recipient or destination,
 * expired and not-yet-valid assertions (the server's clock moved, never slept), replays — on one
 * instance and on a second one sharing PostgreSQL — unknown InResponseTo, IdP-initiated SSO when
 * not allowed, a foreign RelayState, and a comment inside the NameID (CVE-2017-11427's class).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { testClock } from '../helpers/clock.ts';
import { databaseTargets, dropSchema, postgresUrl } from '../helpers/databases.ts';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startPortcullis, type Running } from '../../src/server/app.ts';
import { audited, Browser, type Answer } from './support.ts';
import { encode, newId, newSigningKey, TestSamlIdp, type ResponseOptions } from './saml-idp.ts';
import { samlFlow, type SamlFlow } from './saml-support.ts';

const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const EMAIL = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

const clock = testClock();
const idp = new TestSamlIdp();
let server: TestServer;
let flow: SamlFlow;

const connection = (id: string, domain: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'saml' as const,
  name: `SAML ${id}`,
  organization: 'acme-corp',
  domains: [domain],
  idp: { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.key.certificatePem] },
  ...extra,
});

before(async () => {
  server = await startTestServer(
    { identityProviders: [connection('acme', 'acme.test'), connection('loose', 'loose.test', { wantAssertionsSigned: false })] },
    { clock },
  );
  flow = samlFlow(server, idp);
});

after(() => server?.stop());

/** A sign-in started in a fresh browser: the browser, the request, and response options answering it. */
async function started(id = 'acme', nameId = 'victim-0001', email = 'victim@acme.test'): Promise<{ browser: Browser; relayState: string; options: ResponseOptions }> {
  const browser = new Browser();
  const request = await flow.start(browser, id);
  return { browser, relayState: request.relayState!, options: { now: clock.now(), inResponseTo: request.id, nameId, attributes: { [EMAIL]: email } } };
}

/** Refused: the page with the stable code, one more audit record with `reason`, no session. */
async function assertRefused(browser: Browser, answer: Answer, reason: string, count: () => Promise<number>, beforeCount: number): Promise<void> {
  assert.equal(answer.status, 400, `refused with 400: ${answer.status} ${answer.location ?? answer.body.slice(0, 300)}`);
  assert.match(answer.body, /data-code="sso_refused"/);
  assert.equal(flow.signedIn(browser), false, 'no session');
  assert.equal(await count(), beforeCount + 1, `one signin.failed record with reason ${reason}`);
}

/** Post `samlResponse` for `browser`'s sign-in and expect the refusal `reason`. */
async function refusedAs(reason: string, browser: Browser, samlResponse: string, relayState: string | null, id = 'acme'): Promise<void> {
  const count = () => audited(server, 'signin.failed', reason);
  const beforeCount = await count();
  const answer = await flow.post(browser, id, samlResponse, relayState);
  await assertRefused(browser, answer, reason, count, beforeCount);
}

const parse = (xml: string): Document => new DOMParser().parseFromString(xml, 'text/xml');
const serialize = (doc: Document) => new XMLSerializer().serializeToString(doc);
const assertionOf = (doc: Document) => doc.getElementsByTagNameNS(SAML, 'Assertion')[0]!;

/** A copy of the signed assertion turned evil: another subject and address, no signature, a new ID. */
function evilTwin(doc: Document, signed: Element): Element {
  const evil = signed.cloneNode(true) as Element;
  evil.setAttribute('ID', newId());
  const signature = evil.getElementsByTagNameNS(DS, 'Signature')[0];
  if (signature) evil.removeChild(signature);
  evil.getElementsByTagNameNS(SAML, 'NameID')[0]!.textContent = 'evil-admin';
  evil.getElementsByTagNameNS(SAML, 'AttributeValue')[0]!.textContent = 'admin@acme.test';
  void doc;
  return evil;
}

describe('SAML attacks', () => {
  test('a second, unsigned assertion beside the signed one is refused', async () => {
    const { browser, relayState, options } = await started();
    const doc = parse(idp.signedXml(flow.sp('acme'), options));
    const signed = assertionOf(doc);
    doc.documentElement!.appendChild(evilTwin(doc, signed));
    await refusedAs('signature', browser, encode(serialize(doc)), relayState);
  });

  test('an unsigned assertion placed before the signed one is refused', async () => {
    const { browser, relayState, options } = await started();
    const doc = parse(idp.signedXml(flow.sp('acme'), options));
    const signed = assertionOf(doc);
    doc.documentElement!.insertBefore(evilTwin(doc, signed), signed);
    await refusedAs('signature', browser, encode(serialize(doc)), relayState);
  });

  test('the signed assertion moved into an Extensions wrapper, an evil one (carrying the signature) in its place, is refused', async () => {
    const { browser, relayState, options } = await started();
    const doc = parse(idp.signedXml(flow.sp('acme'), options));
    const signed = assertionOf(doc);
    const evil = evilTwin(doc, signed);
    // The signature (whose Reference names the original's ID) goes along into the evil assertion.
    const signature = signed.getElementsByTagNameNS(DS, 'Signature')[0]!.cloneNode(true);
    evil.insertBefore(signature, evil.getElementsByTagNameNS(SAML, 'Subject')[0]!);
    const extensions = doc.createElementNS(SAMLP, 'samlp:Extensions');
    doc.documentElement!.replaceChild(evil, signed);
    extensions.appendChild(signed);
    doc.documentElement!.insertBefore(extensions, doc.getElementsByTagNameNS(SAMLP, 'Status')[0]!);
    await refusedAs('signature', browser, encode(serialize(doc)), relayState);
  });

  test('the signed assertion moved into its signature’s ds:Object, an evil one in its place, is refused', async () => {
    const { browser, relayState, options } = await started();
    const doc = parse(idp.signedXml(flow.sp('acme'), options));
    const signed = assertionOf(doc);
    const evil = evilTwin(doc, signed);
    const signature = signed.getElementsByTagNameNS(DS, 'Signature')[0]!;
    signed.removeChild(signature);
    const object = doc.createElementNS(DS, 'ds:Object');
    doc.documentElement!.replaceChild(evil, signed);
    object.appendChild(signed);
    signature.appendChild(object);
    evil.insertBefore(signature, evil.getElementsByTagNameNS(SAML, 'Subject')[0]!);
    await refusedAs('signature', browser, encode(serialize(doc)), relayState);
  });

  test('an unsigned response with an unsigned assertion is refused', async () => {
    const { browser, relayState, options } = await started();
    await refusedAs('signature', browser, idp.response(flow.sp('acme'), { ...options, signAssertion: false }), relayState);
  });

  test('a signed response whose assertion was changed after signing is refused (even where assertions need no signature of their own)', async () => {
    const { browser, relayState, options } = await started('loose', 'loose-1', 'someone@loose.test');
    const xml = idp.signedXml(flow.sp('loose'), { ...options, signAssertion: false, signResponse: true });
    const tampered = xml.replace('someone@loose.test', 'admin@loose.test');
    assert.notEqual(tampered, xml);
    await refusedAs('signature', browser, encode(tampered), relayState, 'loose');
  });

  test('a response signed with another key is refused', async () => {
    const { browser, relayState, options } = await started();
    await refusedAs('signature', browser, idp.response(flow.sp('acme'), { ...options, key: newSigningKey('attacker') }), relayState);
  });

  test('an assertion for another service (audience) is refused', async () => {
    const { browser, relayState, options } = await started();
    await refusedAs('audience', browser, idp.response(flow.sp('acme'), { ...options, audience: 'https://other-sp.example/saml' }), relayState);
  });

  test('an assertion for another ACS (recipient), or a response to another destination, is refused', async () => {
    const first = await started();
    await refusedAs('recipient', first.browser, idp.response(flow.sp('acme'), { ...first.options, recipient: 'https://other-sp.example/acs' }), first.relayState);
    const second = await started();
    await refusedAs('destination', second.browser, idp.response(flow.sp('acme'), { ...second.options, destination: 'https://other-sp.example/acs' }), second.relayState);
  });

  test('an expired assertion is refused (the server’s clock moved past NotOnOrAfter and the skew)', async () => {
    const { browser, relayState, options } = await started();
    const response = idp.response(flow.sp('acme'), { ...options, notOnOrAfter: options.now + 120 });
    clock.advance('4m');
    await refusedAs('expired', browser, response, relayState);
  });

  test('an assertion not valid yet is refused', async () => {
    const { browser, relayState, options } = await started();
    await refusedAs('not_yet_valid', browser, idp.response(flow.sp('acme'), { ...options, notBefore: clock.now() + 600, notOnOrAfter: clock.now() + 900 }), relayState);
  });

  test('the same response posted twice signs in once', async () => {
    const { browser, relayState, options } = await started('acme', 'replay-1', 'replay@acme.test');
    const response = idp.response(flow.sp('acme'), options);
    const first = await flow.post(browser, 'acme', response, relayState);
    assert.equal(first.status, 303, first.body.slice(0, 300));
    await refusedAs('replayed', new Browser(), response, relayState);
  });

  test('a response to a request this server never made (unknown InResponseTo) is refused', async () => {
    const { browser, relayState, options } = await started();
    await refusedAs('unknown_request', browser, idp.response(flow.sp('acme'), { ...options, inResponseTo: newId() }), relayState);
  });

  test('a RelayState other than the one sent is refused', async () => {
    const { browser, options } = await started();
    await refusedAs('relay_state', browser, idp.response(flow.sp('acme'), options), 'someone-elses');
  });

  test('IdP-initiated sign-in is refused unless the connection allows it', async () => {
    const browser = new Browser();
    await refusedAs('idp_initiated', browser, idp.response(flow.sp('acme'), { now: clock.now(), nameId: 'victim-0001', attributes: { [EMAIL]: 'victim@acme.test' } }), null);
  });

  test('a comment inside the NameID does not make the sender someone else', async () => {
    // The victim signs in once: the NameID user@acme.test is linked to their account.
    const victim = await started('acme', 'user@acme.test', 'user@acme.test');
    const ok = await flow.post(victim.browser, 'acme', idp.response(flow.sp('acme'), { ...victim.options, nameIdFormat: EMAIL_FORMAT, attributes: {} }), victim.relayState);
    assert.equal(ok.status, 303, ok.body.slice(0, 300));
    const user = (await server.store.users.findByEmail('user@acme.test'))!;
    const sessions = (await server.store.sessions.listForUser(user.id)).length;
    // The attacker owns user@acme.test.evil.test at the IdP; the comment splits it where a careless parser stops reading.
    const attacker = await started('acme', 'user@acme.test<!---->.evil.test', '');
    const signed = idp.response(flow.sp('acme'), { ...attacker.options, nameIdFormat: EMAIL_FORMAT, attributes: {} });
    assert.match(Buffer.from(signed, 'base64').toString(), /user@acme\.test<!---->\.evil\.test/, 'the comment is in the signed message');
    const refusedBefore = await audited(server, 'signin.failed', 'unverified_email');
    const answer = await flow.post(attacker.browser, 'acme', signed, attacker.relayState);
    assert.equal(flow.signedIn(attacker.browser), false, 'not signed in');
    // Read whole, the NameID is an address in acme.test.evil.test: not the connection's domain.
    assert.match(answer.body, /data-code="sso_account_refused"/);
    assert.equal(await audited(server, 'signin.failed', 'unverified_email'), refusedBefore + 1);
    assert.equal((await server.store.sessions.listForUser(user.id)).length, sessions, 'no session for the victim’s account');
    assert.equal(await server.store.ssoLinks.find(idp.entityId, 'user@acme.test.evil.test'), undefined);
  });
});

const postgres = databaseTargets().find((t) => t.dialect === 'postgres')!;

describe('SAML replay across instances sharing PostgreSQL', { skip: postgres.skip }, () => {
  let first: TestServer;
  let second: Running;
  let schema: string;

  before(async () => {
    schema = `pct_saml_${randomBytes(5).toString('hex')}`;
    const databaseUrl = postgresUrl();
    const identityProviders = [connection('acme', 'acme.test')];
    first = await startTestServer({ databaseUrl, identityProviders }, { schema, clock });
    // Two instances behind one public URL: the second shares the data directory (root secret) and the schema.
    const config = loadConfig({ env: {}, cwd: first.config.dataDir, overrides: { port: 0, dataDir: first.config.dataDir, logLevel: 'silent', databaseUrl, identityProviders, publicUrl: first.url } });
    second = await startPortcullis(config, { log: silentLogger(), quiet: true, schema, clock });
  });

  after(async () => {
    await second?.close();
    await first?.stop();
    if (schema) await dropSchema(postgresUrl(), schema);
  });

  test('a response used at one instance is refused at the other', async () => {
    const one = samlFlow(first, idp);
    const browser = new Browser();
    const request = await one.start(browser, 'acme');
    const response = idp.response(one.sp('acme'), { now: clock.now(), inResponseTo: request.id, nameId: 'pg-1', attributes: { [EMAIL]: 'pg@acme.test' } });
    assert.equal((await one.post(browser, 'acme', response, request.relayState)).status, 303);

    const secondUrl = `http://127.0.0.1:${(second.server.address() as AddressInfo).port}`;
    const count = () => audited(second, 'signin.failed', 'replayed');
    const beforeCount = await count();
    const replayer = new Browser();
    const answer = await replayer.follow(`${secondUrl}/sso/acme/saml/acs`, () => true, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(idp.ssoUrl).origin },
      body: new URLSearchParams({ SAMLResponse: response, RelayState: request.relayState! }),
    });
    assert.equal(answer.status, 400);
    assert.match(answer.body, /data-code="sso_refused"/);
    assert.equal(await count(), beforeCount + 1);
  });
});
