/**
 * Introspection (RFC 7662) and revocation (RFC 7009), served by us rather than the engine: the
 * engine answers `unsupported_token_type` for JWT access tokens because it never stores them.
 * We verify JWT access tokens with our own keys and the revocation list, and look refresh tokens
 * up through the engine's model (so the adapter's hashing, sealing and grace rules apply).
 *
 * API keys (`pcs_…`) are introspected too, for guards in other processes (the guard SDK): the
 * caller must be a resource server serving an application the key may be used with (the request
 * may name which with `resource`, else the first such application the key resolves for), and the
 * answer is what the gateway would see — `sub` (the creator), `client_id` (`key:<id>`), `scope`,
 * `org_id`, `res` (levels already limited by the creator's), `aud`, `exp` (absent: never expires).
 */
import type { AuditLog } from '../audit/audit-log.ts';
import type { Store } from '../store/store.ts';
import { isApiKeyShaped } from '../shared/api-key-shape.ts';
import type { SecretKey } from '../core/crypto.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Application } from '../core/application.ts';
import type { RevocationList } from '../revocation/revocation-list.ts';
import type { VerifiedToken } from '../shared/verify.ts';
import { KEY_NEVER_EXPIRES } from '../api-keys/resolver.ts';
import { isUnavailable } from '../core/errors.ts';
import { BODY_LIMITS } from '../http/body-limits.ts';
import { mediaType, readBody, sendJson } from '../http/io.ts';
import { authenticateClient, oauthError, sendEndpointError, type AuthenticatedClient, methodNotAllowed } from './client-auth.ts';
import type { GrantRevoker } from '../revocation/grant-revoker.ts';
import { ROUTES } from './protocol.ts';

export interface TokenEndpointDeps {
  provider: () => Provider;
  issuer: string;
  pepper: SecretKey;
  keys: () => JWTVerifyGetKey;
  revocations: RevocationList;
  revokeGrant: GrantRevoker;
  store: Store;
  log: Logger;
  now: () => number;
  /** API keys (keys/api-key-resolver.ts) and the applications they may be used with. */
  apiKeys?: { resolve(key: string, app: Application): Promise<VerifiedToken> };
  applications?: () => Application[];
  /** Revocations are on the record (issue "Every tool call on the record"). */
  audit?: AuditLog;
}

const FORM_LIMIT = BODY_LIMITS.oauth;

interface AccessTokenView {
  payload: JWTPayload;
  expired: boolean;
}

