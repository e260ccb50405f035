/**
 * Client authentication for the endpoints we serve ourselves (introspection, revocation), with the
 * same methods and rules as the engine's token endpoint: a client authenticates with the method
 * it registered (RFC 7591 `token_endpoint_auth_method`): `client_secret_basic` (RFC 6749 §2.3.1,
 * form-urlencoded inside Basic), `client_secret_post`, `private_key_jwt` (RFC 7523 §3, verified
 * against the client's `jwks` / `jwks_uri`), or `none` for public clients (identified only).
 */
import type { SecretKey } from '../core/crypto.ts';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isPortcullisError, isUnavailable, PortcullisError } from '../core/errors.ts';
import { sendRefusal } from '../http/refusal.ts';
import { decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type Provider from 'oidc-provider';
import { compareHashedSecret } from './clients.ts';

/** An OAuth endpoint's refusal (RFC 6749 §5.2 codes are ours too: core/errors.ts). */
export function oauthError(code: 'invalid_request' | 'invalid_client' | 'unauthorized_client' | 'forbidden', description: string): PortcullisError {
  return new PortcullisError(code, description, { rule: `oauth-${code}` });
}

/** `use GET` / `use POST`: 405 with the Allow header the method needs (RFC 9110 §15.5.6). */
export function methodNotAllowed(allow: string): PortcullisError {
  return new PortcullisError('method_not_allowed', `use ${allow}`, { detail: { allow } });
}

/**
 * The answer of our OAuth endpoints (introspection, revocation, the revocation stream) for
 * anything they throw, through the one OAuth-shaped refusal (http/refusal.ts): RFC 6749 §5.2
 * codes, 401 invalid_client with a Basic challenge, 413, 503 with Retry-After as
 * `temporarily_unavailable`; anything else a bare `server_error`, logged once.
 */
export function sendEndpointError(res: ServerResponse, err: unknown, log: Logger, what: string, issuer?: string): void {
  // RFC 6749 §5.2 `error_uri`: the issuer's denial reference (core/denial-reference.ts).
  const options = { publicUrl: issuer };
  if (isPortcullisError(err) && err.code !== 'internal_error') {
    if (isUnavailable(err)) log.warn({ err }, `${what}: a dependency is unavailable`);
    sendRefusal(res, 'oauth', err, options);
    return;
  }
  log.error({ err }, `${what} failure`);
  sendRefusal(res, 'oauth', new PortcullisError('internal_error', 'internal error', { cause: err }), options);
}

type EngineClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

export interface AuthenticatedClient {
  client: EngineClient;
  /** False for public clients, which are identified but prove nothing. */
  authenticated: boolean;
}

function decodeCredential(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

function badClient(description = 'client authentication failed'): PortcullisError {
  return oauthError('invalid_client', description);
}

interface KeyStoreLike {
  refresh(): Promise<void>;
  selectForVerify(options: { alg: string; kid?: string }): unknown[];
  getKeyObject(jwk: unknown): CryptoKey;
}

async function verifyAssertion(client: EngineClient, assertion: string, audiences: string[]): Promise<void> {
  const store = (client as unknown as { asymmetricKeyStore?: KeyStoreLike }).asymmetricKeyStore;
  if (!store) throw badClient('the client has no keys');
  const keys: JWTVerifyGetKey = async (header) => {
    await store.refresh();
    const [jwk] = store.selectForVerify({ alg: header.alg!, kid: header.kid });
    if (!jwk) throw badClient('no key of the client matches the assertion');
    return store.getKeyObject(jwk);
  };
  const alg = decodeProtectedHeader(assertion).alg;
  const allowed = (client as unknown as { tokenEndpointAuthSigningAlg?: string }).tokenEndpointAuthSigningAlg;
  if (!alg || alg.startsWith('HS') || alg === 'none' || (allowed && alg !== allowed)) throw badClient('assertion algorithm not allowed');
  const { payload } = await jwtVerify(assertion, keys, {
    issuer: client.clientId,
    subject: client.clientId,
    audience: audiences,
    requiredClaims: ['exp', 'jti'],
    clockTolerance: 5,
  });
  if (typeof payload.exp === 'number' && payload.exp - Math.floor(Date.now() / 1000) > 600) throw badClient('assertion lives too long');
}

export async function authenticateClient(
  provider: Provider,
  pepper: SecretKey,
  input: { authorization: string | undefined; form: URLSearchParams; audiences: string[] },
): Promise<AuthenticatedClient> {
  const { form } = input;
  let clientId = form.get('client_id') ?? undefined;
  let secret: string | undefined;
  let method: string;

  if (input.authorization?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(input.authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw oauthError('invalid_request', 'invalid Basic authorization header');
    try {
      const basicId = decodeCredential(decoded.slice(0, colon));
      if (clientId !== undefined && clientId !== basicId) throw oauthError('invalid_request', 'client_id mismatch');
      clientId = basicId;
      secret = decodeCredential(decoded.slice(colon + 1));
    } catch (err) {
      if (isPortcullisError(err)) throw err;
      throw oauthError('invalid_request', 'invalid Basic authorization header');
    }
    method = 'client_secret_basic';
  } else if (form.has('client_secret')) {
    secret = form.get('client_secret')!;
    method = 'client_secret_post';
  } else if (form.has('client_assertion')) {
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      throw oauthError('invalid_request', 'unsupported client_assertion_type');
    }
    method = 'private_key_jwt';
  } else {
    method = 'none';
  }
  if (method === 'private_key_jwt' && !clientId) {
    try {
      const claims = JSON.parse(Buffer.from(form.get('client_assertion')!.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string };
      clientId = claims.sub;
    } catch {
      throw badClient('malformed client_assertion');
    }
  }
  if (!clientId) throw badClient('no client identified');

  let client: EngineClient | undefined;
  try {
    client = await provider.Client.find(clientId);
  } catch (err) {
    // An unreadable client is an unknown one; an outage stays an outage (503, not invalid_client).
    if (isUnavailable(err)) throw err;
    client = undefined;
  }
  if (!client) throw badClient();
  if (client.clientAuthMethod !== method) throw badClient(`the client must authenticate with ${client.clientAuthMethod}`);

  switch (method) {
    case 'none':
      return { client, authenticated: false };
    case 'client_secret_basic':
    case 'client_secret_post':
      if (!compareHashedSecret(pepper, client.clientSecret, secret ?? '')) throw badClient();
      return { client, authenticated: true };
    default:
      try {
        await verifyAssertion(client, form.get('client_assertion')!, input.audiences);
      } catch (err) {
        // An outage while the assertion is checked stays an outage (503), never invalid_client.
        throw isPortcullisError(err) ? err : badClient('client_assertion could not be verified');
      }
      return { client, authenticated: true };
  }
}
