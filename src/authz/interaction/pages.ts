/**
 * The interaction's pages as answers: sign-in, consent, "no organization can use this
 * application", and the two dead ends (the interaction or the form expired).
 */
import { html, page } from '../../web/html.ts';
import { csrfToken, type WebContext, type WebDeps } from '../../web/pages.ts';
import { staysConnectedDays, type ClientView } from '../../web/approval.ts';
import { signInForm } from '../../web/sign-in-form.ts';
import { clientAwaitsApproval, type OrgChoices } from '../grant-org.ts';
import { isStepUpPrompt } from '../step-up.ts';
import { allowedFor, consentRequests, type ConsentOrg } from './consent.ts';
import { orgPicker, renderConsent, renderNoOrg, type ConsentView } from './consent-page.ts';
import { applicationName, grantsNothing, renderNoAccess, renderRequested } from './consent-no-access.ts';
import { allowReturnToClient, returnTarget, type Interaction } from './details.ts';
import { ssoConfigured, ssoFormOptions } from '../../web/sso-routes.ts';
import { passkeySignInButton } from '../../web/passkey-button.ts';

export function expired(deps: Pick<WebDeps, 'base'>, c: WebContext) {
  return c.html(
    page({
      title: 'Sign-in expired',
      base: deps.base,
      body: html`<h1>This sign-in has expired</h1><p>Start again from the application you were connecting.</p>`,
    }),
    400,
  );
}

export function formExpired(deps: Pick<WebDeps, 'base'>, c: WebContext) {
  return c.html(page({ title: 'Form expired', base: deps.base, body: html`<h1>This form has expired</h1><p>Go back, reload the page and try again.</p>` }), 403);
}

const stepUpSso = (deps: WebDeps) => (ssoConfigured(deps) ? { buttons: '' as const, emailFirst: true } : undefined);

export function loginForm(deps: WebDeps, c: WebContext, details: Interaction, clientName: string, error?: string, email = '') {
  const uid = details.uid;
  // A step-up (authz/step-up.ts): the user is signed in, but not recently enough for what was asked.
  const stepUp = isStepUpPrompt(details.prompt);
  return page({
    title: stepUp ? 'Confirm it is you' : 'Sign in',
    base: deps.base,
    body: html`<h1>${stepUp ? 'Confirm it is you' : 'Sign in'}</h1>
${stepUp
  ? html`<p><strong>${clientName}</strong> asks for actions that need a recent sign-in. Enter your password again to continue.</p>`
  : html`<p>to continue to <strong>${clientName}</strong></p>`}
${signInForm({
  action: `${deps.base}/interaction/${uid}/login`,
  hidden: html`<input type="hidden" name="csrf" value="${csrfToken(deps, c, `login:${uid}`)}">`,
  email,
  error,
  more: html`<button type="submit" form="abort">Cancel</button>`,
  // A step-up keeps e-mail first (an SSO user's IdP is asked for a fresh sign-in: routes.ts
  // idpStepUp) but shows no "Continue with" buttons, which would not ask for one.
  sso: stepUp ? stepUpSso(deps) : ssoFormOptions(deps, `${deps.base}/interaction/${uid}`),
  // A passkey continues like a password after its second factor: to the resume route, once.
  passkey: passkeySignInButton(deps, c, { next: `${deps.base}/interaction/${uid}/login/resume`, resume: `interaction:${uid}` }),
  // Not on a step-up: the person knows their password well enough to be signed in already.
  forgot: stepUp ? undefined : `${deps.base}/forgot-password?back=${encodeURIComponent(`${deps.base}/interaction/${uid}`)}`,
})}
<form id="abort" method="post" action="${deps.base}/interaction/${uid}/abort">
<input type="hidden" name="csrf" value="${csrfToken(deps, c, `abort:${uid}`)}">
</form>`,
  });
}

export async function showConsent(deps: WebDeps, c: WebContext, details: Interaction, client: ClientView, userEmail: string, org: ConsentOrg, error?: string) {
  allowReturnToClient(c, details);
  const { requests, oidcScopes } = consentRequests(deps, details);
  const view: ConsentView = {
    base: deps.base,
    uid: details.uid,
    csrf: csrfToken(deps, c, `consent:${details.uid}`),
    client,
    userEmail,
    returnTo: returnTarget(String(details.params.redirect_uri ?? ''))?.label,
    staysConnectedDays: staysConnectedDays(deps.config),
    requests,
    oidcScopes,
    orgs: org.choices.offered,
    selected: org.selected,
    access: org.access,
    allowed: allowedFor(org.access),
    error,
    awaitsApproval: await clientAwaitsApproval(deps.store, org.selected, String(details.params.client_id)),
  };
  // Nothing to grant: say so and offer a request for access instead of an "Approve" that grants nothing.
  if (grantsNothing(requests, view.allowed)) {
    const userId = String(details.session?.accountId ?? '');
    const pending = (await deps.store.accessRequests.listForUser(userId)).find(
      (r) => r.status === 'pending' && r.orgId === org.selected.id && r.clientId === String(details.params.client_id),
    );
    return c.html(renderNoAccess({ ...view, picker: orgPicker(view), pending }), error ? 400 : 200);
  }
  return c.html(renderConsent(view), error ? 400 : 200);
}

/** After "Request access": the request went to the organization's administrators (identity/access-requests.ts). */
export function showRequested(deps: WebDeps, c: WebContext, details: Interaction, clientName: string, org: ConsentOrg, kind: 'access' | 'client') {
  allowReturnToClient(c, details);
  const { requests } = consentRequests(deps, details);
  const abortCsrf = csrfToken(deps, c, `abort:${details.uid}`);
  return c.html(renderRequested({ base: deps.base, uid: details.uid, abortCsrf, clientName, app: applicationName(requests), orgName: org.selected.name, kind }));
}

export function showNoOrg(deps: WebDeps, c: WebContext, details: Interaction, clientName: string, userEmail: string, choices: OrgChoices) {
  const body = renderNoOrg({
    base: deps.base,
    uid: details.uid,
    abortCsrf: csrfToken(deps, c, `abort:${details.uid}`),
    clientName,
    userEmail,
    refused: choices.refused.map((r) => r.org),
  });
  return c.html(body, 403);
}