/** Signature and issuer of one of our JWT access tokens (expiry reported, not enforced). */
async function readAccessToken(deps: TokenEndpointDeps, token: string): Promise<AccessTokenView | undefined> {
  try {
    const header = decodeProtectedHeader(token);
    if (header.typ !== 'at+jwt' || header.alg !== 'ES256') return undefined;
    await compactVerify(token, deps.keys() as never, { algorithms: ['ES256'] });
    const payload = decodeJwt(token);
    if (payload.iss !== deps.issuer) return undefined;
    return { payload, expired: typeof payload.exp !== 'number' || payload.exp <= deps.now() };
  } catch {
    return undefined;
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  if (req.method !== 'POST') throw methodNotAllowed('POST');
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    throw oauthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams((await readBody(req, FORM_LIMIT)).toString('utf8'));
  for (const name of new Set(form.keys())) {
    if (form.getAll(name).length > 1) throw oauthError('invalid_request', `parameter ${name} appears more than once`);
  }
  return form;
}


async function callerFor(deps: TokenEndpointDeps, req: IncomingMessage, form: URLSearchParams, route: string): Promise<AuthenticatedClient> {
  const endpoint = new URL(`${new URL(deps.issuer).pathname.replace(/\/$/, '')}${route}`, deps.issuer).href;
  return authenticateClient(deps.provider(), deps.pepper, {
    authorization: req.headers.authorization,
    form,
    audiences: [endpoint, deps.issuer, new URL(`${new URL(deps.issuer).pathname.replace(/\/$/, '')}${ROUTES.token}`, deps.issuer).href],
  });
}

/** Resource servers registered by an administrator may introspect tokens meant for them. */
async function resourcesServedBy(deps: TokenEndpointDeps, clientId: string): Promise<Set<string>> {
  const record = await deps.store.clients.find(clientId);
  const resources = record?.kind === 'static' ? record.metadata.portcullis_resources : undefined;
  return new Set(Array.isArray(resources) ? resources.map(String) : []);
}

export function createTokenEndpoints(deps: TokenEndpointDeps) {
  async function introspect(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const form = await readForm(req);
      const caller = await callerFor(deps, req, form, ROUTES.introspection);
      if (!caller.authenticated) throw oauthError('invalid_client', 'introspection requires an authenticated client');
      const token = form.get('token');
      if (!token) throw oauthError('invalid_request', 'missing token');
      const answer = isApiKeyShaped(token) ? await keyIntrospection(deps, caller, token, form.get('resource')) : await introspection(deps, caller, token);
      sendJson(res, 200, answer);
    } catch (err) {
      sendEndpointError(res, err, deps.log, 'token endpoint', deps.issuer);
    }
  }

  async function revoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const form = await readForm(req);
      const caller = await callerFor(deps, req, form, ROUTES.revocation);
      const token = form.get('token');
      if (!token) throw oauthError('invalid_request', 'missing token');
      await revocation(deps, caller, token);
      // RFC 7009 §2.2: 200 whether or not the token was valid, so callers learn nothing.
      res.writeHead(200, { 'cache-control': 'no-store', 'content-length': '0' });
      res.end();
    } catch (err) {
      sendEndpointError(res, err, deps.log, 'token endpoint', deps.issuer);
    }
  }

  return { introspect, revoke };
}

async function introspection(deps: TokenEndpointDeps, caller: AuthenticatedClient, token: string): Promise<Record<string, unknown>> {
  const inactive = { active: false };
  const callerId = caller.client.clientId;
  const access = await readAccessToken(deps, token);
  if (access) {
    const { payload } = access;
    if (access.expired) return inactive;
    const grantId = typeof payload.grant_id === 'string' ? payload.grant_id : undefined;
    const subject = payload.sub === undefined ? undefined : String(payload.sub);
    const orgId = typeof payload.org_id === 'string' ? payload.org_id : undefined;
    if (deps.revocations.isRevoked({ grantId, jti: String(payload.jti), subject, issuedAt: Number(payload.iat), orgId })) return inactive;
    const audiences = Array.isArray(payload.aud) ? payload.aud : [String(payload.aud)];
    if (payload.client_id !== callerId) {
      const serves = await resourcesServedBy(deps, callerId);
      if (!audiences.some((aud) => serves.has(aud))) return inactive;
    }
    if (payload.sub && payload.sub !== payload.client_id && !(await activeUser(deps, String(payload.sub)))) return inactive;
    return {
      active: true,
      token_type: 'Bearer',
      scope: payload.scope,
      client_id: payload.client_id,
      sub: payload.sub,
      aud: payload.aud,
      iss: payload.iss,
      exp: payload.exp,
      iat: payload.iat,
      jti: payload.jti,
      auth_time: payload.auth_time,
      org_id: payload.org_id,
      res: payload.res,
    };
  }
  const refresh = await deps.provider().RefreshToken.find(token);
  if (!refresh || refresh.isExpired || refresh.consumed) return inactive;
  if (refresh.clientId !== callerId) return inactive;
  // A refresh token saved just after its grant was revoked (a racing reuse) outlives the grant's
  // rows, but can never be used: the token endpoint refuses it once the grant is gone.
  if (!refresh.grantId || !(await deps.provider().Grant.find(refresh.grantId))) return inactive;
  if (!(await activeUser(deps, String(refresh.accountId)))) return inactive;
  return {
    active: true,
    scope: refresh.scope,
    client_id: refresh.clientId,
    sub: refresh.accountId,
    exp: refresh.exp,
    iat: refresh.iat,
    iss: deps.issuer,
  };
}

