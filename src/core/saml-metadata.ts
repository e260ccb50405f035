/**
 * What Portcullis needs from a SAML 2.0 identity provider's metadata (SAML Metadata §2.3.2, §2.4.3):
 * its entityID, the HTTP-Redirect SingleSignOnService location, and the certificates of its
 * signing KeyDescriptors. Only reads the document: its own signature is not checked — the XML is
 * trusted because a server administrator put it in the configuration or it came over https.
 */
import { DOMParser, type Element } from '@xmldom/xmldom';
import { isLoopbackUrl } from '../shared/net.ts';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
/** SAML Bindings §3.4: the AuthnRequest travels in the query string. */
export const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

export interface SamlIdpDescriptor {
  entityId: string;
  ssoUrl: string;
  /** PEM certificates any of which may sign responses (several while the IdP rolls its key). */
  certificates: string[];
}

/** Metadata that cannot be used, with what is wrong (shown in configuration errors and logs). */
export class SamlMetadataError extends Error {}

const children = (parent: Element, ns: string, name: string): Element[] =>
  Array.from(parent.childNodes).filter((n): n is Element => n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === name);

/** A certificate in PEM, from the base64 of an X509Certificate element (whitespace allowed in it). */
export function certificatePem(base64: string): string {
  const body = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new SamlMetadataError('an X509Certificate is not base64');
  return `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function parse(xml: string): Element {
  // No DTDs: metadata never needs one, and entity expansion is an attack surface.
  if (/<!DOCTYPE/i.test(xml)) throw new SamlMetadataError('metadata must not contain a DOCTYPE');
  try {
    const doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new SamlMetadataError(message);
      },
    }).parseFromString(xml, 'text/xml');
    if (!doc.documentElement) throw new SamlMetadataError('empty document');
    return doc.documentElement;
  } catch (err) {
    throw err instanceof SamlMetadataError ? err : new SamlMetadataError(`not well-formed XML: ${(err as Error).message}`);
  }
}

/** The EntityDescriptor with an IDPSSODescriptor (the root, or the only such one in an EntitiesDescriptor). */
function idpEntity(root: Element): Element {
  const candidates = root.namespaceURI === MD && root.localName === 'EntitiesDescriptor' ? children(root, MD, 'EntityDescriptor') : [root];
  const idps = candidates.filter((e) => e.namespaceURI === MD && e.localName === 'EntityDescriptor' && children(e, MD, 'IDPSSODescriptor').length > 0);
  if (idps.length !== 1) throw new SamlMetadataError('expected exactly one EntityDescriptor with an IDPSSODescriptor');
  return idps[0]!;
}

function signingCertificates(descriptor: Element): string[] {
  const pems: string[] = [];
  for (const key of children(descriptor, MD, 'KeyDescriptor')) {
    // Metadata §2.4.1.1: without `use`, the key is for both signing and encryption.
    const use = key.getAttribute('use');
    if (use && use !== 'signing') continue;
    for (const info of children(key, DS, 'KeyInfo')) {
      for (const data of children(info, DS, 'X509Data')) {
        for (const cert of children(data, DS, 'X509Certificate')) pems.push(certificatePem(cert.textContent ?? ''));
      }
    }
  }
  return pems;
}

/** The IdP's entity ID, redirect-binding sign-on URL and signing certificates. */
export function parseIdpMetadata(xml: string): SamlIdpDescriptor {
  const entity = idpEntity(parse(xml));
  const entityId = entity.getAttribute('entityID') ?? '';
  if (!entityId) throw new SamlMetadataError('the EntityDescriptor has no entityID');
  const descriptor = children(entity, MD, 'IDPSSODescriptor')[0]!;
  const sso = children(descriptor, MD, 'SingleSignOnService').find((s) => s.getAttribute('Binding') === REDIRECT_BINDING);
  const ssoUrl = sso?.getAttribute('Location') ?? '';
  const url = URL.parse(ssoUrl);
  if (!url) throw new SamlMetadataError('no SingleSignOnService with the HTTP-Redirect binding');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackUrl(url))) throw new SamlMetadataError('the SingleSignOnService must be https');
  const certificates = signingCertificates(descriptor);
  if (certificates.length === 0) throw new SamlMetadataError('no signing certificate (KeyDescriptor with an X509Certificate)');
  return { entityId, ssoUrl, certificates };
}
