/**
 * The checks of a signed SAML assertion that node-saml leaves to the service provider (it has
 * already verified the signature and the audience: web/saml-service-provider.ts), against the
 * server's clock. SAML Profiles §4.1.4.2–4.1.4.3: the issuer is the IdP; a bearer
 * SubjectConfirmation whose data names our ACS as Recipient, is within its NotOnOrAfter, and —
 * for an answer to our AuthnRequest — carries its ID as InResponseTo; Conditions' validity
 * window (SAML Core §2.5.1.2); a Response's Destination, when present, is our ACS (§3.2.2).
 */
import type { Profile } from '@node-saml/node-saml';
import type { SamlConnection } from '../core/identity-providers.ts';
import { SamlRefusedError, type VerifiedResponse } from './saml-service-provider.ts';

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
/** A transient NameID is a new one at every sign-in (SAML Core §8.3.8): nothing to link an account to. */
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
/** AuthnContextClassRefs that say more than one factor was used (SAML Authn Context §3.4; Entra's own). */
const MFA_CLASSES = new Set([
  'http://schemas.microsoft.com/claims/multipleauthn',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI',
]);

/** xml2js's shape of the signed assertion (node-saml parses it with `explicitCharkey`, prefixes stripped). */
type Node = { $?: Record<string, string>; _?: string; [child: string]: unknown };

const first = (node: Node | undefined, name: string): Node | undefined => (Array.isArray(node?.[name]) ? (node[name] as Node[])[0] : undefined);
const all = (node: Node | undefined, name: string): Node[] => (Array.isArray(node?.[name]) ? (node[name] as Node[]) : []);

export interface AssertionExpectations {
  /** This SP's ACS URL: the bearer confirmation's Recipient, the Response's Destination. */
  acsUrl: string;
  /** Epoch seconds, from the server's clock. */
  now: number;
}

/** What a checked assertion says, for the account and the replay record. */
export interface CheckedAssertion {
  /** The assertion's ID (SAML Core §2.3.3): seen once per IdP until `keepUntil`. */
  id: string;
  issuer: string;
  /** The bearer confirmation's InResponseTo (signed): our AuthnRequest's ID, or undefined when IdP-initiated. */
  inResponseTo: string | undefined;
  /** Until when a replay of this assertion could still be accepted (its latest NotOnOrAfter, plus the skew). */
  keepUntil: number;
  nameId: string;
  nameIdFormat: string | undefined;
  authnContext: string | undefined;
  /** When the IdP authenticated the person (AuthnStatement's AuthnInstant, SAML Core §2.7.2), epoch seconds. */
  authnInstant: number | undefined;
}

/** An xs:dateTime as epoch seconds; a malformed one refuses the assertion. */
function seconds(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) || Number.isNaN(ms)) throw new SamlRefusedError('invalid_response', `${what} is not a dateTime`);
  return Math.floor(ms / 1000);
}

/** NotBefore ≤ now < NotOnOrAfter, each side widened by the connection's clock skew. */
function checkWindow(node: Node | undefined, connection: SamlConnection, now: number): number | undefined {
  const notBefore = seconds(node?.$?.NotBefore, 'NotBefore');
  const notOnOrAfter = seconds(node?.$?.NotOnOrAfter, 'NotOnOrAfter');
  if (notBefore !== undefined && now + connection.clockSkewSeconds < notBefore) throw new SamlRefusedError('not_yet_valid');
  if (notOnOrAfter !== undefined && now - connection.clockSkewSeconds >= notOnOrAfter) throw new SamlRefusedError('expired');
  return notOnOrAfter;
}

/**
 * The bearer SubjectConfirmationData meant for us: Recipient is our ACS and it has not expired.
 * Profiles §4.1.4.2 requires NotOnOrAfter on it, so a confirmation without one is not accepted.
 */
function bearerConfirmation(subject: Node | undefined, expected: AssertionExpectations, connection: SamlConnection): { data: Node; notOnOrAfter: number } {
  const bearers = all(subject, 'SubjectConfirmation').filter((sc) => sc.$?.Method === BEARER);
  if (bearers.length === 0) throw new SamlRefusedError('subject_confirmation');
  const forUs = bearers.map((sc) => first(sc, 'SubjectConfirmationData')).filter((d): d is Node => d?.$?.Recipient === expected.acsUrl);
  if (forUs.length === 0) throw new SamlRefusedError('recipient');
  const data = forUs[0]!;
  const notOnOrAfter = checkWindow(data, connection, expected.now);
  if (notOnOrAfter === undefined) throw new SamlRefusedError('subject_confirmation', 'no NotOnOrAfter');
  return { data, notOnOrAfter };
}

