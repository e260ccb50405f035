/**
 * A login prompt the signed-in person answers somewhere other than the password form
 * (authz/step-up.ts says what the prompt needs):
 *
 * - They signed in through single sign-on and the prompt wants a recent sign-in (a step-up, or the
 *   client's own `max_age`): their IdP signs them in again — `prompt=login`, `max_age`, and the
 *   connection's `stepUpAcrValues` when a second factor is needed (web/sso-relying-party.ts) — unless
 *   this very session came from such a sign-in, recent enough (web/sso-step-up.ts): an SSO session
 *   is dated when the IdP answered, which says nothing of when the person last authenticated. Back
 *   here, the IdP's `amr` counts only where the connection says `trustAmr`.
 * - Their sign-in is recent enough and only a second factor is missing (a step-up with `mfa`, or a
 *   client's `acr_values` urn:portcullis:acr:mfa; also after the IdP when its `amr` shows none): the
 *   second-factor page, or TOTP enrolment for someone without one. The password is not asked again
 *   — it was proven within the max age — and the second factor proven now makes a new session,
 *   signed in now, with `amr` mfa.
 */
import type { WebContext, WebDeps } from '../../web/pages.ts';
import { passwordSignedIn, type Continuation } from '../../web/second-factor.ts';
import type { SignedIn } from '../../web/session.ts';
import { connections, ssoStartPath } from '../../web/sso-routes.ts';
import { reauthenticatedAtIdp } from '../../web/sso-step-up.ts';
import { OAUTH_MAX_AGE_REASON } from '../oauth-acr-params.ts';
import { freshSignIn, isStepUpPrompt, onlySecondFactorMissing, promptNeedsMfa } from '../step-up.ts';
import type { Interaction } from './details.ts';

/** An SSO user whose sign-in does not prove a recent authentication: off to their IdP. */
export async function idpSignInDue(deps: WebDeps, c: WebContext, details: Interaction, me: SignedIn): Promise<Response | undefined> {
  const stepUp = idpStepUp(details.prompt);
  return stepUp ? reauthenticateAtIdp(deps, c, me, stepUp, `${deps.base}/interaction/${details.uid}`) : undefined;
}

/**
 * A step-up for someone signed in through SSO (the authorization interaction, the device page):
 * the redirect to their IdP for a fresh sign-in that comes back to `returnTo` — or undefined when
 * this session already proves one within `stepUp.maxAge`, or did not come from a connection.
 */
export async function reauthenticateAtIdp(deps: WebDeps, c: WebContext, me: SignedIn, stepUp: { maxAge: number; mfa: boolean }, returnTo: string): Promise<Response | undefined> {
  const connection = me.session.ssoConnection ? connections(deps).get(me.session.ssoConnection) : undefined;
  if (!connection) return undefined;
  const fresh = freshSignIn(me.session.authTime, stepUp.maxAge, deps.now());
  // An OpenID provider (max_age, then auth_time checked) and a SAML IdP (ForceAuthn, then the signed
  // AuthnInstant checked) can be asked for a fresh sign-in and shown to have done it; GitHub cannot,
  // and goes by when it answered.
  const proven = connection.type === 'github' ? fresh : fresh && (await reauthenticatedAtIdp(deps, me.session, stepUp.maxAge));
  if (proven) return undefined;
  return c.redirect(ssoStartPath(deps, connection, returnTo, me.user.email, stepUp), 303);
}

/** Recent enough, only the second factor missing: the second-factor (or enrolment) page. */
export async function secondFactorOnly(deps: WebDeps, c: WebContext, details: Interaction, me: SignedIn, then: Continuation): Promise<Response | undefined> {
  if (!onlySecondFactorMissing(details.prompt, me.session, deps.now())) return undefined;
  // With `secondFactor` set this always ends at the second-factor (or enrolment) page.
  const asked = await passwordSignedIn(deps, c, me.user, { ...then, secondFactor: true, ssoConnection: me.session.ssoConnection, proven: me.session.amr });
  return asked instanceof Response ? asked : undefined;
}

/**
 * What to ask an IdP for when this prompt wants a recent sign-in — a step-up scope's, or the client's
 * own `max_age` (OIDC Core §3.1.2.1); the shorter wins. Also on the e-mail-first path, for someone
 * with no session here: the IdP's own session may be hours old, and must not pass for a fresh sign-in.
 */
export function idpStepUp(prompt: Interaction['prompt']): { maxAge: number; mfa: boolean } | undefined {
  const stepUp = isStepUpPrompt(prompt) ? prompt.details.step_up_max_age : undefined;
  const asked = prompt.reasons.includes('max_age') || prompt.reasons.includes(OAUTH_MAX_AGE_REASON) ? Number(prompt.details.max_age) : undefined;
  const ages = [stepUp, asked].filter((age): age is number => typeof age === 'number' && Number.isInteger(age) && age >= 0);
  return ages.length ? { maxAge: Math.min(...ages), mfa: promptNeedsMfa(prompt) } : undefined;
}
