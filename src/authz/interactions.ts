/**
 * The engine's interactions, rendered by us: sign-in and consent. The engine sends the browser
 * to /interaction/<uid> with a prompt; we answer with a result and send it back (303) to resume.
 */
import { Hono } from 'hono';
import { html, page } from '../console/html.ts';
import { checkPassword } from '../console/password-login.ts';
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
} from '../console/web.ts';
import { ACR_PASSWORD } from './provider.ts';
import type { ProtectedResource } from './resources.ts';
import { describeStepUp, isStepUpPrompt, sessionAnswersLogin } from './step-up.ts';

type Interaction = Awaited<ReturnType<ReturnType<WebDeps['provider']>['interactionDetails']>>;

const OIDC_SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are (your account id)',
  email: 'See your e-mail address',
  profile: 'See your name',
  offline_access: 'Stay connected while you are away (keep access without asking you again)',
};

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
  } catch {
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

function toolsFor(resource: ProtectedResource, scope: string): string[] {
  return Object.entries(resource.toolScopes)
    .filter(([, needed]) => needed === scope)
    .map(([tool]) => tool);
}

function consentPage(
  deps: WebDeps,
  c: WebContext,
  details: Interaction,
  client: NonNullable<Awaited<ReturnType<typeof clientView>>>,
  userEmail: string,
) {
  const uid = details.uid;
  const promptDetails = details.prompt.details as {
    missingOIDCScope?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const target = returnTarget(String(details.params.redirect_uri ?? ''));
  const resourceEntries = Object.entries(promptDetails.missingResourceScopes ?? {});
  const oidcScopes = (promptDetails.missingOIDCScope ?? []).filter((s) => OIDC_SCOPE_TEXT[s]);
  return page({
    title: 'Allow access?',
    base: deps.base,
    body: html`<div class="client">
${client.logo ? html`<img src="${client.logo}" alt="">` : ''}
<div><h1>${client.name} wants to access your account</h1>
<p class="muted">Signed in as ${userEmail}</p></div>
</div>
${client.verified ? '' : html`<p class="warning" role="note"><strong>Unverified application.</strong> It registered ${client.registeredBy}; Portcullis cannot vouch for who runs it. Only continue if you started this from an application you trust.</p>`}
${target ? html`<p>After you decide, you will be sent back to <strong>${target.label}</strong>.</p>` : ''}
${client.staysConnected ? html`<p class="muted">If you approve, ${client.name} stays connected for up to ${Math.round(deps.config.tokens.refreshTokenTtl / 86400)} days or until you disconnect it.</p>` : ''}
<form method="post" action="${deps.base}/interaction/${uid}/consent">
<input type="hidden" name="csrf" value="${csrfToken(deps, c, `consent:${uid}`)}">
${resourceEntries.map(([indicator, scopes], index) => {
  const resource = deps.resources.get(indicator);
  return html`<h2>${resource?.name ?? indicator}</h2>
<p class="muted">${indicator}</p>
<ul class="scopes">
${scopes.map((scope) => {
  const tools = resource ? toolsFor(resource, scope) : [];
  const description = resource?.scopes.find((s) => s.name === scope)?.description;
  // The step-up scope says how long it lasts (authz/step-up.ts).
  const text = resource && scope === resource.stepUpScope ? describeStepUp(resource, description) : (description ?? scope);
  return html`<li><label><input type="checkbox" name="grant" value="${index}|${scope}" checked> ${text}</label>
<span class="tools"><code>${scope}</code>${tools.length ? html` · tools: ${tools.join(', ')}` : ''}</span></li>`;
})}
</ul>`;
})}
${oidcScopes.length ? html`<h2>Your account</h2><ul class="scopes">${oidcScopes.map((s) => html`<li>${OIDC_SCOPE_TEXT[s]!}</li>`)}</ul>` : ''}
<div class="actions">
<button class="primary" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`,
  });
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
      return c.html(consentPage(deps, c, details, client, user.email));
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
    if (form.decision !== 'approve') {
      return finish(deps, c, { error: 'access_denied', error_description: 'The user denied the request.' }, false);
    }
    const provider = deps.provider();
    const accountId = details.session?.accountId;
    if (!accountId) return expired(c);
    const promptDetails = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const ticked = new Set(([] as unknown[]).concat(form.grant ?? []).filter((v): v is string => typeof v === 'string'));
    const grant = details.grantId
      ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId: String(details.params.client_id) }))
      : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    if (promptDetails.missingOIDCScope?.length) grant.addOIDCScope(promptDetails.missingOIDCScope.join(' '));
    if (promptDetails.missingOIDCClaims?.length) grant.addOIDCClaims(promptDetails.missingOIDCClaims);
    Object.entries(promptDetails.missingResourceScopes ?? {}).forEach(([indicator, scopes], index) => {
      const granted = scopes.filter((s) => ticked.has(`${index}|${s}`));
      const refused = scopes.filter((s) => !granted.includes(s));
      // Refused scopes are recorded as encountered, so the engine does not ask again (partial consent).
      if (granted.length) grant.addResourceScope(indicator, granted.join(' '));
      if (refused.length) grant.rejectResourceScope(indicator, refused.join(' '));
    });
    const grantId = await grant.save();
    deps.log.info({ event: 'consent.granted', user: accountId, client: details.params.client_id, grant: grantId }, 'consent granted');
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

