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
 * With a second factor (`stepUp: { maxAge, mfa: true }` on some tool, `stepUpMfa` on the resource) the
 * same three places also want the sign-in's `acr` to be ACR_MFA (urn:portcullis:acr:mfa): the login
 * prompt asks again when the session lacks it (the page then asks for the second factor, or leads
 * the person to enrol one), and the token endpoint drops the scope from a grant whose sign-in lacks
 * it. `mfaLoginCheck` does the same for an RFC 9470 client that asks itself, with `acr_values` or an
 * essential `acr` claim (OpenID Connect Core §3.1.2.1, §5.5.1.1) naming ACR_MFA.
 *
 * Not done here: which tool needs a step-up, and checking a token's `auth_time` against the tool's own
 * maxAge on every call — that is policy/rules/step-up.ts at the gateway.
 */
import type { ProtectedResource } from '../core/protected-resource.ts';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { OAUTH_ACR_VALUES, OAUTH_MAX_AGE_REASON, oauthMaxAgeCheck } from './oauth-acr-params.ts';
import { ACR_MFA, ACR_PASSWORD, acrFor } from './protocol.ts';

/** The login prompt's reason when a step-up scope needs a fresh sign-in. */
export const STEP_UP_REASON = 'step_up';
/** The login prompt's reason when the client asked for ACR_MFA (`acr_values`, essential `acr`). */
export const MFA_REASON = 'mfa';

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

/** Does any resource whose step-up scope is requested need a second factor for it? */
export function requestedStepUpMfa(resources: Iterable<ProtectedResource | undefined>, scopes: ReadonlySet<string>): boolean {
  for (const resource of resources) {
    if (resource?.stepUpMfa && resource.stepUpScope && scopes.has(resource.stepUpScope)) return true;
  }
  return false;
}

function requestedResources(ctx: KoaContextWithOIDC, resources: StepUpResources): (ProtectedResource | undefined)[] {
  return Object.keys(ctx.oidc.resourceServers ?? {}).map((url) => resources.get(url));
}

function stepUpMaxAgeOf(ctx: KoaContextWithOIDC, resources: StepUpResources): number | undefined {
  return requestedStepUpMaxAge(requestedResources(ctx, resources), ctx.oidc.requestParamScopes);
}

function stepUpMfaOf(ctx: KoaContextWithOIDC, resources: StepUpResources): boolean {
  return requestedStepUpMfa(requestedResources(ctx, resources), ctx.oidc.requestParamScopes);
}

/** The engine session's sign-in proved a second factor (its `acr`, set from our login result). */
function sessionHasMfa(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.session?.acr === ACR_MFA;
}

/**
 * Does the client itself ask for a second factor? `acr_values` naming ACR_MFA and not our weaker
 * password ACR (OpenID Connect Core §3.1.2.1: the values are in order of preference, any one will
 * do — so a list that also accepts a password sign-in does not force the second factor), or an
 * essential `acr` claim request whose only acceptable value is ACR_MFA (§5.5.1.1).
 */
export function clientAsksForMfa(acrValues: unknown, acrClaim: { essential?: boolean; value?: unknown; values?: unknown } | undefined): boolean {
  if (typeof acrValues === 'string') {
    const asked = acrValues.split(' ');
    if (asked.includes(ACR_MFA) && !asked.includes(ACR_PASSWORD)) return true;
  }
  if (!acrClaim?.essential) return false;
  const values = Array.isArray(acrClaim.values) ? acrClaim.values : [acrClaim.value];
  return values.length > 0 && values.every((value) => value === ACR_MFA);
}

function clientAsksForMfaIn(ctx: KoaContextWithOIDC): boolean {
  const claims = ctx.oidc.claims as { id_token?: { acr?: { essential?: boolean; value?: unknown; values?: unknown } } } | undefined;
  const acrValues = ctx.oidc.params?.acr_values ?? ctx.oidc.params?.[OAUTH_ACR_VALUES];
  return clientAsksForMfa(acrValues, claims?.id_token?.acr ?? undefined);
}

