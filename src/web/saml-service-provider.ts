/**
 * The service-provider side of a SAML 2.0 connection, entirely through @node-saml/node-saml for
 * XML and its signatures (never hand-written signature checks): the AuthnRequest (HTTP-Redirect
 * binding, SAML Bindings §3.4), this server's SP metadata, and the signature, audience and shape
 * of a Response posted to the ACS (HTTP-POST binding, §3.5). What node-saml leaves to the SP —
 * time against the server's clock, the bearer confirmation's Recipient and InResponseTo, the
 * Response's Destination, the issuer — is checked in web/saml-assertion.ts.
 */
import { generateServiceProviderMetadata, SAML, SamlStatusError, type Profile, type SamlConfig } from '@node-saml/node-saml';
import { DOMParser } from '@xmldom/xmldom';
import type { SamlConnection } from '../core/identity-providers.ts';
import { parseIdpMetadata, type SamlIdpDescriptor } from '../core/saml-metadata.ts';
import type { GuardFetch } from '../shared/outbound.ts';

/** A refused SAML step, with the audit reason (`signature`, `audience`, `expired`, …). */
export class SamlRefusedError extends Error {
  readonly reason: string;
  constructor(reason: string, cause?: unknown) {
    super(`saml response refused: ${reason}`, { cause });
    this.reason = reason;
  }
}

/** What node-saml verified: the signed assertion's profile, and the Response's own attributes. */
export interface VerifiedResponse {
  profile: Profile;
  idp: SamlIdpDescriptor;
  /** The Response's Destination and InResponseTo (outside the assertion: signed only when the Response is). */
  destination: string | undefined;
  inResponseTo: string | undefined;
}

/** How long fetched IdP metadata is used before it is fetched again (a failed refetch keeps the last good copy). */
const METADATA_TTL_SECONDS = 60 * 60;
const METADATA_MAX_BYTES = 1024 * 1024;

interface CachedMetadata {
  descriptor: SamlIdpDescriptor;
  fetchedAt: number;
}

export class SamlServiceProviders {
  readonly #spBase: () => string;
  readonly #fetch: GuardFetch;
  readonly #now: () => number;
  readonly #metadata = new Map<string, CachedMetadata>();

  /** `spBase`: `<publicUrl>/sso` (read late: a test server learns its port after binding). */
  constructor(spBase: () => string, fetch: GuardFetch, now: () => number) {
    this.#spBase = spBase;
    this.#fetch = fetch;
    this.#now = now;
  }

  /** This SP's entityID for the connection: `<publicUrl>/sso/<id>/saml`. */
  entityId(connection: SamlConnection): string {
    return `${this.#spBase()}/${connection.id}/saml`;
  }

  /** The AssertionConsumerService URL (HTTP-POST): `<publicUrl>/sso/<id>/saml/acs`. */
  acsUrl(connection: SamlConnection): string {
    return `${this.entityId(connection)}/acs`;
  }

