/**
 * Managing OAuth clients, free of HTTP: what the console's `/server/clients` pages, the admin API's
 * `/clients` routes and `portcullis clients` all call. Registering and rotating generate a secret
 * that is returned once and stored only as its keyed hash (clients/secrets.ts); every change is on
 * the audit record before it is answered.
 *
 * Three kinds are listed: pre-registered (an administrator, kind `static` in the store), dynamic
 * (RFC 7591 registration) and metadata-document clients (a Client ID Metadata Document, never
 * stored: known from the grants people gave them).
 */
import type { Store } from '../store/store.ts';
import type { ClientRecord } from '../store/clients.ts';
import type { GrantContext } from '../store/grant-contexts.ts';
import type { AuditRecord } from '../audit/audit-log.ts';
import { PortcullisError } from '../core/errors.ts';
import { randomBase62, randomToken, type SecretKey } from '../core/crypto.ts';
import { clientToRecord } from './secrets.ts';
import { planRegistration } from './input.ts';

export interface ClientServiceDeps {
  store: Store;
  pepper: SecretKey;
  /** Changes are on the record, written before they are answered. */
  audit?: { write(record: AuditRecord): Promise<unknown> };
  /** The resource URLs of the applications served now (an unknown one is refused at registration). */
  applications?: () => string[];
}

export type ClientKind = 'pre-registered' | 'dynamic' | 'metadata-document';

/** What may be shown about a client: chosen fields only, so no secret (or its hash) can slip out. */
export interface ClientSummary {
  clientId: string;
  name: string | null;
  kind: ClientKind;
  type: 'public' | 'confidential';
  tokenEndpointAuthMethod: string;
  grantTypes: string[];
  redirectUris: string[];
  jwksUri: string | null;
  applications: string[];
  scopes: string[];
  resourceServers: string[];
  createdAt: number | null;
  /** The latest of: the first authorization, a grant's last use. */
  lastUsedAt: number | null;
  /** People with a grant to this client that is not revoked. */
  people: number;
}

const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);

interface Usage {
  people: number;
  lastUsedAt: number | null;
}

/** Per client: how many people connected (live grants), and the last time a grant was used. */
function usageByClient(grants: GrantContext[]): Map<string, Usage> {
  const people = new Map<string, Set<string>>();
  const last = new Map<string, number>();
  for (const g of grants) {
    if (g.revokedAt === null) people.set(g.clientId, (people.get(g.clientId) ?? new Set()).add(g.userId));
    const used = g.lastUsedAt ?? g.createdAt;
    if (used > (last.get(g.clientId) ?? 0)) last.set(g.clientId, used);
  }
  const ids = new Set([...people.keys(), ...last.keys()]);
  return new Map([...ids].map((id) => [id, { people: people.get(id)?.size ?? 0, lastUsedAt: last.get(id) ?? null }]));
}

function latest(...times: (number | null | undefined)[]): number | null {
  const known = times.filter((t): t is number => typeof t === 'number' && t > 0);
  return known.length ? Math.max(...known) : null;
}

function summaryOf(record: ClientRecord, usage: Usage | undefined): ClientSummary {
  const m = record.metadata;
  const method = typeof m.token_endpoint_auth_method === 'string' ? m.token_endpoint_auth_method : 'client_secret_basic';
  return {
    clientId: record.clientId,
    name: typeof m.client_name === 'string' ? m.client_name : null,
    kind: record.kind === 'static' ? 'pre-registered' : 'dynamic',
    type: method === 'none' ? 'public' : 'confidential',
    tokenEndpointAuthMethod: method,
    grantTypes: strings(m.grant_types),
    redirectUris: strings(m.redirect_uris),
    jwksUri: typeof m.jwks_uri === 'string' ? m.jwks_uri : null,
    applications: strings(m.portcullis_applications),
    scopes: strings(m.portcullis_scopes),
    resourceServers: strings(m.portcullis_resources),
    createdAt: record.createdAt,
    lastUsedAt: latest(record.lastUsedAt, usage?.lastUsedAt),
    people: usage?.people ?? 0,
  };
}

/** A metadata-document client: its client_id is the https URL of its document (draft-ietf-oauth-client-id-metadata-document §3). */
function documentClient(clientId: string, usage: Usage): ClientSummary {
  return {
    clientId,
    name: null,
    kind: 'metadata-document',
    type: 'public',
    tokenEndpointAuthMethod: 'as its document says',
    grantTypes: [],
    redirectUris: [],
    jwksUri: null,
    applications: [],
    scopes: [],
    resourceServers: [],
    createdAt: null,
    lastUsedAt: usage.lastUsedAt,
    people: usage.people,
  };
}

