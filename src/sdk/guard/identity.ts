/**
 * Who is calling, as the guard hands it to a server: built from a verified JWT access token
 * (RFC 9068) or from the introspection answer for an API key (RFC 7662), and offered in the shape
 * MCP SDKs expect as `authInfo`.
 */
import { readLevels } from '../../shared/levels.ts';
import type { VerifiedToken } from '../../shared/verify.ts';
import type { IntrospectionAnswer } from './introspection.ts';

/** Who is calling: the verified token, plus the RFC 8693 actor when someone acts for the subject. */
export interface GuardIdentity extends VerifiedToken {
  /** `act.sub` (RFC 8693 §4.1): e.g. the gateway, on tokens it minted for its upstreams. */
  actor: string | undefined;
}

/** The shape MCP SDKs (v1 and v2) expect as `authInfo`, without depending on either. */
export interface McpAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  resource?: URL;
  resourceMetadataUrl?: string;
  extra?: Record<string, unknown>;
}

/** A verified JWT's identity; `act.sub` names who acts for the subject (RFC 8693 §4.1). */
export function identityOfToken(verified: VerifiedToken): GuardIdentity {
  const act = verified.claims.act;
  const actor = act && typeof act === 'object' && typeof (act as { sub?: unknown }).sub === 'string' ? (act as { sub: string }).sub : undefined;
  return { ...verified, actor };
}

/** The audience an introspection answer names (RFC 7662 §2.2 `aud`: a string or a list). */
export function audienceOf(answer: IntrospectionAnswer): string[] {
  return Array.isArray(answer.aud) ? answer.aud.map(String) : typeof answer.aud === 'string' ? [answer.aud] : [];
}

/**
 * An API key, as the authorization server's introspection describes it (creator in `sub`,
 * `key:<id>` in `client_id`, scopes, org and levels). Its validity is the caller's to check.
 */
export function identityOfApiKey(key: string, answer: IntrospectionAnswer): GuardIdentity {
  const clientId = String(answer.client_id);
  return {
    token: key,
    subject: String(answer.sub),
    clientId,
    scopes: new Set(typeof answer.scope === 'string' ? answer.scope.split(' ').filter(Boolean) : []),
    audience: audienceOf(answer),
    grantId: undefined,
    jti: clientId,
    expiresAt: typeof answer.exp === 'number' ? answer.exp : Number.MAX_SAFE_INTEGER,
    issuedAt: typeof answer.iat === 'number' ? answer.iat : 0,
    authTime: undefined,
    acr: undefined,
    amr: [],
    orgId: typeof answer.org_id === 'string' ? answer.org_id : undefined,
    levels: readLevels(answer.res),
    keyId: clientId.startsWith('key:') ? clientId.slice(4) : clientId,
    claims: answer,
    actor: undefined,
  };
}

/** The identity as MCP SDK `authInfo`; what the SDKs have no field for goes in `extra`. */
export function authInfoOf(identity: GuardIdentity, resource: string, resourceMetadataUrl: string): McpAuthInfo {
  return {
    token: identity.token,
    clientId: identity.clientId,
    scopes: [...identity.scopes],
    expiresAt: identity.expiresAt,
    resource: new URL(resource),
    resourceMetadataUrl,
    extra: {
      subject: identity.subject,
      actor: identity.actor,
      grantId: identity.grantId,
      authTime: identity.authTime,
      acr: identity.acr,
      amr: identity.amr,
      orgId: identity.orgId,
      levels: identity.levels,
      keyId: identity.keyId,
    },
  };
}