/**
 * The login prompt's step-up check. It looks at the engine session's sign-in (time, and `acr` when
 * a second factor is needed) only: a sign-in completed during this very request has already been
 * applied to the session when the check runs again on resume, so a fresh sign-in satisfies it, and
 * nothing else does.
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
      if (!session?.accountId || !freshSignIn(session.authTime(), maxAge, now())) return interactionPolicy.Check.REQUEST_PROMPT;
      return stepUpMfaOf(ctx, resources) && !sessionHasMfa(ctx) ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    },
    (ctx) => ({ step_up_max_age: stepUpMaxAgeOf(ctx, resources), ...(stepUpMfaOf(ctx, resources) ? { mfa_required: true } : {}) }),
  );
}

/** The client asked for ACR_MFA (`clientAsksForMfa`) and the session's sign-in lacks it. */
export function mfaLoginCheck(): interactionPolicy.Check {
  return new interactionPolicy.Check(
    MFA_REASON,
    'a sign-in with a second factor is required',
    'login_required',
    (ctx) => (clientAsksForMfaIn(ctx) && !sessionHasMfa(ctx) ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT),
    () => ({ mfa_required: true }),
  );
}

/** The engine's default prompts (login, consent) with the step-up and second-factor checks added to login. */
export function stepUpInteractionPolicy(resources: StepUpResources, now: () => number): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(stepUpLoginCheck(resources, now));
  policy.get('login')!.checks.add(mfaLoginCheck());
  // A plain OAuth request's acr_values and max_age (RFC 9470 §4): authz/oauth-acr-params.ts.
  policy.get('login')!.checks.add(oauthMaxAgeCheck(now));
  return policy;
}

type LoginPrompt = { reasons: readonly string[]; details: Record<string, unknown> };

/** Does this login prompt want a second factor (a step-up with `mfa`, or the client's ACR_MFA)? */
export function promptNeedsMfa(prompt: LoginPrompt): boolean {
  return prompt.details.mfa_required === true;
}

/**
 * May our own browser session (signed in at `session.authTime` with `session.amr`) answer the
 * engine's login prompt without the sign-in form? Only when the prompt asks for nothing but a
 * session (`no_session`), or also for a step-up — or the client's own `max_age` (OIDC Core
 * §3.1.2.1) — that our session's sign-in is recent enough for, or for a second factor our session
 * proved (when the prompt needs one, also for an essential `acr` claim of MFA alone). Any other reason
 * (id_token_hint, another essential ACR…) needs the form.
 */
export function sessionAnswersLogin(prompt: LoginPrompt, session: { authTime: number; amr: readonly string[] }, now: number): boolean {
  const maxAge = prompt.details.step_up_max_age;
  const asked = prompt.details.max_age === undefined ? Number.NaN : Number(prompt.details.max_age);
  const factors = !promptNeedsMfa(prompt) || acrFor(session.amr) === ACR_MFA;
  return prompt.reasons.every((reason) => {
    if (reason === 'no_session') return true;
    if (reason === STEP_UP_REASON) return typeof maxAge === 'number' && freshSignIn(session.authTime, maxAge, now) && factors;
    if (reason === 'max_age' || reason === OAUTH_MAX_AGE_REASON) return Number.isInteger(asked) && freshSignIn(session.authTime, asked, now);
    // The engine's own checks of an essential `acr` claim: answered when it asks for MFA alone (mfaLoginCheck).
    if (reason === MFA_REASON || reason === 'essential_acr' || reason === 'essential_acrs') return promptNeedsMfa(prompt) && factors;
    return false;
  });
}

/**
 * Would the session answer the prompt if it had a second factor? Then only the second factor is
 * asked for, not the password again: the session's sign-in is recent enough, and the second factor
 * proved now makes it one with MFA (a new session, signed in now).
 */
export function onlySecondFactorMissing(prompt: LoginPrompt, session: { authTime: number; amr: readonly string[] }, now: number): boolean {
  return promptNeedsMfa(prompt) && !sessionAnswersLogin(prompt, session, now) && sessionAnswersLogin(prompt, { ...session, amr: [...session.amr, 'otp', 'mfa'] }, now);
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
  grant: { grantType: string | undefined; authTime: number | undefined; acr?: string; now: number },
): string[] {
  const stepUp = resource.stepUpScope;
  if (!stepUp || resource.stepUpMaxAge === undefined) return scopes;
  const interactive = grant.grantType !== undefined && INTERACTIVE_GRANTS.has(grant.grantType);
  // A step-up that needs a second factor: the code's (or device code's) sign-in must have proved one.
  const factors = !resource.stepUpMfa || grant.acr === ACR_MFA;
  const keep = interactive && factors && freshSignIn(grant.authTime, resource.stepUpMaxAge, grant.now);
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
