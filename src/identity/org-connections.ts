/**
 * Single sign-on connections an organization's owners manage (admin API, console), in the same
 * shape as the configuration file's (core/identity-providers.ts) with `organization` forced to
 * theirs. Secrets — `clientSecret`, `privateKeyJwt` — are write-only: sealed under the data key
 * (bound to the connection's id, so a sealed value cannot be moved to another connection) and
 * never shown again; an update that leaves them out keeps them.
 *
 * A connection's `domains` must be domains its organization has verified (identity/org-domains.ts)
 * and no other of its connections uses; ids are unique across the configuration and every
 * organization (the id is part of the redirect URI registered at the IdP).
 */
import { isInternalHost } from '../shared/net.ts';
import * as z from 'zod';
import type { Store } from '../store/store.ts';
import type { OrgConnectionRecord } from '../store/org-connections.ts';
import { open, seal, type SecretKey } from '../core/crypto.ts';
import { PortcullisError } from '../core/errors.ts';
import { GithubConnectionSchema, OidcConnectionSchema, SamlConnectionSchema, type SsoConnection } from '../core/identity-providers.ts';
import { parseInput } from '../core/input.ts';

/**
 * The connection kinds an organization may add: all of the configuration's. A SAML connection
 * holds nothing secret (the IdP's certificates are public), so nothing of it is sealed; inline
 * metadata is stored as given and parsed again at every load (the same checks as at saving).
 */
export const OrgConnectionSchema = z.discriminatedUnion('type', [OidcConnectionSchema, GithubConnectionSchema, SamlConnectionSchema]);

const SECRET_KEYS = ['clientSecret', 'privateKeyJwt'] as const;
const sealContext = (id: string) => `portcullis/org-sso-connection-secrets/v1:${id}`;

export interface OrgConnectionDeps {
  store: Pick<Store, 'orgConnections' | 'ssoLinks'>;
  dataKey: SecretKey;
  /** The configured connections (read-only through the API; their ids and domains are taken). */
  configured: readonly SsoConnection[];
  now: () => number;
  /** Development and tests: an owner's IdP may be on a loopback or private address (config `organizationConnections`). */
  allowPrivateIssuers?: boolean;
  /** An owner's connection may show a "Continue with" button on every sign-in page (config `organizationConnections`). */
  allowPublicButtons?: boolean;
}

/** The deps of an owner's change, from the server's (admin API and console alike). */
export function orgConnectionDeps(deps: {
  store: Pick<Store, 'orgConnections' | 'ssoLinks'>;
  dataKey: SecretKey;
  now: () => number;
  config: { identityProviders: readonly SsoConnection[]; organizationConnections?: { allowPrivateIssuers: boolean; allowPublicButtons: boolean } };
}): OrgConnectionDeps {
  const { allowPrivateIssuers, allowPublicButtons } = deps.config.organizationConnections ?? {};
  return { store: deps.store, dataKey: deps.dataKey, configured: deps.config.identityProviders, now: deps.now, allowPrivateIssuers, allowPublicButtons };
}

/**
 * The URLs of an owner's connection, by the field they were given in. SAML: the metadata URL the
 * server fetches, and the sign-on URL browsers are sent to (explicit, or read from inline metadata).
 */
function idpUrls(connection: SsoConnection, input: Input): [string, string][] {
  if (connection.type === 'github') return [['apiUrl', connection.apiUrl], ['webUrl', connection.webUrl]];
  // An Entra stand-in (`authority`) is where the server's requests for Entra go.
  if (connection.type === 'oidc') return connection.authority ? [['issuer', connection.issuer], ['authority', connection.authority]] : [['issuer', connection.issuer]];
  if ('metadataUrl' in connection.idp) return [['idp.metadataUrl', connection.idp.metadataUrl]];
  const inline = typeof input.idp === 'object' && input.idp !== null && 'metadataXml' in input.idp;
  return [[inline ? 'idp.metadataXml' : 'idp.ssoUrl', connection.idp.ssoUrl]];
}

/**
 * An owner's connection makes this server fetch the IdP's URLs (discovery, tokens, userinfo, SAML
 * metadata) and send browsers to them: never a loopback or private address given literally, nor
 * `localhost` — unless the server allows it (development). A public name that resolves to a
 * private address is not caught here.
 */
function checkIssuers(deps: OrgConnectionDeps, connection: SsoConnection, input: Input): void {
  if (deps.allowPrivateIssuers) return;
  for (const [path, raw] of idpUrls(connection, input)) {
    const url = new URL(raw);
    if (url.protocol !== 'https:' || isInternalHost(url.hostname)) throw fieldError(path, 'expected a public https address', 'private-issuer');
  }
}

/**
 * A GitHub connection's account links are issued under its web origin (github.com), but who the
 * person is comes from `apiUrl`: an owner's connection must take both from one GitHub — the API
 * at the web host (Enterprise Server: `<host>/api/v3`) or at `api.<host>` (github.com) — or it
 * could name github.com and answer `/user` itself with anyone's id.
 */
