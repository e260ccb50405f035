/**
 * How long each engine artifact lives (the engine's `ttl` table). Two are decided per token: an
 * access token carrying a step-up scope expires with the step-up, and a refresh token's idle
 * lifetime is capped by what is left of its absolute lifetime.
 */
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../core/config.ts';
import type { ResourceRegistry } from '../../applications/protected-resources.ts';
import { accessTokenTtl } from '../step-up.ts';
import { grantOrgOf } from './bound-grant.ts';
import { signInTime } from './issuance.ts';

function refreshTtl(config: Config, now: () => number) {
  // Idle lifetime, capped by what is left of the absolute lifetime counted from the first issue
  // (iiat) — the server's, or the grant's organization's `sessionMaxTtl` when shorter.
  return (ctx: KoaContextWithOIDC | undefined, token: { iiat?: number; iat?: number }) => {
    const started = token.iiat ?? token.iat ?? now();
    const orgMax = (ctx && grantOrgOf(ctx)?.org.settings.sessionMaxTtl) ?? Infinity;
    const left = started + Math.min(config.tokens.refreshTokenTtl, orgMax) - now();
    return Math.max(1, Math.min(config.tokens.refreshTokenIdleTtl, left));
  };
}

/** A token carrying a step-up scope expires with the step-up (authz/step-up.ts). */
function stepUpAwareAccessTtl(resources: ResourceRegistry, accessTtl: number, now: () => number) {
  // The base lifetime is the resource server info's (the org's, when shorter; see issuance.ts getResourceServerInfo).
  return (ctx: KoaContextWithOIDC | undefined, token: { scope?: string; resourceServer?: { audience?: string; accessTokenTTL?: number } }) => {
    const audience = token.resourceServer?.audience;
    const base = token.resourceServer?.accessTokenTTL ?? accessTtl;
    return accessTokenTtl(audience ? resources.get(audience) : undefined, token.scope, ctx ? signInTime(ctx) : undefined, now(), base);
  };
}

export function lifetimes(config: Config, resources: ResourceRegistry, now: () => number): Configuration['ttl'] {
  const accessTtl = config.tokens.accessTokenTtl;
  return {
    AccessToken: stepUpAwareAccessTtl(resources, accessTtl, now) as never,
    ClientCredentials: accessTtl,
    AuthorizationCode: config.tokens.authorizationCodeTtl,
    IdToken: accessTtl,
    DeviceCode: config.tokens.deviceCodeTtl,
    Interaction: 60 * 60,
    Session: config.tokens.sessionTtl,
    Grant: config.tokens.refreshTokenTtl,
    RefreshToken: refreshTtl(config, now) as never,
  };
}
