/**
 * Step-up for sensitive tools: a scope (`<slug>:step-up`) that the authorization server grants only
 * after a recent sign-in, and that never outlives it.
 *
 * Why a scope and not only RFC 9470: neither MCP SDK reads RFC 9470's
 * `insufficient_user_authentication` challenge, and both answer a 401 by refreshing, which keeps the
 * old `auth_time` (RFC 6749 §6 — a refresh does not re-authenticate anyone). Both SDKs do answer
 * 403 `insufficient_scope` by re-authorizing with the challenged scopes (v2 by itself, v1 through its
 * application). So the gateway challenges with the step-up scope (and sends the RFC 9470 challenge
 * too, for clients that understand it), and here the authorization server makes that scope cost a
 * fresh sign-in:
 *
 * 1. `stepUpInteractionPolicy`: an authorization request that asks for a resource's step-up scope
 *    while the user's sign-in is older than the resource's `stepUpMaxAge` gets the login prompt
 *    (reason `step_up`, error `login_required` for `prompt=none`) — the engine's own `max_age` check
 *    (OIDC Core §3.1.2.1), driven by the scope instead of a parameter the SDKs never send.
 * 2. `tokenEndpointScopes`: the token endpoint puts the step-up scope only into tokens issued from an
 *    interactive sign-in that is still fresh (authorization code, device code) — never at a refresh,
 *    never to client credentials.
 * 3. `accessTokenTtl`: a token carrying the step-up scope expires when the step-up does:
 *    maxAge − (now − auth_time), capped by the normal lifetime.
 *
 * Not done here: which tool needs a step-up, and checking a token's `auth_time` against the tool's own
 * maxAge on every call — that is policy/rules/step-up.ts at the gateway.
 */
import type { ProtectedResource } from '../core/protected-resource.ts';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

/** The login prompt's reason when a step-up scope needs a fresh sign-in. */
export const STEP_UP_REASON = 'step_up';

/** Grant types whose tokens come straight from an interactive sign-in (the code carries its auth_time). */
const INTERACTIVE_GRANTS = new Set(['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code']);

export interface StepUpResources {
  get(url: string): ProtectedResource | undefined;
}

/** A sign-in at `authTime` is recent enough for `maxAge` at `now` (all in seconds; RFC 9470 §3 `max_age`). */
export function freshSignIn(authTime: number | undefined, maxAge: number, now: number): boolean {
  return authTime !== undefined && now - authTime <= maxAge;
}

/**
 * The step-up an authorization request asks for: of the resources it names, those whose step-up scope
 * is among the requested scopes; the shortest max age wins. `undefined` when none is asked for.
 */
export function requestedStepUpMaxAge(resources: Iterable<ProtectedResource | undefined>, scopes: ReadonlySet<string>): number | undefined {
  let maxAge: number | undefined;
  for (const resource of resources) {
    if (!resource?.stepUpScope || resource.stepUpMaxAge === undefined || !scopes.has(resource.stepUpScope)) continue;
    maxAge = maxAge === undefined ? resource.stepUpMaxAge : Math.min(maxAge, resource.stepUpMaxAge);
  }
  return maxAge;
}

function stepUpMaxAgeOf(ctx: KoaContextWithOIDC, resources: StepUpResources): number | undefined {
  const indicators = Object.keys(ctx.oidc.resourceServers ?? {});
  return requestedStepUpMaxAge(
    indicators.map((url) => resources.get(url)),
    ctx.oidc.requestParamScopes,
  );
}

/**
 * The login prompt's step-up check. It looks at the engine session's sign-in time only: a sign-in
 * completed during this very request has already been applied to the session when the check runs
 * again on resume, so a fresh password prompt satisfies it, and nothing else does.
 */
export function stepUpLoginCheck(resources: StepUpResources, now: () => number): interactionPolicy.Check {
  return new interactionPolicy.Check(
    STEP_UP_REASON,
    'a recent sign-in is required for the requested step-up scope',
    'login_required',
    (ctx) => {
      const maxAge = stepUpMaxAgeOf(ctx, resources);
      if (maxAge === undefined) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const session = ctx.oidc.session;
      if (!session?.accountId) return interactionPolicy.Check.REQUEST_PROMPT;
      return freshSignIn(session.authTime(), maxAge, now()) ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    },
    (ctx) => ({ step_up_max_age: stepUpMaxAgeOf(ctx, resources) }),
  );
}

/** The engine's default prompts (login, consent) with the step-up check added to login. */
export function stepUpInteractionPolicy(resources: StepUpResources, now: () => number): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(stepUpLoginCheck(resources, now));
  return policy;
}

/**
 * May our own browser session answer the engine's login prompt without the password form? Only when
 * the prompt asks for nothing but a session (`no_session`), or also for a step-up that our session's
 * sign-in is recent enough for. Any other reason (max_age, id_token_hint, an ACR…) needs the form.
 */
export function sessionAnswersLogin(
  prompt: { reasons: readonly string[]; details: Record<string, unknown> },
  sessionAuthTime: number,
  now: number,
): boolean {
  const maxAge = prompt.details.step_up_max_age;
  return prompt.reasons.every((reason) => {
    if (reason === 'no_session') return true;
    if (reason === STEP_UP_REASON) return typeof maxAge === 'number' && freshSignIn(sessionAuthTime, maxAge, now);
    return false;
  });
}

/** Is this login prompt (also) a step-up? For the sign-in page's wording. */
export function isStepUpPrompt(prompt: { reasons: readonly string[] }): boolean {
  return prompt.reasons.includes(STEP_UP_REASON);
}

/**
 * The scopes a token for `resource` may carry when issued at the token endpoint: the step-up scope
 * only for a token straight from an interactive sign-in that is still within the step-up's max age.
 * A refresh token keeps the sign-in's original auth_time, so a refreshed access token never carries
 * the step-up forward: once it has expired, the next sensitive call is challenged again.
 */
export function tokenEndpointScopes(
  resource: ProtectedResource,
  scopes: string[],
  grant: { grantType: string | undefined; authTime: number | undefined; now: number },
): string[] {
  const stepUp = resource.stepUpScope;
  if (!stepUp || resource.stepUpMaxAge === undefined) return scopes;
  const keep = grant.grantType !== undefined && INTERACTIVE_GRANTS.has(grant.grantType) && freshSignIn(grant.authTime, resource.stepUpMaxAge, grant.now);
  return keep ? scopes : scopes.filter((scope) => scope !== stepUp);
}

/**
 * An access token's lifetime: `ttl`, except that a token carrying its resource's step-up scope lives
 * no longer than the step-up is valid, maxAge − (now − auth_time) (at least 1 s: the engine refuses 0).
 */
export function accessTokenTtl(
  resource: ProtectedResource | undefined,
  scope: string | undefined,
  authTime: number | undefined,
  now: number,
  ttl: number,
): number {
  const stepUp = resource?.stepUpScope;
  const maxAge = resource?.stepUpMaxAge;
  if (!stepUp || maxAge === undefined || !(scope ?? '').split(' ').includes(stepUp)) return ttl;
  const left = authTime === undefined ? 0 : maxAge - (now - authTime);
  return Math.max(1, Math.min(ttl, left));
}