function checkGithubHosts(connection: SsoConnection): void {
  if (connection.type !== 'github') return;
  const web = new URL(connection.webUrl).host;
  const api = new URL(connection.apiUrl).host;
  if (api !== web && api !== `api.${web}`) throw fieldError('apiUrl', `expected the API of ${web} (https://api.${web} or https://${web}/api/v3)`, 'github-hosts');
}

export interface OrgRef {
  id: string;
  slug: string;
}

type Input = Record<string, unknown>;

function asObject(input: unknown): Input {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new PortcullisError('invalid_request', 'expected a JSON object', { detail: { errors: [{ path: '(root)', message: 'expected an object' }] } });
  return input as Input;
}

const fieldError = (path: string, message: string, rule: string) => new PortcullisError('invalid_request', message, { rule, detail: { errors: [{ path, message }] } });

/** The definition parsed as the configuration's would be, `organization` forced to the org's. */
function parseDefinition(deps: OrgConnectionDeps, org: OrgRef, input: Input): SsoConnection {
  if (input.organization !== undefined && input.organization !== org.slug) throw fieldError('organization', 'a connection signs people into its own organization only', 'own-organization');
  const connection = parseInput(OrgConnectionSchema, { ...input, organization: org.slug });
  checkIssuers(deps, connection, input);
  checkGithubHosts(connection);
  if (connection.public && !deps.allowPublicButtons) {
    throw fieldError('public', 'a button on every sign-in page is for the server administrator to allow (organizationConnections.allowPublicButtons); people of your verified domains are sent to this connection anyway', 'public-button');
  }
  return connection;
}

/** Every domain must be verified by this org and not used by another of its connections. */
async function checkDomains(deps: OrgConnectionDeps, org: OrgRef, connection: SsoConnection): Promise<void> {
  const verified = new Set((await deps.store.orgConnections.listDomains(org.id)).filter((d) => d.verifiedAt !== null).map((d) => d.domain));
  const others = (await deps.store.orgConnections.listConnections(org.id)).filter((r) => r.id !== connection.id);
  const used = new Map(others.flatMap((r) => (JSON.parse(r.definition) as { domains?: string[] }).domains?.map((d) => [d.toLowerCase(), r.id] as const) ?? []));
  for (const domain of connection.domains) {
    if (!verified.has(domain)) throw fieldError('domains', `${domain} is not a verified domain of this organization`, 'domain-unverified');
    const owner = used.get(domain);
    if (owner) throw fieldError('domains', `${domain} is used by connection "${owner}"`, 'domain-in-use');
  }
}

/** Split the raw input into what is stored in clear and the sealed secrets. */
function storedParts(deps: OrgConnectionDeps, id: string, input: Input): { definition: string; secretsSealed: string | null } {
  const clear: Input = {};
  const secrets: Input = {};
  for (const [key, value] of Object.entries(input)) ((SECRET_KEYS as readonly string[]).includes(key) ? secrets : clear)[key] = value;
  return { definition: JSON.stringify(clear), secretsSealed: Object.keys(secrets).length ? seal(deps.dataKey, JSON.stringify(secrets), sealContext(id)) : null };
}

function openSecrets(deps: Pick<OrgConnectionDeps, 'dataKey'>, record: OrgConnectionRecord): Input {
  return record.secretsSealed ? (JSON.parse(open(deps.dataKey, record.secretsSealed, sealContext(record.id))) as Input) : {};
}

/** The raw input a stored record was made from, secrets included (only ever in memory). */
function recordInput(deps: Pick<OrgConnectionDeps, 'dataKey'>, record: OrgConnectionRecord): Input {
  return { ...(JSON.parse(record.definition) as Input), ...openSecrets(deps, record) };
}

export async function createOrgConnection(deps: OrgConnectionDeps, org: OrgRef, body: unknown): Promise<SsoConnection> {
  const input = asObject(body);
  const connection = parseDefinition(deps, org, input);
  if (deps.configured.some((c) => c.id === connection.id) || (await deps.store.orgConnections.getConnection(connection.id))) {
    throw new PortcullisError('already_exists', 'a connection with this id exists', { rule: 'unique-connection-id' });
  }
  await checkDomains(deps, org, connection);
  const now = deps.now();
  const created = await deps.store.orgConnections.createConnection({ id: connection.id, orgId: org.id, ...storedParts(deps, connection.id, { ...input, organization: org.slug }), createdAt: now, updatedAt: now });
  if (!created) throw new PortcullisError('already_exists', 'a connection with this id exists', { rule: 'unique-connection-id' });
  return connection;
}

/** The org's own connection record, or: read_only for a configured one of this org, else 404. */
async function ownRecord(deps: OrgConnectionDeps, org: OrgRef, id: string): Promise<OrgConnectionRecord> {
  if (deps.configured.some((c) => c.id === id && c.organization === org.slug)) throw new PortcullisError('read_only', 'this connection is defined in the configuration file; change it there');
  const record = await deps.store.orgConnections.getConnection(id);
  if (!record || record.orgId !== org.id) throw new PortcullisError('not_found', 'no such connection');
  return record;
}

/**
 * Change some fields (`id` and `type` stay). A new secret replaces the old; giving
 * `privateKeyJwt` drops a `clientSecret` and the other way round (exactly one is kept).
 */