async function keyIntrospection(deps: TokenEndpointDeps, caller: AuthenticatedClient, key: string, resource: string | null): Promise<Record<string, unknown>> {
  const inactive = { active: false };
  if (!deps.apiKeys || !deps.applications) return inactive;
  const serves = await resourcesServedBy(deps, caller.client.clientId);
  const candidates = deps.applications().filter((app) => serves.has(app.resource) && (resource === null || app.resource === resource));
  for (const app of candidates) {
    let identity: VerifiedToken;
    try {
      identity = await deps.apiKeys.resolve(key, app);
    } catch (err) {
      // An outage stays an outage (503): never "inactive", which a resource server would act on.
      if (isUnavailable(err)) throw err;
      continue; // not for this application (or not valid at all: every candidate says so)
    }
    return {
      active: true,
      token_type: 'Bearer',
      scope: [...identity.scopes].join(' '),
      client_id: identity.clientId,
      sub: identity.subject,
      aud: app.resource,
      iss: deps.issuer,
      iat: identity.issuedAt,
      ...(identity.keyId !== undefined && identity.expiresAt < KEY_NEVER_EXPIRES ? { exp: identity.expiresAt } : {}),
      org_id: identity.orgId,
      res: identity.levels,
    };
  }
  return inactive;
}

async function activeUser(deps: TokenEndpointDeps, id: string): Promise<boolean> {
  const user = await deps.store.users.findById(id);
  return Boolean(user && user.disabledAt === null);
}

async function revocation(deps: TokenEndpointDeps, caller: AuthenticatedClient, token: string): Promise<void> {
  const callerId = caller.client.clientId;
  const access = await readAccessToken(deps, token);
  if (access) {
    const { payload } = access;
    if (payload.client_id !== callerId) throw oauthError('unauthorized_client', 'the token was not issued to this client');
    if (access.expired) return;
    const at = deps.now();
    const expiresAt = Number(payload.exp) + 10;
    await deps.store.revocations.add({ kind: 'token', id: String(payload.jti), at, expiresAt });
    deps.revocations.apply({ kind: 'token', id: String(payload.jti), at, expiresAt });
    deps.log.info({ event: 'token.revoked', client: callerId, jti: payload.jti }, 'access token revoked');
    deps.audit?.record({
      kind: 'token.revoked',
      orgId: typeof payload.org_id === 'string' ? payload.org_id : null,
      actor: `client:${callerId}`,
      subject: typeof payload.sub === 'string' ? payload.sub : null,
      clientId: callerId,
      reason: 'revocation_endpoint',
      details: { jti: String(payload.jti), grantId: typeof payload.grant_id === 'string' ? payload.grant_id : null },
    });
    return;
  }
  const refresh = await deps.provider().RefreshToken.find(token);
  if (!refresh) return;
  if (refresh.clientId !== callerId) throw oauthError('unauthorized_client', 'the token was not issued to this client');
  // RFC 7009 §2.1: revoking a refresh token revokes its grant, and the access tokens issued from it.
  if (refresh.grantId) await deps.revokeGrant(refresh.grantId);
  else await refresh.destroy();
  deps.log.info({ event: 'grant.revoked', client: callerId, grant: refresh.grantId, via: 'revocation_endpoint' }, 'refresh token revoked');
  const context = refresh.grantId ? await deps.store.grantContexts.get(refresh.grantId) : undefined;
  deps.audit?.record({
    kind: 'token.revoked',
    orgId: context?.orgId ?? null,
    actor: `client:${callerId}`,
    subject: refresh.accountId ?? null,
    clientId: callerId,
    reason: 'revocation_endpoint',
    details: { grantId: refresh.grantId ?? null, token: 'refresh_token' },
  });
}
