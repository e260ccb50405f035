/**
 * Who may open the stream and from where: an authenticated, pre-registered resource server
 * (RFC 6749 §2.3.1 client authentication), starting after the sequence number it names
 * (`Last-Event-ID`, or `?after=`).
 */
import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import type { Store } from '../../store/store.ts';
import type { SecretKey } from '../../core/crypto.ts';
import { authenticateClient, oauthError } from '../client-auth.ts';

export interface AdmissionDeps {
  provider: () => Provider;
  issuer: string;
  pepper: SecretKey;
  store: Pick<Store, 'clients'>;
}

/** Parse a sequence number: a non-negative safe integer in decimal, else undefined. */
function parseSeq(value: string | undefined | null): number | undefined {
  if (value === undefined || value === null || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** Pre-registered by an administrator as a resource server (token-endpoints.ts reads the same field). */
async function isResourceServer(store: Pick<Store, 'clients'>, clientId: string): Promise<boolean> {
  const record = await store.clients.find(clientId);
  const resources = record?.kind === 'static' ? record.metadata.portcullis_resources : undefined;
  return Array.isArray(resources) && resources.length > 0;
}

/** Only an authenticated resource server may listen; its client id. `endpoint`: the stream's URL (an assertion's audience). */
export async function authorizeListener(deps: AdmissionDeps, req: IncomingMessage, endpoint: string): Promise<string> {
  if (!req.headers.authorization) throw oauthError('invalid_client', 'client authentication required');
  const caller = await authenticateClient(deps.provider(), deps.pepper, {
    authorization: req.headers.authorization,
    form: new URLSearchParams(),
    audiences: [endpoint, deps.issuer],
  });
  if (!caller.authenticated) throw oauthError('invalid_client', 'the revocation stream requires client authentication');
  const clientId = caller.client.clientId;
  if (!(await isResourceServer(deps.store, clientId))) {
    throw oauthError('forbidden', 'only resource servers may read the revocation stream');
  }
  return clientId;
}

/** The sequence number the listener has seen (0: none). */
export function startingPoint(req: IncomingMessage): number {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const fromHeader = req.headers['last-event-id'];
  const raw = typeof fromHeader === 'string' && fromHeader !== '' ? fromHeader : url.searchParams.get('after');
  const parsed = raw === null || raw === undefined ? 0 : parseSeq(raw);
  if (parsed === undefined) throw oauthError('invalid_request', 'Last-Event-ID / after must be a sequence number');
  return parsed;
}