export async function updateOrgConnection(deps: OrgConnectionDeps, org: OrgRef, id: string, body: unknown): Promise<SsoConnection> {
  const patch = asObject(body);
  const record = await ownRecord(deps, org, id);
  const current = recordInput(deps, record);
  if ((patch.id !== undefined && patch.id !== id) || (patch.type !== undefined && patch.type !== current.type)) throw fieldError(patch.id !== undefined && patch.id !== id ? 'id' : 'type', 'the id and type of a connection cannot change', 'immutable');
  const merged: Input = { ...current, ...patch };
  if ('privateKeyJwt' in patch && !('clientSecret' in patch)) delete merged.clientSecret;
  if ('clientSecret' in patch && !('privateKeyJwt' in patch)) delete merged.privateKeyJwt;
  const connection = parseDefinition(deps, org, merged);
  await checkDomains(deps, org, connection);
  const parts = storedParts(deps, id, { ...merged, organization: org.slug });
  if (!(await deps.store.orgConnections.updateConnection(org.id, id, parts.definition, parts.secretsSealed, deps.now()))) throw new PortcullisError('not_found', 'no such connection');
  return connection;
}

export async function deleteOrgConnection(deps: OrgConnectionDeps, org: OrgRef, id: string): Promise<void> {
  await ownRecord(deps, org, id);
  if (!(await deps.store.orgConnections.deleteConnection(org.id, id))) throw new PortcullisError('not_found', 'no such connection');
  // Its account links (and the IdP credentials kept with them) go too: a connection made later
  // with the same id — by any organization — must not inherit who this one vouched for.
  await deps.store.ssoLinks.removeForConnection(id);
}

/** One organization's connections as the API shows them: configured ones read-only, no secret ever. */
export async function orgConnectionViews(deps: OrgConnectionDeps, org: OrgRef): Promise<ReturnType<typeof connectionView>[]> {
  const configured = deps.configured.filter((c) => c.organization === org.slug).map((c) => connectionView(c, 'config'));
  const own = await deps.store.orgConnections.listConnections(org.id);
  return [...configured, ...own.map((r) => connectionView(parseInput(OrgConnectionSchema, recordInput(deps, r)), 'organization', r))];
}

export function connectionView(connection: SsoConnection, source: 'config' | 'organization', record?: OrgConnectionRecord) {
  const { clientSecret: _s, ...rest } = connection as SsoConnection & { clientSecret?: string; privateKeyJwt?: unknown };
  const { privateKeyJwt: _k, ...shown } = rest as typeof rest & { privateKeyJwt?: unknown };
  return {
    ...shown,
    source,
    readOnly: source === 'config',
    /** Which secret is set (never its value); a SAML connection has none. */
    ...(connection.type === 'saml' ? {} : { clientAuth: 'privateKeyJwt' in connection && connection.privateKeyJwt ? 'private_key_jwt' : 'client_secret' }),
    ...(record ? { createdAt: new Date(record.createdAt * 1000).toISOString(), updatedAt: new Date(record.updatedAt * 1000).toISOString() } : {}),
  };
}

/**
 * Every organization's connections as the sign-in routes use them, secrets opened, each one's
 * domains cut to those its organization holds verified now (a domain given up stops routing).
 * A record that no longer parses (a newer server wrote it, a key changed) is skipped and reported.
 */
export async function loadOrgConnections(deps: Pick<OrgConnectionDeps, 'dataKey' | 'configured' | 'allowPublicButtons'> & { store: Pick<Store, 'orgConnections'> }, skipped: (id: string, err: unknown) => void): Promise<SsoConnection[]> {
  const [records, domains] = await Promise.all([deps.store.orgConnections.listConnections(), deps.store.orgConnections.listDomains()]);
  const verified = new Set(domains.filter((d) => d.verifiedAt !== null).map((d) => `${d.orgId} ${d.domain}`));
  const configuredIds = new Set(deps.configured.map((c) => c.id));
  const configuredDomains = new Set(deps.configured.flatMap((c) => c.domains));
  const out: SsoConnection[] = [];
  for (const record of records) {
    if (configuredIds.has(record.id)) continue;
    try {
      const connection = OrgConnectionSchema.parse(recordInput(deps, record));
      // A button allowed once and disallowed since is not shown (the stored definition keeps `public`).
      const shown = connection.public && deps.allowPublicButtons === true;
      out.push({ ...connection, public: shown, domains: connection.domains.filter((d) => verified.has(`${record.orgId} ${d}`) && !configuredDomains.has(d)) });
    } catch (err) {
      skipped(record.id, err);
    }
  }
  return out;
}

/** The org's own connection naming `domain`, if any (a domain in use is not given up). */
export async function connectionUsingDomain(deps: Pick<OrgConnectionDeps, 'store'>, orgId: string, domain: string): Promise<string | undefined> {
  const records = await deps.store.orgConnections.listConnections(orgId);
  return records.find((r) => ((JSON.parse(r.definition) as { domains?: string[] }).domains ?? []).some((d) => d.toLowerCase() === domain))?.id;
}