  /** The IdP: from the configuration, or its metadata URL (fetched, cached for an hour). */
  async idp(connection: SamlConnection): Promise<SamlIdpDescriptor> {
    if (!('metadataUrl' in connection.idp)) return connection.idp;
    // Keyed by the URL too: an organization's connection may be pointed elsewhere while the server runs.
    const cacheKey = `${connection.id} ${connection.idp.metadataUrl}`;
    const cached = this.#metadata.get(cacheKey);
    if (cached && this.#now() - cached.fetchedAt < METADATA_TTL_SECONDS) return cached.descriptor;
    try {
      const descriptor = parseIdpMetadata(await this.#download(connection.idp.metadataUrl));
      this.#metadata.set(cacheKey, { descriptor, fetchedAt: this.#now() });
      return descriptor;
    } catch (err) {
      // An IdP's metadata endpoint being down must not stop sign-ins its last metadata still allows.
      if (cached) return cached.descriptor;
      throw new SamlRefusedError('idp_unavailable', err);
    }
  }

  async #download(url: string): Promise<string> {
    const response = await this.#fetch(url, { headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } });
    if (response.status !== 200) throw new Error(`metadata answered HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > METADATA_MAX_BYTES) throw new Error('metadata too large');
    return text;
  }

  #options(connection: SamlConnection, idp: SamlIdpDescriptor): SamlConfig {
    return {
      issuer: this.entityId(connection),
      callbackUrl: this.acsUrl(connection),
      entryPoint: idp.ssoUrl,
      idpCert: idp.certificates,
      idpIssuer: idp.entityId,
      audience: this.entityId(connection),
      identifierFormat: connection.nameIdFormat ?? null,
      wantAssertionsSigned: connection.wantAssertionsSigned,
      wantAuthnResponseSigned: false,
      // Time is checked against the server's clock (deps.now) in saml-assertion.ts, not Date.now().
      acceptedClockSkewMs: -1,
      // InResponseTo is checked against our single-use store of AuthnRequests (sso-saml-routes.ts).
      validateInResponseTo: 'never' as SamlConfig['validateInResponseTo'],
      // Ask for no particular authentication method: the IdP's policy (MFA included) decides.
      disableRequestedAuthnContext: true,
      signatureAlgorithm: 'sha256',
    };
  }

  /** The IdP's sign-on URL carrying a deflated AuthnRequest with this ID, and the RelayState. */
  async authnRequestUrl(connection: SamlConnection, requestId: string, relayState: string, forceAuthn = false): Promise<string> {
    const idp = await this.idp(connection);
    // ForceAuthn (SAML Core §3.4.1): a step-up — the IdP must authenticate the person again, not answer from its session.
    const saml = new SAML({ ...this.#options(connection, idp), generateUniqueId: () => requestId, forceAuthn });
    return saml.getAuthorizeUrlAsync(relayState, undefined, {});
  }

  /** This SP's metadata (SAML Metadata §2.4.4): unsigned AuthnRequests, signed assertions wanted, the ACS. */
  metadata(connection: SamlConnection): string {
    return generateServiceProviderMetadata({
      issuer: this.entityId(connection),
      callbackUrl: this.acsUrl(connection),
      identifierFormat: connection.nameIdFormat ?? null,
      wantAssertionsSigned: connection.wantAssertionsSigned,
    });
  }

  /** Verify a posted SAMLResponse: the signature (response and/or assertion), one assertion, the audience. */
  async verify(connection: SamlConnection, samlResponse: string): Promise<VerifiedResponse> {
    const idp = await this.idp(connection);
    const saml = new SAML(this.#options(connection, idp));
    let profile: Profile | null;
    try {
      ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse }));
    } catch (err) {
      throw new SamlRefusedError(failureReason(err), err);
    }
    if (!profile) throw new SamlRefusedError('invalid_response', 'no assertion');
    const root = responseRoot(samlResponse);
    return { profile, idp, destination: root.getAttribute('Destination') ?? undefined, inResponseTo: root.getAttribute('InResponseTo') ?? undefined };
  }
}

/** The posted Response's root element (node-saml parsed and verified the same bytes already). */
function responseRoot(samlResponse: string) {
  let root;
  try {
    root = new DOMParser({ onError: () => {} }).parseFromString(Buffer.from(samlResponse, 'base64').toString('utf8'), 'text/xml').documentElement;
  } catch (err) {
    throw new SamlRefusedError('invalid_response', err);
  }
  if (!root || root.localName !== 'Response') throw new SamlRefusedError('invalid_response', 'not a Response');
  return root;
}

/** A short, stable audit reason for what node-saml refused (its errors carry only messages). */
function failureReason(err: unknown): string {
  if (err instanceof SamlStatusError) return 'idp_error';
  const message = err instanceof Error ? err.message : String(err);
  if (/signature/i.test(message)) return 'signature';
  if (/audience/i.test(message)) return 'audience';
  if (/issuer/i.test(message)) return 'issuer';
  return 'invalid_response';
}
