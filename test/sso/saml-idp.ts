/**
 * A SAML 2.0 identity provider for tests, built here: an RSA key and a self-signed certificate
 * generated per run, its metadata (served on a loopback port, and as a string), the AuthnRequest
 * a redirect carries decoded, and Responses built and signed with xml-crypto (exclusive c14n,
 * RSA-SHA256) as an IdP signs them — plus the means to tamper with them, for the attack tests.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** DER: a tag, its length, its content. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

const SHA256_WITH_RSA = der(0x30, Buffer.from('06092a864886f70d01010b', 'hex'), Buffer.from('0500', 'hex'));
const utcTime = (date: Date) => der(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`));

/** A minimal self-signed X.509 v1 certificate (RFC 5280 §4.1) for `key`: enough for XML-DSig KeyInfo and metadata. */
function selfSignedCertificate(privateKey: KeyObject, publicKeyDer: Buffer, commonName: string): string {
  const name = der(0x30, der(0x31, der(0x30, Buffer.from('0603550403', 'hex'), der(0x0c, Buffer.from(commonName)))));
  const now = Date.now();
  const validity = der(0x30, utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 365 * 86_400_000)));
  const serial = der(0x02, Buffer.concat([Buffer.from([0x01]), randomBytes(8)]));
  const tbs = der(0x30, serial, SHA256_WITH_RSA, name, validity, name, publicKeyDer);
  const signature = sign('sha256', tbs, privateKey);
  const certificate = der(0x30, tbs, SHA256_WITH_RSA, der(0x03, Buffer.from([0]), signature));
  return `-----BEGIN CERTIFICATE-----\n${certificate.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export interface SigningKey {
  privateKeyPem: string;
  certificatePem: string;
}

export function newSigningKey(commonName = 'test idp'): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const certificatePem = selfSignedCertificate(privateKey, publicKey.export({ type: 'spki', format: 'der' }), commonName);
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, certificatePem };
}

const certificateBase64 = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');

export interface AuthnRequest {
  id: string;
  issuer: string;
  acsUrl: string;
  destination: string;
  relayState: string | null;
  protocolBinding: string | null;
  /** ForceAuthn="true": the SP asks for a fresh authentication (SAML Core §3.4.1). */
  forceAuthn: boolean;
}

/** The AuthnRequest in a redirect to the IdP (HTTP-Redirect binding: deflated, base64, in SAMLRequest). */
export function decodeAuthnRequest(location: string): AuthnRequest {
  const url = new URL(location);
  const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement!;
  if (root.localName !== 'AuthnRequest') throw new Error(`not an AuthnRequest: ${xml}`);
  return {
    id: root.getAttribute('ID') ?? '',
    issuer: root.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Issuer')[0]?.textContent ?? '',
    acsUrl: root.getAttribute('AssertionConsumerServiceURL') ?? '',
    destination: root.getAttribute('Destination') ?? '',
    relayState: url.searchParams.get('RelayState'),
    protocolBinding: root.getAttribute('ProtocolBinding'),
    forceAuthn: root.getAttribute('ForceAuthn') === 'true',
  };
}

export interface ResponseOptions {
  nameId: string;
  nameIdFormat?: string;
  attributes?: Record<string, string | string[]>;
  /** Our AuthnRequest's ID; omitted: IdP-initiated. */
  inResponseTo?: string;
  /** Defaults: the SP's entity ID, its ACS. */
  audience?: string;
  recipient?: string;
  destination?: string | null;
  /** Epoch seconds (the test clock's); NotBefore/NotOnOrAfter derive from it. */
  now: number;
  notBefore?: number;
  notOnOrAfter?: number;
  issuer?: string;
  assertionId?: string;
  authnContext?: string;
  /** When the IdP authenticated the person (epoch seconds); default `now`. */
  authnInstant?: number;
  /** Which signatures to add (default: the assertion only, as most IdPs do). */
  signAssertion?: boolean;
  signResponse?: boolean;
  /** Sign with another key (an attacker's). */
  key?: SigningKey;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
export const newId = () => `_${createHash('sha256').update(randomBytes(16)).digest('hex').slice(0, 40)}`;

export interface SpEndpoints {
  entityId: string;
  acsUrl: string;
}

export class TestSamlIdp {
  readonly key = newSigningKey();
  readonly entityId = 'https://idp.saml.test/entity';
  readonly ssoUrl = 'https://idp.saml.test/sso';
  #server: Server | undefined;
  metadataUrl = '';
  metadataHits = 0;

  metadataXml(): string {
    return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${this.entityId}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBase64(this.key.certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${this.ssoUrl}/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.ssoUrl}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  }

  /** Serve the metadata at `<loopback>/metadata` (counts hits). */
  async serveMetadata(): Promise<string> {
    this.#server = createServer((req, res) => {
      if (req.url !== '/metadata') return void res.writeHead(404).end();
      this.metadataHits++;
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(this.metadataXml());
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.metadataUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/metadata`;
    return this.metadataUrl;
  }

  async close(): Promise<void> {
    if (this.#server) await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }

  /** The Response's XML, unsigned. */
  responseXml(sp: SpEndpoints, o: ResponseOptions): string {
    const inResponseTo = o.inResponseTo ? ` InResponseTo="${o.inResponseTo}"` : '';
    const destination = o.destination === null ? '' : ` Destination="${xmlEscape(o.destination ?? sp.acsUrl)}"`;
    const notOnOrAfter = iso(o.notOnOrAfter ?? o.now + 300);
    const attributes = Object.entries(o.attributes ?? {})
      .map(([name, value]) => `<saml:Attribute Name="${xmlEscape(name)}">${[value].flat().map((v) => `<saml:AttributeValue>${xmlEscape(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`)
      .join('');
    // The NameID is inserted raw: an attack test puts a comment in it.
    return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${iso(o.now)}"${destination}${inResponseTo}><saml:Issuer>${xmlEscape(o.issuer ?? this.entityId)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="${o.assertionId ?? newId()}" Version="2.0" IssueInstant="${iso(o.now)}"><saml:Issuer>${xmlEscape(o.issuer ?? this.entityId)}</saml:Issuer><saml:Subject><saml:NameID Format="${o.nameIdFormat ?? 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'}">${o.nameId}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${notOnOrAfter}" Recipient="${xmlEscape(o.recipient ?? sp.acsUrl)}"${inResponseTo}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="${iso(o.notBefore ?? o.now - 30)}" NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${xmlEscape(o.audience ?? sp.entityId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="${iso(o.authnInstant ?? o.now)}" SessionIndex="${newId()}"><saml:AuthnContext><saml:AuthnContextClassRef>${o.authnContext ?? 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>${attributes}</saml:AttributeStatement></saml:Assertion></samlp:Response>`;
  }

  /** Sign the element `xpath` selects, the signature placed after its Issuer (SAML Core §5.3). */
  signElement(xml: string, element: 'Assertion' | 'Response', key: SigningKey = this.key): string {
    const target = element === 'Assertion' ? "//*[local-name(.)='Assertion']" : "/*[local-name(.)='Response']";
    const sig = new SignedXml({ privateKey: createPrivateKey(key.privateKeyPem), publicCert: key.certificatePem });
    sig.addReference({ xpath: target, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256' });
    sig.canonicalizationAlgorithm = EXC_C14N;
    sig.signatureAlgorithm = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
    sig.computeSignature(xml, { location: { reference: `${target}/*[local-name(.)='Issuer']`, action: 'after' } });
    return sig.getSignedXml();
  }

  /** A signed Response's XML (the assertion signed unless told otherwise). */
  signedXml(sp: SpEndpoints, o: ResponseOptions): string {
    let xml = this.responseXml(sp, o);
    if (o.signAssertion ?? true) xml = this.signElement(xml, 'Assertion', o.key);
    if (o.signResponse) xml = this.signElement(xml, 'Response', o.key);
    return xml;
  }

  /** What the IdP posts: the signed Response, base64 (HTTP-POST binding, SAML Bindings §3.5.4). */
  response(sp: SpEndpoints, o: ResponseOptions): string {
    return encode(this.signedXml(sp, o));
  }
}

export const encode = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');
