/**
 * No token passthrough (MCP security best practices, "Token Passthrough"): the upstream never sees
 * the client's token. It gets a token of ours instead — an RFC 9068 JWT, 60 s, audience = the
 * upstream, naming the user, the client (`key:<id>` for an API key), the scopes, the organization
 * and resource levels (`org_id`, `res`: docs/design/identity.md), and the gateway as actor (RFC 8693
 * §4.1 `act`) — verifiable with the guard SDK from the issuer's JWKS. Tokens are reused for a few
 * seconds per (caller, audience) so a busy session does not sign on every request.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey } from '../signing-keys/key-ring.ts';
import type { CallerIdentity } from './caller.ts';

export const UPSTREAM_TOKEN_TTL = 60;
const REUSE_FOR = 30;


export interface UpstreamTokenMinter {
  mint(caller: CallerIdentity, audience: string): Promise<string>;
}

export function createUpstreamTokenMinter(options: { issuer: string; signingKey: () => Promise<SigningKey>; now?: () => number }): UpstreamTokenMinter {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const cache = new Map<string, { token: string; until: number; kid: string }>();
  return {
    async mint(caller, audience) {
      const { key, kid } = await options.signingKey();
      const cacheKey = `${audience} ${caller.subject} ${caller.clientId} ${caller.grantId ?? ''} ${caller.scopes.join(' ')} ${caller.authTime ?? ''} ${caller.orgId ?? ''} ${caller.levels ? JSON.stringify(caller.levels) : ''}`;
      const at = now();
      const hit = cache.get(cacheKey);
      if (hit && hit.until > at && hit.kid === kid) return hit.token;
      const token = await new SignJWT({
        client_id: caller.clientId,
        scope: caller.scopes.join(' '),
        act: { sub: `${options.issuer}#gateway` },
        ...(caller.authTime !== undefined ? { auth_time: caller.authTime } : {}),
        // The organization and resource levels, so the upstream can apply the same permissions.
        ...(caller.orgId !== undefined ? { org_id: caller.orgId } : {}),
        ...(caller.levels !== undefined ? { res: caller.levels } : {}),
        // The client's grant, so a guard that follows revocations refuses this token too the
        // moment the grant is revoked (not only when it expires).
        ...(caller.grantId !== undefined ? { grant_id: caller.grantId } : {}),
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
        .setIssuer(options.issuer)
        .setSubject(caller.subject)
        .setAudience(audience)
        .setIssuedAt(at)
        .setExpirationTime(at + UPSTREAM_TOKEN_TTL)
        .setJti(randomUUID())
        .sign(key);
      if (cache.size > 10_000) cache.clear();
      cache.set(cacheKey, { token, until: at + REUSE_FOR, kid });
      return token;
    },
  };
}
