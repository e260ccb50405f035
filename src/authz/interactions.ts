/**
 * The engine's interactions, rendered by us: sign-in and consent. The engine sends the browser
 * to /interaction/<uid> with a prompt; we answer with a result and send it back (303) to resume.
 */
import { Hono } from 'hono';
import { html, page } from '../web/html.ts';
import { isUnavailable } from '../core/errors.ts';
import { checkPassword } from '../identity/password-login.ts';
import {
  clientIp,
  contentSecurityPolicy,
  csrfToken,
  csrfValid,
  field,
  setSessionCookie,
  signedIn,
  type WebContext,
  type WebDeps,
  type WebEnv,
} from '../web/pages.ts';
import { allowedScopesOf, orgAccess, type OrgAccess } from '../identity/token-permissions.ts';
import { renderConsent, renderNoOrg, type ConsentResourceRequest } from './consent-page.ts';
import { bindGrantToOrg, orgChoices, type MemberOrg, type OrgChoices } from './grant-org.ts';
import { ACR_PASSWORD } from './provider.ts';
import { isStepUpPrompt, sessionAnswersLogin } from './step-up.ts';

type Interaction = Awaited<ReturnType<ReturnType<WebDeps['provider']>['interactionDetails']>>;

/** Where the client will send the user back: a host for web URLs, the scheme for app links. */
function returnTarget(redirectUri: string): { label: string; csp: string } | undefined {
  const url = URL.parse(redirectUri);
  if (!url) return undefined;
  if (url.protocol === 'http:' || url.protocol === 'https:') return { label: url.host, csp: url.origin };
  return { label: `${url.protocol}//`, csp: url.protocol };
}

async function loadInteraction(deps: WebDeps, c: WebContext): Promise<Interaction | undefined> {
  try {
    const details = await deps.provider().interactionDetails(c.env.incoming, c.env.outgoing);
    return details.uid === c.req.param('uid') ? details : undefined;
  } catch (err) {
    // No (or an expired) interaction is the person's to restart; an outage is a 503 (web.onError).
    if (isUnavailable(err)) throw err;
    return undefined;
  }
}

function expired(c: WebContext) {
  return c.html(
    page({
      title: 'Sign-in expired',
      body: html`<h1>This sign-in has expired</h1><p>Start again from the application you were connecting.</p>`,
    }),
    400,
  );
}

function formExpired(c: WebContext) {
  return c.html(page({ title: 'Form expired', body: html`<h1>This form has expired</h1><p>Go back, reload the page and try again.</p>` }), 403);
}

async function finish(deps: WebDeps, c: WebContext, result: Record<string, unknown>, merge = true) {
  const returnTo = await deps.provider().interactionResult(c.env.incoming, c.env.outgoing, result, { mergeWithLastSubmission: merge });
  return c.redirect(returnTo, 303);
}

async function clientView(deps: WebDeps, clientId: string) {
  const client = await deps.provider().Client.find(clientId);
  if (!client) return undefined;
  const stored = await deps.store.clients.find(clientId);
  const byDocument = Boolean((client as unknown as { clientIdMetadataDocument?: boolean }).clientIdMetadataDocument);
  return {
    name: client.clientName ?? clientId,
    logo: client.logoUri && URL.parse(client.logoUri)?.protocol === 'https:' ? client.logoUri : undefined,
    verified: !byDocument && stored?.kind !== 'dynamic',
    /** It will get a refresh token, so it keeps access without asking again. */
    staysConnected: client.grantTypeAllowed('refresh_token'),
    registeredBy: byDocument ? 'a metadata document at its own address' : 'itself (dynamic registration)',
  };
}