function nameIdOf(subject: Node | undefined): { value: string; format: string | undefined } {
  const nameId = first(subject, 'NameID');
  const value = typeof nameId?._ === 'string' ? nameId._.trim() : '';
  if (!value) throw new SamlRefusedError('no_name_id');
  const format = nameId?.$?.Format;
  if (format === TRANSIENT) throw new SamlRefusedError('transient_name_id');
  return { value, format };
}

/** Check the verified response's assertion; returns what it asserts. */
export function checkAssertion(verified: VerifiedResponse, connection: SamlConnection, expected: AssertionExpectations): CheckedAssertion {
  const { profile, idp } = verified;
  const assertion = (profile.getAssertion?.() as { Assertion?: Node } | undefined)?.Assertion;
  if (!assertion?.$?.ID) throw new SamlRefusedError('invalid_response', 'assertion without ID');
  // The Response's Destination is signed only when the Response is; when present it must still name us.
  if (verified.destination !== undefined && verified.destination !== expected.acsUrl) throw new SamlRefusedError('destination');
  if (first(assertion, 'Issuer')?._?.trim() !== idp.entityId) throw new SamlRefusedError('issuer');
  const subject = first(assertion, 'Subject');
  const confirmation = bearerConfirmation(subject, expected, connection);
  const conditionsEnd = checkWindow(first(assertion, 'Conditions'), connection, expected.now);
  const inResponseTo = confirmation.data.$?.InResponseTo;
  // Profiles §4.1.4.2: the confirmation's InResponseTo (signed) and the Response's must agree.
  if (verified.inResponseTo !== undefined && verified.inResponseTo !== inResponseTo) throw new SamlRefusedError('in_response_to');
  const nameId = nameIdOf(subject);
  const statement = first(assertion, 'AuthnStatement');
  const authnContext = first(first(statement, 'AuthnContext'), 'AuthnContextClassRef')?._?.trim();
  const authnInstant = seconds(statement?.$?.AuthnInstant, 'AuthnInstant');
  const keepUntil = Math.max(confirmation.notOnOrAfter, conditionsEnd ?? 0) + connection.clockSkewSeconds;
  return { id: assertion.$.ID, issuer: idp.entityId, inResponseTo, keepUntil, nameId: nameId.value, nameIdFormat: nameId.format, authnContext, authnInstant };
}

/** The first attribute among `names` that has a value (a single value, or the first of several). */
function attribute(profile: Profile, names: readonly string[]): string | undefined {
  const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
  for (const name of names) {
    const value = attributes[name];
    const one = Array.isArray(value) ? value[0] : value;
    if (typeof one === 'string' && one.trim()) return one.trim();
  }
  return undefined;
}

function attributeValues(profile: Profile, name: string): string[] {
  const value = ((profile.attributes ?? {}) as Record<string, unknown>)[name];
  return [value].flat().filter((v): v is string => typeof v === 'string');
}

/**
 * The claims identity/sso-accounts.ts decides on. SAML has no `email_verified`: an address is
 * taken as verified only in one of the connection's own domains — the domains a server
 * administrator said this IdP speaks for. An e-mail-format NameID stands in for a missing attribute.
 */
export function samlClaims(connection: SamlConnection, profile: Profile, checked: CheckedAssertion): Record<string, unknown> & { iss: string; sub: string } {
  const email = (attribute(profile, connection.attributes.email) ?? (checked.nameIdFormat === EMAIL_FORMAT ? checked.nameId : undefined))?.toLowerCase();
  const domain = email?.slice(email.lastIndexOf('@') + 1);
  return {
    iss: checked.issuer,
    sub: checked.nameId,
    email,
    email_verified: email !== undefined && email.includes('@') && connection.domains.includes(domain ?? ''),
    name: attribute(profile, connection.attributes.name),
    groups: attributeValues(profile, connection.roles.attribute),
  };
}

/** The session's `amr` (RFC 8176): `mfa` only when the connection trusts the IdP's AuthnContext and it names several factors. */
export function samlAmr(connection: SamlConnection, checked: CheckedAssertion): string[] {
  return connection.trustAuthnContext && checked.authnContext && MFA_CLASSES.has(checked.authnContext) ? ['mfa'] : ['ext'];
}
