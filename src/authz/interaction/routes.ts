/**
 * The engine's interactions, rendered by us: sign-in and consent. The engine sends the browser
 * to /interaction/<uid> with a prompt; we answer with a result and send it back (303) to resume.
 *
 * Thin routes: load the interaction (details.ts), check the form, call the consent service
 * (consent.ts), answer with a page (pages.ts) or the engine's resumption.
 */
import { Hono } from 'hono';
import type { Mailer } from '../../identity/mailer.ts';
import { checkPassword } from '../../identity/password-login.ts';
import { homeRealm, ssoRequiredPage, ssoStartPath } from '../../web/sso-routes.ts';
import { passwordSignedIn, takeResumed, type Continuation } from '../../web/second-factor.ts';
import { clientIp, csrfValid, field, signedIn, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import type { ClientView } from '../../web/approval.ts';
import { clientView } from '../client-view.ts';
import { acrFor } from '../protocol.ts';
import { clientAwaitsApproval, orgChoices } from '../grant-org.ts';
import { isStepUpPrompt, promptNeedsMfa, sessionAnswersLogin } from '../step-up.ts';
import { idpSignInDue, idpStepUp, secondFactorOnly } from './step-up-sign-in.ts';
import { consentOrg, grantConsent, previousOrg } from './consent.ts';
import { allowReturnToClient, finish, loadInteraction, returnTarget, type Interaction } from './details.ts';
import { expired, formExpired, loginForm, showConsent, showNoOrg, showRequested } from './pages.ts';
import { askClientApproval, askForAccess } from './access-request.ts';
import { recordConsentFor, recordSignedIn, signInMethod, type DoctorDeps } from './doctor-steps.ts';

export function interactionRoutes(deps: WebDeps & DoctorDeps & { mailer?: Mailer }): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get('/interaction/:uid', (c) => showInteraction(deps, c));
  app.post('/interaction/:uid/login', (c) => signIn(deps, c));
  app.get('/interaction/:uid/login/resume', (c) => resumeAfterSecondFactor(deps, c));
  app.post('/interaction/:uid/consent', (c) => consent(deps, c));
  app.post('/interaction/:uid/abort', (c) => abort(deps, c));
  return app;
}

/** The engine's login result for a sign-in (its `acr` from the methods used: authz/protocol.ts acrFor). */
function loginResult(accountId: string, amr: string[], authTime: number) {
  return { login: { accountId, acr: acrFor(amr), amr, ts: authTime, remember: true } };
}

async function showInteraction(deps: WebDeps & DoctorDeps, c: WebContext) {
  const details = await loadInteraction(deps, c);
  if (!details) return expired(deps, c);
  const client = await clientView(deps, String(details.params.client_id));
  if (!client) return expired(deps, c);
  allowReturnToClient(c, details);
  if (details.prompt.name === 'login') return answerLogin(deps, c, details, client);
  if (details.prompt.name === 'consent') return askConsent(deps, c, details, client);
  return expired(deps, c);
}

async function answerLogin(deps: WebDeps & DoctorDeps, c: WebContext, details: Interaction, client: ClientView) {
  // Already signed in to Portcullis and nothing demands a fresh sign-in (a step-up needs one
  // within its max age, and maybe a second factor, authz/step-up.ts): reuse that session.
  const me = await signedIn(deps, c);
  // An SSO user's step-up: their IdP signs them in again (step-up-sign-in.ts).
  const atIdp = me ? await idpSignInDue(deps, c, details, me) : undefined;
  if (atIdp) return atIdp;
  if (me && sessionAnswersLogin(details.prompt, me.session, deps.now())) {
    // Also how an SSO or passkey sign-in started from this page comes back to finish it.
    recordSignedIn(deps, details, me.user.id, signInMethod(me.session.amr, me.session.ssoConnection), deps.now() - me.session.authTime > 60);
    return finish(deps, c, loginResult(me.user.id, me.session.amr, me.session.authTime));
  }
  // Recent enough, and only a second factor missing: that alone, not the password again.
  const second = me ? await secondFactorOnly(deps, c, details, me, signInContinuation(deps, details)) : undefined;
  if (second) return second;
  // A step-up knows who is signing in: the e-mail is filled in, the password is asked for.
  const known = isStepUpPrompt(details.prompt) ? (me?.user.email ?? '') : '';
  return c.html(loginForm(deps, c, details, client.name, undefined, known));
}

/** Where a sign-in for this interaction continues after a second factor (web/second-factor.ts). */
function signInContinuation(deps: WebDeps, details: Interaction): Continuation {
  return {
    next: `${deps.base}/interaction/${details.uid}/login/resume`,
    resume: `interaction:${details.uid}`,
    formTarget: returnTarget(String(details.params.redirect_uri ?? ''))?.csp,
    // A step-up with `mfa`, or a client's acr_values: the second factor even if no organization requires one.
    ...(promptNeedsMfa(details.prompt) ? { secondFactor: true } : {}),
  };
}

async function askConsent(deps: WebDeps, c: WebContext, details: Interaction, client: ClientView) {
  const accountId = details.session?.accountId;
  const user = accountId ? await deps.store.users.findById(accountId) : undefined;
  if (!user) return expired(deps, c);
  const clientId = String(details.params.client_id);
  const choices = await orgChoices(deps.store, user.id, clientId);
  const org = await consentOrg(deps, choices, user.id, undefined, () => previousOrg(deps, details.grantId, user.id, clientId));
  if (!org) return showNoOrg(deps, c, details, client.name, user.email, choices);
  return showConsent(deps, c, details, client, user.email, org);
}