function loginForm(deps: WebDeps, c: WebContext, details: Interaction, clientName: string, error?: string, email = '') {
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
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="${deps.base}/interaction/${uid}/login">
<input type="hidden" name="csrf" value="${csrfToken(deps, c, `login:${uid}`)}">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required ${email ? '' : html`autofocus `}value="${email}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${email ? html` autofocus` : ''}>
<div class="actions"><button class="primary" type="submit">Sign in</button><button type="submit" form="abort">Cancel</button></div>
</form>
<form id="abort" method="post" action="${deps.base}/interaction/${uid}/abort">
<input type="hidden" name="csrf" value="${csrfToken(deps, c, `abort:${uid}`)}">
</form>`,
  });
}

/** Which org the consent page is for, and the user's access there. */
interface ConsentOrg {
  choices: OrgChoices;
  selected: MemberOrg;
  access: OrgAccess;
}

/** The org the client's previous grant for this user acted for (preselected on the picker). */
async function previousOrg(deps: WebDeps, grantId: string | undefined, userId: string, clientId: string): Promise<string | undefined> {
  const context = grantId ? await deps.store.grantContexts.get(grantId) : undefined;
  if (context) return context.orgId;
  const earlier = (await deps.store.grantContexts.list({ userId })).filter((g) => g.clientId === clientId);
  earlier.sort((a, b) => (b.lastUsedAt ?? b.createdAt) - (a.lastUsedAt ?? a.createdAt));
  return earlier[0]?.orgId;
}

/**
 * The org to show: `wanted` when given (undefined if it is not one the user may pick), else the
 * previous grant's, else the first the user may pick.
 */
async function consentOrg(deps: WebDeps, choices: OrgChoices, userId: string, wanted: string | undefined, previous: () => Promise<string | undefined>): Promise<ConsentOrg | undefined> {
  const id = wanted ?? (await previous());
  const selected = choices.offered.find((org) => org.id === id) ?? (wanted === undefined ? choices.offered[0] : undefined);
  if (!selected) return undefined;
  const access = await orgAccess(deps.store, userId, selected.id);
  return access && { choices, selected, access };
}

/** The scopes the user is asked for, per resource, from the engine's consent prompt. */
function consentRequests(deps: WebDeps, details: Interaction) {
  const prompt = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  const requests: ConsentResourceRequest[] = Object.entries(prompt.missingResourceScopes ?? {}).map(([indicator, scopes]) => ({
    indicator,
    resource: deps.resources.get(indicator),
    scopes,
  }));
  return { requests, oidcScopes: prompt.missingOIDCScope ?? [], oidcClaims: prompt.missingOIDCClaims ?? [] };
}

/** Scopes of a request the user's access allows (none for a resource this server no longer serves). */
function allowedFor(access: OrgAccess) {
  return (request: ConsentResourceRequest): ReadonlySet<string> => new Set(request.resource ? allowedScopesOf(request.resource, access.levels) : []);
}

function consentCsp(c: WebContext, details: Interaction): void {
  const target = returnTarget(String(details.params.redirect_uri ?? ''));
  c.header('content-security-policy', contentSecurityPolicy(target ? [target.csp] : []));
}

function showConsent(
  deps: WebDeps,
  c: WebContext,
  details: Interaction,
  client: NonNullable<Awaited<ReturnType<typeof clientView>>>,
  userEmail: string,
  org: ConsentOrg,
  error?: string,
) {
  consentCsp(c, details);
  const { requests, oidcScopes } = consentRequests(deps, details);
  const body = renderConsent({
    base: deps.base,
    uid: details.uid,
    csrf: csrfToken(deps, c, `consent:${details.uid}`),
    client,
    userEmail,
    returnTo: returnTarget(String(details.params.redirect_uri ?? ''))?.label,
    staysConnectedDays: Math.round(deps.config.tokens.refreshTokenTtl / 86400),
    requests,
    oidcScopes,
    orgs: org.choices.offered,
    selected: org.selected,
    access: org.access,
    allowed: allowedFor(org.access),
    error,
  });
  return c.html(body, error ? 400 : 200);
}

function showNoOrg(deps: WebDeps, c: WebContext, details: Interaction, clientName: string, userEmail: string, choices: OrgChoices) {
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

export function interactionRoutes(deps: WebDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();

  app.get('/interaction/:uid', async (c) => {
    const details = await loadInteraction(deps, c);
    if (!details) return expired(c);
    const client = await clientView(deps, String(details.params.client_id));
    if (!client) return expired(c);
    const target = returnTarget(String(details.params.redirect_uri ?? ''));
    c.header('content-security-policy', contentSecurityPolicy(target ? [target.csp] : []));

    if (details.prompt.name === 'login') {
      // Already signed in to Portcullis and nothing demands a fresh sign-in (a step-up needs one
      // within its max age, authz/step-up.ts): reuse that session.
      const me = await signedIn(deps, c);
      if (me && sessionAnswersLogin(details.prompt, me.session.authTime, deps.now())) {
        return finish(deps, c, {
          login: { accountId: me.user.id, acr: ACR_PASSWORD, amr: me.session.amr, ts: me.session.authTime, remember: true },
        });
      }
      // A step-up knows who is signing in: the e-mail is filled in, the password is asked for.
      const known = isStepUpPrompt(details.prompt) ? (me?.user.email ?? '') : '';
      return c.html(loginForm(deps, c, details, client.name, undefined, known));
    }
    if (details.prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      const user = accountId ? await deps.store.users.findById(accountId) : undefined;
      if (!user) return expired(c);
      const clientId = String(details.params.client_id);
      const choices = await orgChoices(deps.store, user.id, clientId);
      const org = await consentOrg(deps, choices, user.id, undefined, () => previousOrg(deps, details.grantId, user.id, clientId));
      if (!org) return showNoOrg(deps, c, details, client.name, user.email, choices);
      return showConsent(deps, c, details, client, user.email, org);
    }
    return expired(c);
  });

  app.post('/interaction/:uid/login', async (c) => {
    const details = await loadInteraction(deps, c);
    if (!details || details.prompt.name !== 'login') return expired(c);
    const form = await c.req.parseBody();
    if (!csrfValid(deps, c, form.csrf, `login:${details.uid}`)) return formExpired(c);
    const client = await clientView(deps, String(details.params.client_id));
    const clientName = client?.name ?? 'the application';
    const ip = clientIp(deps, c);
    const check = await checkPassword(deps, field(form, 'email'), field(form, 'password'), ip);
    if (check.kind === 'locked') {
      c.header('retry-after', String(check.retryAfter));
      return c.html(loginForm(deps, c, details, clientName, `Too many failed attempts. Try again in ${check.retryAfter} seconds.`, field(form, 'email')), 429);
    }
    if (check.kind === 'wrong') return c.html(loginForm(deps, c, details, clientName, 'Wrong e-mail or password.', field(form, 'email')), 401);
    const user = check.user;
    const { value, record } = await deps.sessions.create(user, { amr: ['pwd'], ip, userAgent: c.req.header('user-agent') ?? null });
    setSessionCookie(c, value, deps.sessions.ttl);
    return finish(deps, c, { login: { accountId: user.id, acr: ACR_PASSWORD, amr: record.amr, ts: record.authTime, remember: true } });
  });

  app.post('/interaction/:uid/consent', async (c) => {
    const details = await loadInteraction(deps, c);
    if (!details || details.prompt.name !== 'consent') return expired(c);
    const form = await c.req.parseBody({ all: true });
    if (!csrfValid(deps, c, form.csrf, `consent:${details.uid}`)) return formExpired(c);
    const decision = form.decision;
    if (decision !== 'approve' && decision !== 'switch') {
      return finish(deps, c, { error: 'access_denied', error_description: 'The user denied the request.' }, false);
    }
    const provider = deps.provider();
    const accountId = details.session?.accountId;
    const user = accountId ? await deps.store.users.findById(accountId) : undefined;
    const client = await clientView(deps, String(details.params.client_id));
    if (!user || !client) return expired(c);
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

    const { requests, oidcScopes, oidcClaims } = consentRequests(deps, details);
    const allowed = allowedFor(org.access);
    const ticked = new Set(([] as unknown[]).concat(form.grant ?? []).filter((v): v is string => typeof v === 'string'));
    const grant = details.grantId
      ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId: user.id, clientId }))
      : new provider.Grant({ accountId: user.id, clientId });
    if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
    if (oidcClaims.length) grant.addOIDCClaims(oidcClaims);
    requests.forEach((request, index) => {
      // Granted: ticked and allowed by the user's role in the chosen org (a ticked scope the role
      // does not allow is dropped — the page never offers it, but a form can be forged).
      const mayGrant = allowed(request);
      const granted = request.scopes.filter((s) => ticked.has(`${index}|${s}`) && mayGrant.has(s));
      const refused = request.scopes.filter((s) => !granted.includes(s));
      // Refused scopes are recorded as encountered, so the engine does not ask again (partial consent).
      if (granted.length) grant.addResourceScope(request.indicator, granted.join(' '));
      if (refused.length) grant.rejectResourceScope(request.indicator, refused.join(' '));
    });
    const grantId = await grant.save();
    await bindGrantToOrg(deps.store, { grantId, userId: user.id, clientId, orgId: org.selected.id }, deps.now());
    deps.log.info({ event: 'consent.granted', user: user.id, client: clientId, grant: grantId, org: org.selected.id }, 'consent granted');
    return finish(deps, c, { consent: { grantId } });
  });

  app.post('/interaction/:uid/abort', async (c) => {
    const details = await loadInteraction(deps, c);
    if (!details) return expired(c);
    const form = await c.req.parseBody();
    if (!csrfValid(deps, c, form.csrf, `abort:${details.uid}`)) return formExpired(c);
    return finish(deps, c, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, false);
  });

  return app;
}

