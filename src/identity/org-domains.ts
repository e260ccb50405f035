/**
 * The e-mail domains an organization claims for its own SSO connections. A connection routes an
 * address to its IdP (home-realm discovery) and links existing accounts only for domains it owns,
 * so owning must be proved: by a DNS TXT record only the domain's holder can publish, or by a
 * server administrator vouching for it. The record (README "Per-organization connections"):
 *
 *     _portcullis-challenge.<domain>  TXT  "portcullis-domain-verification=<token>"
 *
 * An underscore label keeps the record out of the way of anything else at the domain (the
 * convention of RFC 8552 "attrleaf" names, as ACME's `_acme-challenge`, RFC 8555 §8.4, uses).
 * A domain in the configuration, or verified by another organization, cannot be claimed; nor
 * can a public mail provider's (everyone at gmail.com is not one company).
 */
import { Resolver } from 'node:dns/promises';
import type { Store } from '../store/store.ts';
import type { OrgDomain } from '../store/org-connections.ts';
import { randomToken } from '../core/crypto.ts';
import { PortcullisError } from '../core/errors.ts';
import { DOMAIN, type SsoConnection } from '../core/identity-providers.ts';
import { parseInput } from '../core/input.ts';
import * as z from 'zod';

export const CHALLENGE_LABEL = '_portcullis-challenge';
export const CHALLENGE_PREFIX = 'portcullis-domain-verification=';

/** Mail providers whose addresses belong to the public, not to a company (a claim would capture strangers). */
const PUBLIC_MAIL = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'yahoo.com', 'ymail.com', 'icloud.com',
  'me.com', 'mac.com', 'aol.com', 'proton.me', 'protonmail.com', 'pm.me', 'gmx.com', 'gmx.de', 'gmx.net', 'web.de', 'mail.com',
  'yandex.com', 'yandex.ru', 'mail.ru', 'zoho.com', 'qq.com', '163.com', '126.com', 'fastmail.com', 'hey.com', 'tutanota.com',
  'tuta.io', 'seznam.cz', 'libero.it', 'orange.fr', 'free.fr', 't-online.de', 'comcast.net', 'verizon.net', 'naver.com',
]);

export const DomainInputSchema = z.strictObject({ domain: DOMAIN });

/** Looks up TXT records: node:dns/promises, at the configured servers or the system's (one resolver per verification: they are rare). */
export type TxtLookup = (name: string) => Promise<string[][]>;

export function txtLookup(dnsServers: readonly string[]): TxtLookup {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (dnsServers.length > 0) resolver.setServers([...dnsServers]);
  return (name) => resolver.resolveTxt(name);
}

export interface DomainDeps {
  store: Pick<Store, 'orgConnections'>;
  /** The configured connections: their domains are taken. */
  configured: readonly SsoConnection[];
  now: () => number;
}

/** The record an owner creates for a claim: its name and value. */
export function challengeRecord(claim: Pick<OrgDomain, 'domain' | 'token'>): { name: string; type: 'TXT'; value: string } {
  return { name: `${CHALLENGE_LABEL}.${claim.domain}`, type: 'TXT', value: `${CHALLENGE_PREFIX}${claim.token}` };
}

/** Who holds `domain` already, other than `orgId`: the configuration or another organization. */
async function takenBy(deps: DomainDeps, orgId: string, domain: string): Promise<'config' | 'org' | undefined> {
  if (deps.configured.some((c) => c.domains.includes(domain))) return 'config';
  const verified = await deps.store.orgConnections.verifiedDomain(domain);
  return verified && verified.orgId !== orgId ? 'org' : undefined;
}

