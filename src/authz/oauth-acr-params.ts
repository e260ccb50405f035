/**
 * RFC 9470 §4 lets a plain OAuth client (no `openid` scope — an MCP client, say) send `acr_values`
 * and `max_age` at the authorization endpoint, as it read them in the gateway's challenge. The
 * engine treats both as OpenID Connect parameters and refuses them without `openid` (its scope
 * check). So for an authorization request without `openid` they are carried under names of our
 * own (`extraParams`), and read back by authz/step-up.ts: `acr_values` by the second-factor check,
 * `max_age` by a sign-in-age check of its own (the engine's applies only to OpenID requests). With
 * `openid` nothing changes: the engine checks both itself.
 *
 * Only the GET form of the request is rewritten (what MCP clients send); a POSTed or pushed (PAR)
 * request keeps the engine's rule.
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { ROUTES } from './protocol.ts';

/** The names the engine knows the two parameters by, for a request without `openid`. */
export const OAUTH_ACR_VALUES = 'oauth_acr_values';
export const OAUTH_MAX_AGE = 'oauth_max_age';
/** The login prompt's reason when a plain OAuth request's `max_age` wants a more recent sign-in. */
export const OAUTH_MAX_AGE_REASON = 'oauth_max_age';

const CARRIED: Record<string, string> = { acr_values: OAUTH_ACR_VALUES, max_age: OAUTH_MAX_AGE };

/** The parameters the engine must accept (configuration `extraParams`). */
export const OAUTH_ACR_PARAMS = Object.values(CARRIED);

export function oauthAcrParams(publicUrl: string) {
  const mount = new URL(publicUrl).pathname.replace(/\/$/, '');
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    if (ctx.method === 'GET' && ctx.path === ROUTES.authorization) {
      const query = new URLSearchParams(ctx.querystring);
      const openid = (query.get('scope') ?? '').split(' ').includes('openid');
      // Ours are never taken from the client as such: only renamed from the standard ones here.
      let changed = OAUTH_ACR_PARAMS.some((name) => query.has(name));
      for (const name of OAUTH_ACR_PARAMS) query.delete(name);
      for (const [standard, carried] of Object.entries(CARRIED)) {
        if (openid || !query.has(standard)) continue;
        query.set(carried, query.get(standard)!);
        query.delete(standard);
        changed = true;
      }
      if (changed) {
        ctx.querystring = query.toString();
        // The engine derives its mount path from originalUrl minus url: keep the two in step.
        (ctx.req as { originalUrl?: string }).originalUrl = `${mount}${ctx.url}`;
      }
    }
    await next();
  };
}

/** The `max_age` a plain OAuth request carried (whole seconds), if any. */
function oauthMaxAge(ctx: KoaContextWithOIDC): number | undefined {
  const raw = ctx.oidc.params?.[OAUTH_MAX_AGE];
  return typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
}

/**
 * The engine's own `max_age` check (OIDC Core §3.1.2.1), for a plain OAuth request: the login prompt
 * when the session's sign-in is older, answered by the sign-in this request completes.
 */
export function oauthMaxAgeCheck(now: () => number): interactionPolicy.Check {
  return new interactionPolicy.Check(
    OAUTH_MAX_AGE_REASON,
    'a more recent sign-in is required (max_age)',
    'login_required',
    (ctx) => {
      const maxAge = oauthMaxAge(ctx);
      if (maxAge === undefined || ctx.oidc.result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const session = ctx.oidc.session;
      const authTime = session?.accountId === undefined ? undefined : session.authTime();
      const fresh = authTime !== undefined && now() - authTime <= maxAge;
      return fresh ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    },
    (ctx) => ({ max_age: oauthMaxAge(ctx) }),
  );
}
