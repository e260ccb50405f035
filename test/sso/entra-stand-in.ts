/**
 * Microsoft Entra ID is not reachable from here: a local stand-in that answers as Entra's
 * documented v2.0 endpoints do ("OpenID Connect on the Microsoft identity platform", "Microsoft
 * identity platform and OAuth 2.0 authorization code flow"). The multi-tenant `organizations`
 * discovery document names the issuer TEMPLATE `https://login.microsoftonline.com/{tenantid}/v2.0`
 * (and no RFC 9207 `iss` response parameter); a per-tenant one names that tenant's issuer. ID tokens
 * (RS256, signed with `jose`) carry `tid`, `oid`, a pairwise `sub`, and `iss` — the signed-in
 * person's own tenant's issuer, unless a test forges another. The connection reaches it through its
 * `authority` (requests for login.microsoftonline.com are sent here); the endpoints it advertises
 * are its own. It checks what Entra checks: client secret, redirect URI, PKCE S256, single-use codes.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const ENTRA = 'https://login.microsoftonline.com';

export interface EntraAccount {
  /** The directory the person belongs to (the `tid` claim). */
  tid: string;
  /** The object id, unique in its tenant. */
  oid: string;
  email: string;
  name: string;
  /** The optional claim `xms_edov`: the e-mail's domain is verified by the tenant. */
  xms_edov?: boolean;
  /** A forged token: this tenant named in `iss` instead of the person's `tid`. */
  issTenant?: string;
}

export interface EntraStandIn {
  /** The connection's `authority`. */
  authority: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, EntraAccount>;
  /** Who is signed in at "Entra" when the authorize endpoint is visited. */
  signedIn: string | undefined;
  redirectUris: Set<string>;
  /** The path of every authorize request (`/organizations/…` or `/<tenant>/…`). */
  authorizePaths: string[];
  close(): Promise<void>;
}

interface Grant {
  account: string;
  challenge: string;
  redirectUri: string;
  nonce: string | null;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/** The discovery document for `tenant` ("organizations" or a GUID), as Entra publishes it. */
function discovery(base: string, tenant: string): Record<string, unknown> {
  return {
    issuer: `${ENTRA}/${tenant === 'organizations' ? '{tenantid}' : tenant}/v2.0`,
    authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
    jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'email'],
    request_uri_parameter_supported: false,
  };
}

export async function startEntraStandIn(accounts: Record<string, EntraAccount>): Promise<EntraStandIn> {
  const codes = new Map<string, Grant>();
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'entra-stand-in-1', use: 'sig', alg: 'RS256' };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: 'server_error', error_description: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const standIn: EntraStandIn = {
    authority: base,
    clientId: '11111111-2222-3333-4444-555555555555',
    clientSecret: 'entra-stand-in-client-secret-0123456789',
    accounts: new Map(Object.entries(accounts)),
    signedIn: undefined,
    redirectUris: new Set(),
    authorizePaths: [],
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  function authorize(tenant: string, url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    standIn.authorizePaths.push(url.pathname);
    const redirectUri = q.get('redirect_uri') ?? '';
    if (q.get('client_id') !== standIn.clientId || !standIn.redirectUris.has(redirectUri)) return void send(res, 400, { error: 'invalid_request' });
    const back = new URL(redirectUri);
    const who = standIn.signedIn ? standIn.accounts.get(standIn.signedIn) : undefined;
    // A tenant's own endpoint signs in only that tenant's people; `organizations` any work account.
    if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || !who || (tenant !== 'organizations' && who.tid !== tenant)) {
      back.searchParams.set('error', 'access_denied');
    } else {
      const code = randomBytes(16).toString('base64url');
      codes.set(code, { account: standIn.signedIn!, challenge: q.get('code_challenge')!, redirectUri, nonce: q.get('nonce') });
      back.searchParams.set('code', code);
    }
    if (q.get('state')) back.searchParams.set('state', q.get('state')!);
    res.writeHead(302, { location: back.href }).end();
  }

  function idToken(account: EntraAccount, grant: Grant): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      ver: '2.0',
      tid: account.tid,
      oid: account.oid,
      name: account.name,
      email: account.email,
      preferred_username: account.email,
      ...(account.xms_edov ? { xms_edov: true } : {}),
      ...(grant.nonce ? { nonce: grant.nonce } : {}),
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
      .setIssuer(`${ENTRA}/${account.issTenant ?? account.tid}/v2.0`)
      // Entra's `sub` is pairwise per application; the `oid` stands in for it here.
      .setSubject(account.oid)
      .setAudience(standIn.clientId)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey);
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent) : [form.get('client_id'), form.get('client_secret')];
    if (id !== standIn.clientId || secret !== standIn.clientSecret) return send(res, 401, { error: 'invalid_client' });
    const grant = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    const account = grant ? standIn.accounts.get(grant.account) : undefined;
    if (form.get('grant_type') !== 'authorization_code' || !grant || !account) return send(res, 400, { error: 'invalid_grant' });
    if (form.get('redirect_uri') !== grant.redirectUri || sha256(form.get('code_verifier') ?? '') !== grant.challenge) return send(res, 400, { error: 'invalid_grant' });
    send(res, 200, { token_type: 'Bearer', expires_in: 3600, access_token: randomUUID(), refresh_token: randomUUID(), id_token: await idToken(account, grant), scope: 'openid profile email' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    const [, tenant, ...rest] = url.pathname.split('/');
    const path = rest.join('/');
    if (!tenant || !(tenant === 'organizations' || /^[0-9a-f-]{36}$/.test(tenant))) return send(res, 404, { error: 'invalid_tenant' });
    if (req.method === 'GET' && path === 'v2.0/.well-known/openid-configuration') return send(res, 200, discovery(base, tenant));
    if (req.method === 'GET' && path === 'discovery/v2.0/keys') return send(res, 200, { keys: [jwk] });
    if (req.method === 'GET' && path === 'oauth2/v2.0/authorize') return authorize(tenant, url, res);
    if (req.method === 'POST' && path === 'oauth2/v2.0/token') return token(req, res);
    send(res, 404, { error: 'not_found' });
  }

  return standIn;
}