/** Ask for a domain: a new token to publish, nothing claimed yet. */
export async function claimDomain(deps: DomainDeps, orgId: string, input: unknown): Promise<OrgDomain> {
  const { domain } = parseInput(DomainInputSchema, input);
  if (PUBLIC_MAIL.has(domain)) {
    throw new PortcullisError('invalid_request', 'a public mail provider\'s domain cannot be claimed', { rule: 'public-mail-domain', detail: { errors: [{ path: 'domain', message: 'a public mail provider\'s domain cannot be claimed' }] } });
  }
  if (await takenBy(deps, orgId, domain)) throw new PortcullisError('domain_claimed', 'this domain is claimed already', { rule: 'domain-claimed' });
  const claim: OrgDomain = { domain, orgId, token: randomToken(24), createdAt: deps.now(), verifiedAt: null, verifiedBy: null, verifiedHow: null };
  if (!(await deps.store.orgConnections.addDomain(claim))) throw new PortcullisError('already_exists', 'this organization has asked for this domain already', { rule: 'domain-asked' });
  return claim;
}

/** The org's claim of `domain`, or 404. */
export async function ownClaim(deps: DomainDeps, orgId: string, domain: string): Promise<OrgDomain> {
  const claim = (await deps.store.orgConnections.listDomains(orgId)).find((d) => d.domain === domain.toLowerCase());
  if (!claim) throw new PortcullisError('not_found', 'this organization has not asked for this domain');
  return claim;
}

/**
 * Verify a claim: `admin` (a server administrator vouches), or its TXT record. A TXT record may
 * be split into several strings; they are one value joined (RFC 7208 §3.3 reads them so too).
 */
export async function verifyDomain(deps: DomainDeps & { lookup: TxtLookup }, orgId: string, domain: string, by: string, how: 'dns' | 'admin'): Promise<OrgDomain> {
  const claim = await ownClaim(deps, orgId, domain);
  if (await takenBy(deps, orgId, claim.domain)) throw new PortcullisError('domain_claimed', 'this domain is claimed already', { rule: 'domain-claimed' });
  if (how === 'dns' && !(await recordFound(deps.lookup, claim))) {
    throw new PortcullisError('verification_failed', `no TXT record ${CHALLENGE_PREFIX}<token> at ${CHALLENGE_LABEL}.${claim.domain}`, { rule: 'dns-record', detail: { record: challengeRecord(claim) } });
  }
  const result = await deps.store.orgConnections.verifyDomain(orgId, claim.domain, how, by, deps.now());
  if (result === 'taken') throw new PortcullisError('domain_claimed', 'this domain is claimed already', { rule: 'domain-claimed' });
  if (result === 'unknown') throw new PortcullisError('not_found', 'this organization has not asked for this domain');
  return ownClaim(deps, orgId, claim.domain);
}

async function recordFound(lookup: TxtLookup, claim: OrgDomain): Promise<boolean> {
  const { name, value } = challengeRecord(claim);
  let records: string[][];
  try {
    records = await lookup(name);
  } catch {
    // NXDOMAIN, no TXT data, a timeout: not verified (the owner tries again once DNS answers).
    return false;
  }
  return records.some((chunks) => chunks.join('') === value);
}

/** A claim as the API and the console show it: the record to create, and whether it is verified. */
export function domainView(claim: OrgDomain) {
  return {
    domain: claim.domain,
    verified: claim.verifiedAt !== null,
    verifiedAt: claim.verifiedAt === null ? null : new Date(claim.verifiedAt * 1000).toISOString(),
    verifiedHow: claim.verifiedHow,
    record: challengeRecord(claim),
  };
}

/** Give a claim up — refused (409 conflict) while one of the org's connections names the domain. */
export async function removeDomain(deps: DomainDeps, orgId: string, domain: string, usedBy: (domain: string) => Promise<string | undefined>): Promise<void> {
  const claim = await ownClaim(deps, orgId, domain);
  const connection = await usedBy(claim.domain);
  if (connection) throw new PortcullisError('conflict', `connection "${connection}" uses this domain; remove it there first`, { rule: 'domain-in-use' });
  if (!(await deps.store.orgConnections.deleteDomain(orgId, claim.domain))) throw new PortcullisError('not_found', 'this organization has not asked for this domain');
}