/** Every client, the most recently used first. */
export async function listClients(deps: ClientServiceDeps): Promise<ClientSummary[]> {
  const [records, grants] = await Promise.all([deps.store.clients.list(), deps.store.grantContexts.list({ includeRevoked: true })]);
  const usage = usageByClient(grants);
  const stored = new Set(records.map((r) => r.clientId));
  const documents = [...usage.entries()].filter(([id]) => !stored.has(id) && URL.parse(id)?.protocol === 'https:').map(([id, u]) => documentClient(id, u));
  const all = [...records.map((r) => summaryOf(r, usage.get(r.clientId))), ...documents];
  return all.sort((a, b) => (b.lastUsedAt ?? 0) - (a.lastUsedAt ?? 0) || (b.createdAt ?? 0) - (a.createdAt ?? 0));
}

export async function getClient(deps: ClientServiceDeps, clientId: string): Promise<ClientSummary> {
  const found = (await listClients(deps)).find((c) => c.clientId === clientId);
  if (!found) throw new PortcullisError('not_found', 'no such client');
  return found;
}

async function storedClient(deps: ClientServiceDeps, clientId: string): Promise<ClientRecord> {
  const record = await deps.store.clients.find(clientId);
  if (!record) throw new PortcullisError('not_found', 'no such client');
  return record;
}

export interface WithSecret {
  client: ClientSummary;
  /** Shown once: only its keyed hash is stored. */
  secret?: string;
}

/** Pre-register a client (RFC 7591 metadata; `kind` static). */
export async function registerClient(deps: ClientServiceDeps, input: unknown, actor: string): Promise<WithSecret> {
  const plan = planRegistration(input, () => `app_${randomBase62(22)}`, deps.applications?.());
  if (await deps.store.clients.find(plan.clientId)) {
    throw new PortcullisError('already_exists', `a client with the id ${plan.clientId} already exists`, { detail: { errors: [{ path: 'clientId', message: 'a client with this id exists' }] } });
  }
  const secret = plan.secretBased ? randomToken(32) : undefined;
  const metadata = { ...plan.metadata, ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}) };
  await deps.store.clients.upsert(clientToRecord(metadata, deps.pepper, 'static'));
  await deps.audit?.write({ kind: 'client.registered', actor, clientId: plan.clientId, reason: 'pre-registered', details: { clientName: plan.metadata.client_name, redirectUris: plan.metadata.redirect_uris, authMethod: plan.metadata.token_endpoint_auth_method } });
  return { client: summaryOf(await storedClient(deps, plan.clientId), undefined), ...(secret ? { secret } : {}) };
}

/**
 * A new secret for a client that authenticates with one; the old one stops working at once (the
 * stored hash is replaced; the engine reads the client from the store on each request).
 */
export async function rotateClientSecret(deps: ClientServiceDeps, clientId: string, actor: string): Promise<Required<WithSecret>> {
  const record = await storedClient(deps, clientId);
  const method = record.metadata.token_endpoint_auth_method ?? 'client_secret_basic';
  if (method !== 'client_secret_basic' && method !== 'client_secret_post') {
    throw new PortcullisError('conflict', `this client authenticates with ${String(method)}: it has no secret to rotate`);
  }
  const secret = randomToken(32);
  await deps.store.clients.upsert(clientToRecord({ ...record.metadata, client_id: clientId, client_secret: secret }, deps.pepper, record.kind));
  await deps.audit?.write({ kind: 'client.secret_rotated', actor, clientId });
  return { client: await getClient(deps, clientId), secret };
}

/**
 * Remove a stored client: it can no longer authenticate, refresh or start an authorization.
 * Access tokens already issued stay valid until they expire (at most tokens.accessTokenTtl).
 */
export async function removeClient(deps: ClientServiceDeps, clientId: string, actor: string): Promise<void> {
  if (!(await deps.store.clients.delete(clientId))) throw new PortcullisError('not_found', 'no such client');
  await deps.audit?.write({ kind: 'client.removed', actor, clientId });
}

/** The service's dependencies from what the admin API and the console are built from. */
export function clientServiceDeps(deps: Omit<ClientServiceDeps, 'applications'> & { resources: { list(): { url: string }[] } }): ClientServiceDeps {
  return { store: deps.store, pepper: deps.pepper, audit: deps.audit, applications: () => deps.resources.list().map((r) => r.url) };
}