async function signIn(deps: WebDeps & DoctorDeps, c: WebContext) {
  const details = await loadInteraction(deps, c);
  if (!details || details.prompt.name !== 'login') return expired(deps, c);
  const form = await c.req.parseBody();
  if (!csrfValid(deps, c, form.csrf, `login:${details.uid}`)) return formExpired(deps, c);
  const client = await clientView(deps, String(details.params.client_id));
  const clientName = client?.name ?? 'the application';
  const ip = clientIp(deps, c);
  const here = `${deps.base}/interaction/${details.uid}`;
  // E-mail first: an address whose domain a connection owns goes to that IdP (home-realm discovery).
  const realm = homeRealm(deps, field(form, 'email'), field(form, 'password'));
  if (realm) return c.redirect(ssoStartPath(deps, realm, here, field(form, 'email'), idpStepUp(details.prompt)), 303);
  const check = await checkPassword(deps, field(form, 'email'), field(form, 'password'), ip);
  if (check.kind === 'locked') {
    c.header('retry-after', String(check.retryAfter));
    return c.html(loginForm(deps, c, details, clientName, `Too many failed attempts. Try again in ${check.retryAfter} seconds.`, field(form, 'email')), 429);
  }
  if (check.kind === 'wrong') return c.html(loginForm(deps, c, details, clientName, 'Wrong e-mail or password.', field(form, 'email')), 401);
  if (check.kind === 'sso_required') return ssoRequiredPage(c, deps, check.connection, here);
  const user = check.user;
  // A second factor first when the person has one, or the prompt needs one (web/second-factor.ts); it comes back to `resume`.
  const record = await passwordSignedIn(deps, c, user, signInContinuation(deps, details));
  if (record instanceof Response) return record;
  recordSignedIn(deps, details, user.id, signInMethod(record.amr));
  return finish(deps, c, loginResult(user.id, record.amr, record.authTime));
}

/**
 * Back from the second factor (web/second-factor.ts): the session it just created answers this
 * interaction's login prompt — once, and only in the browser that signed in for it.
 */
async function resumeAfterSecondFactor(deps: WebDeps & DoctorDeps, c: WebContext) {
  const details = await loadInteraction(deps, c);
  if (!details || details.prompt.name !== 'login') return expired(deps, c);
  const me = await signedIn(deps, c);
  if (!me || !(await takeResumed(deps, `interaction:${details.uid}`, me.session))) return c.redirect(`${deps.base}/interaction/${details.uid}`, 303);
  recordSignedIn(deps, details, me.user.id, signInMethod(me.session.amr, me.session.ssoConnection));
  return finish(deps, c, loginResult(me.user.id, me.session.amr, me.session.authTime));
}

async function consent(deps: WebDeps & DoctorDeps & { mailer?: Mailer }, c: WebContext) {
  const details = await loadInteraction(deps, c);
  if (!details || details.prompt.name !== 'consent') return expired(deps, c);
  const form = await c.req.parseBody({ all: true });
  if (!csrfValid(deps, c, form.csrf, `consent:${details.uid}`)) return formExpired(deps, c);
  const decision = form.decision;
  if (decision !== 'approve' && decision !== 'switch' && decision !== 'request') {
    recordConsentFor(deps, details, details.session?.accountId ?? null, 'refused');
    return finish(deps, c, { error: 'access_denied', error_description: 'The user denied the request.' }, false);
  }
  const accountId = details.session?.accountId;
  const user = accountId ? await deps.store.users.findById(accountId) : undefined;
  const client = await clientView(deps, String(details.params.client_id));
  if (!user || !client) return expired(deps, c);
  const clientId = String(details.params.client_id);

  // The posted org must be one the user belongs to and that lets this client act for it —
  // checked here, not trusted from the page (docs/design/identity.md).
  const choices = await orgChoices(deps.store, user.id, clientId);
  const posted = typeof form.org === 'string' ? form.org : '';
  const org = await consentOrg(deps, choices, user.id, posted, async () => undefined);
  if (!org) {
    const fallback = await consentOrg(deps, choices, user.id, undefined, () => previousOrg(deps, details.grantId, user.id, clientId));
    if (!fallback) return showNoOrg(deps, c, details, client.name, user.email, choices);
    return showConsent(deps, c, details, client, user.email, fallback, `Choose an organization you belong to that allows ${client.name}.`);
  }
  // Without JavaScript the picker is a form: "show permissions" renders the page for the chosen org.
  if (decision === 'switch') return showConsent(deps, c, details, client, user.email, org);
  if (decision === 'request') {
    await askForAccess(deps, details, user.id, client.name, org);
    recordConsentFor(deps, details, user.id, 'access-requested');
    return showRequested(deps, c, details, client.name, org, 'access');
  }
  // "Admin approval": no grant for a client the org has not approved; the request goes to its administrators.
  if (await clientAwaitsApproval(deps.store, org.selected, clientId)) {
    await askClientApproval(deps, details, user.id, client.name, org);
    recordConsentFor(deps, details, user.id, 'awaiting-client-approval');
    return showRequested(deps, c, details, client.name, org, 'client');
  }

  const ticked = new Set(([] as unknown[]).concat(form.grant ?? []).filter((v): v is string => typeof v === 'string'));
  const grantId = await grantConsent(deps, details, user.id, clientId, org, ticked);
  return finish(deps, c, { consent: { grantId } });
}

async function abort(deps: WebDeps, c: WebContext) {
  const details = await loadInteraction(deps, c);
  if (!details) return expired(deps, c);
  const form = await c.req.parseBody();
  if (!csrfValid(deps, c, form.csrf, `abort:${details.uid}`)) return formExpired(deps, c);
  return finish(deps, c, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, false);
}
