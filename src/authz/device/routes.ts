/**
 * The device flow's verification pages (RFC 8628 §3.3), ours instead of the engine's: the person
 * enters the code shown on their device → signs in (unless already signed in to Portcullis) → sees
 * which application asks, the code again to compare with their device, and the permissions in
 * plain English → approves (possibly only some permissions, for one organization) or denies → is
 * told to return to the device. `verification_uri_complete` (`/device?user_code=…`) skips the
 * first step only: it never approves anything by itself (RFC 8628 §5.4, remote phishing).
 *
 * Thin routes: read the form, check its CSRF token and the code's ticket (tickets.ts), call the
 * request (requests.ts) and decision (decision.ts) services, answer with a page (responses.ts).
 */
import { Hono } from 'hono';
import { checkPassword } from '../../identity/password-login.ts';
import { homeRealm, ssoRequiredPage, ssoStartPath } from '../../web/sso-routes.ts';
import { clientIp, csrfValid, field, signedIn, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { passwordSignedIn } from '../../web/second-factor.ts';
import type { SignedIn } from '../../web/session.ts';
import { orgChoices } from '../grant-org.ts';
import { reauthenticateAtIdp } from '../interaction/step-up-sign-in.ts';
import { approveDevice, denyDevice, pickOrg } from './decision.ts';
import { takeDecision } from './decision-slot.ts';
import { DeviceGuessLimits } from './guesses.ts';
import { describeRequest, deviceStepUp, findCode, needsFreshSignIn, needsSecondFactor, pendingCode, type DeviceRequest, type DeviceRequestDeps } from './requests.ts';
import { DevicePages } from './responses.ts';
import { continueUrl, ticketed } from './tickets.ts';
import { normalizeUserCode } from './user-codes.ts';
import { plainWait } from './views.ts';

export interface DeviceFlowDeps extends WebDeps, DeviceRequestDeps {
  /** Wrong-code limits (default: DEFAULT_DEVICE_GUESS_POLICIES). */
  guesses?: DeviceGuessLimits;
}

type Form = Record<string, unknown>;

export function deviceRoutes(deps: DeviceFlowDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const guesses = deps.guesses ?? new DeviceGuessLimits();

  app.get('/device', async (c) => {
    const typed = c.req.query('user_code');
    // verification_uri_complete: the code arrives in the link; it goes through the same limits.
    if (typed !== undefined) return enterCode(deps, guesses, c, typed);
    return new DevicePages(deps, c).codeForm();
  });

  app.post('/device', async (c) => {
    // A body that cannot be read never gets here: web/pages.ts readableForms answers it 400.
    const form = await c.req.parseBody();
    if (!csrfValid(deps, c, form.csrf, 'device-code')) return new DevicePages(deps, c).formExpired();
    return enterCode(deps, guesses, c, field(form, 'user_code'));
  });

  app.get('/device/continue', (c) => continueWithCode(deps, c));
  app.post('/device/login', (c) => signIn(deps, c));
  app.post('/device/confirm', (c) => confirm(deps, c));
  return app;
}

/** Look up a code someone typed (or brought in the link), within the guess limits. */
async function enterCode(deps: DeviceFlowDeps, guesses: DeviceGuessLimits, c: WebContext, typed: string) {
  const pages = new DevicePages(deps, c);
  const ip = clientIp(deps, c);
  const wait = await guesses.retryAfter(ip);
  if (wait > 0) {
    c.header('retry-after', String(wait));
    return pages.codeForm({ error: `Too many wrong codes. Try again in ${plainWait(wait)}.`, value: typed.slice(0, 40), status: 429 });
  }
  const shown = typed.slice(0, 40);
  const userCode = normalizeUserCode(typed);
  // Not even the shape of a code (a typo, a stray paste): nothing is looked up, nothing counted.
  if (!userCode) return pages.codeForm({ error: 'Codes are 8 letters, like BCDF-GHJK. Check the code on your device.', value: shown, status: 400 });
  const code = await findCode(deps.provider(), userCode);
  if (!code) {
    await guesses.wrong(ip);
    deps.log.info({ event: 'device.code_wrong', ip }, 'wrong device user code');
    return pages.codeForm({ error: 'That code is not valid. Check the code on your device and try again.', value: shown, status: 400 });
  }
  await guesses.right(ip);
  return c.redirect(continueUrl(deps, c, userCode), 303);
}

/** After the code: sign in (again, for a step-up scope, when the sign-in is too old), then confirm. */
async function continueWithCode(deps: DeviceFlowDeps, c: WebContext) {
  const pages = new DevicePages(deps, c);
  const userCode = ticketed(deps, c, c.req.query());
  if (!userCode) return pages.lostTicket();
  const code = await pendingCode(deps.provider(), userCode);
  if (typeof code === 'string') return pages.noLongerValid(code);
  const me = await signedIn(deps, c);
  if (!me) return pages.signIn(userCode);
  const request = await describeRequest(deps, code, userCode);
  if (!request) return pages.noLongerValid('expired');
  // Signed in through SSO: the step-up's fresh sign-in is their IdP's (there may be no password here).
  const stepUp = deviceStepUp(request);
  const atIdp = stepUp && (await reauthenticateAtIdp(deps, c, me, stepUp, continueUrl(deps, c, userCode)));
  if (atIdp) return atIdp;
  if (needsFreshSignIn(request, me, deps.now())) return pages.signIn(userCode, { again: true, email: me.user.email });
  if (needsSecondFactor(request, me)) {
    // Recent enough, but a step-up with `mfa`: the second factor (or enrolment), not the password again.
    const asked = await passwordSignedIn(deps, c, me.user, { next: continueUrl(deps, c, userCode), secondFactor: true, ssoConnection: me.session.ssoConnection, proven: me.session.amr });
    if (asked instanceof Response) return asked;
  }
  return pages.confirm(request, me);
}

/**
 * The code a posted form is about: its CSRF token made for `purpose` (checked only for something
 * shaped like a code), then this browser's ticket for it; else the page to answer with.
 */
function postedCode(deps: DeviceFlowDeps, c: WebContext, pages: DevicePages, form: Form, purpose: string): string | Response {
  const typed = normalizeUserCode(field(form, 'user_code'));
  if (typed && !csrfValid(deps, c, form.csrf, `${purpose}:${typed}`)) return pages.formExpired();
  return ticketed(deps, c, { user_code: form.user_code, ticket: form.ticket }) ?? pages.lostTicket();
}

async function signIn(deps: DeviceFlowDeps, c: WebContext) {
  const pages = new DevicePages(deps, c);
  const form = await c.req.parseBody();
  const userCode = postedCode(deps, c, pages, form, 'device-login');
  if (userCode instanceof Response) return userCode;
  const ip = clientIp(deps, c);
  const email = field(form, 'email');
  // E-mail first: an address whose domain a connection owns goes to that IdP, back to this code.
  const realm = homeRealm(deps, email, field(form, 'password'));
  if (realm) return c.redirect(ssoStartPath(deps, realm, continueUrl(deps, c, userCode), email), 303);
  const check = await checkPassword(deps, email, field(form, 'password'), ip);
  if (check.kind === 'locked') {
    c.header('retry-after', String(check.retryAfter));
    return pages.signIn(userCode, { error: `Too many failed attempts. Try again in ${plainWait(check.retryAfter)}.`, email, status: 429 });
  }
  if (check.kind === 'wrong') return pages.signIn(userCode, { error: 'Wrong e-mail or password.', email, status: 401 });
  if (check.kind === 'sso_required') return ssoRequiredPage(c, deps, check.connection, continueUrl(deps, c, userCode));
  // A second factor first when the person has one (web/second-factor.ts); either way on to the confirmation.
  const started = await passwordSignedIn(deps, c, check.user, { next: continueUrl(deps, c, userCode) });
  if (started instanceof Response) return started;
  return c.redirect(continueUrl(deps, c, userCode), 303);
}

async function confirm(deps: DeviceFlowDeps, c: WebContext) {
  const pages = new DevicePages(deps, c);
  const form = await c.req.parseBody({ all: true });
  const userCode = postedCode(deps, c, pages, form, 'device-confirm');
  if (userCode instanceof Response) return userCode;
  const me = await signedIn(deps, c);
  if (!me) return c.redirect(continueUrl(deps, c, userCode), 303);
  const code = await pendingCode(deps.provider(), userCode);
  if (typeof code === 'string') return pages.noLongerValid(code);
  const request = await describeRequest(deps, code, userCode);
  if (!request) return pages.noLongerValid('expired');
  return decide(deps, c, pages, form, request, me);
}

/** Approve or deny, once: an unclear decision or org is asked again, a stale sign-in is renewed first. */
async function decide(deps: DeviceFlowDeps, c: WebContext, pages: DevicePages, form: Form, request: DeviceRequest, me: SignedIn) {
  const { decision } = form;
  if (decision !== 'approve' && decision !== 'deny') return pages.confirm(request, me, 'Choose Approve or Deny.');
  if (decision === 'approve' && (needsFreshSignIn(request, me, deps.now()) || needsSecondFactor(request, me))) return c.redirect(continueUrl(deps, c, request.userCode), 303);
  const choices = await orgChoices(deps.store, me.user.id, request.client.id);
  const org = pickOrg(choices.offered, form.org);
  if (decision === 'approve' && !org) return pages.confirm(request, me, 'Choose one of the organizations offered.');
  // Exactly one decision per code, even when two arrive together.
  if (!(await takeDecision(deps.store, deps.pepper, request.userCode, deps.now()))) return pages.noLongerValid('used');
  if (decision !== 'approve' || !org) {
    await denyDevice(deps, request, me);
    return pages.result('denied', request.client.name);
  }
  const ticked = new Set(([] as unknown[]).concat(form.grant ?? []).filter((v): v is string => typeof v === 'string'));
  const granted = await approveDevice(deps, request, me, org, ticked);
  return pages.result('approved', request.client.name, { resource: request.resource, scopes: granted, oidcScopes: request.oidcScopes, orgName: org.name });
}
