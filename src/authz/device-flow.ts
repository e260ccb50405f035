/**
 * The device flow's verification pages (RFC 8628 §3.3), ours instead of the engine's: the person
 * enters the code shown on their device → signs in (unless already signed in to Portcullis) → sees
 * which application asks, the code again to compare with their device, and the permissions in
 * plain English → approves (possibly only some permissions, for one organization) or denies → is
 * told to return to the device. `verification_uri_complete` (`/device?user_code=…`) skips the
 * first step only: it never approves anything by itself (RFC 8628 §5.4, remote phishing).
 *
 * Approving does what the engine's own flow does at its end (oidc-provider
 * lib/actions/authorization/device.js): a Grant for the client with the approved scopes on the
 * request's resource, and the DeviceCode marked with the account, grant, sign-in time, acr and amr
 * — so the device's next poll gets tokens. Denying sets `access_denied` on the code.
 *
 * Between steps the code travels in the URL with a ticket: a MAC of the code bound to this
 * browser's CSRF cookie, handed out only after the code was entered through the guess limits
 * (device-guesses.ts). Without it no page reveals whether a code exists.
 */
import type { ProtectedResource } from '../core/protected-resource.ts';
import { Hono } from 'hono';
import type Provider from 'oidc-provider';
import { html, page, type Html } from '../web/html.ts';
import { checkPassword } from '../identity/password-login.ts';
import { clientIp, csrfToken, csrfValid, field, setSessionCookie, signedIn, type WebContext, type WebDeps, type WebEnv } from '../web/pages.ts';
import type { SignedIn } from '../web/session.ts';
import { tokenPermissions } from '../identity/token-permissions.ts';
import { bindGrantToOrg, orgChoices, type MemberOrg } from './grant-org.ts';
import { takeDecision } from './device-decisions.ts';
import { DeviceGuessLimits } from './device-guesses.ts';
import { formatUserCode, normalizeUserCode } from './device-user-codes.ts';
import { ACR_PASSWORD, OIDC_SCOPES } from './provider.ts';
import { OIDC_SCOPE_TEXT, scopeText, toolsNeeding } from './scope-text.ts';

export interface DeviceFlowDeps extends WebDeps {
  /** The audience of a device request that names no resource (as at the authorization endpoint). */
  defaultResource: () => string | undefined;
  /** Wrong-code limits (default: DEFAULT_DEVICE_GUESS_POLICIES). */
  guesses?: DeviceGuessLimits;
}

type DeviceCode = InstanceType<Provider['DeviceCode']>;

/** What the person is asked to approve: the client, the resource, the scopes. */
interface DeviceRequest {
  code: DeviceCode;
  userCode: string;
  client: ClientView;
  resource: ProtectedResource | undefined;
  /** Scopes of the resource that were asked for (its defaults when none were). */
  resourceScopes: string[];
  /** OpenID scopes asked for (openid, email, …). */
  oidcScopes: string[];
}

interface ClientView {
  id: string;
  name: string;
  logo: string | undefined;
  verified: boolean;
  registeredBy: string;
  /** It will get a refresh token, so it keeps access without asking again. */
  staysConnected: boolean;
}

export function deviceRoutes(deps: DeviceFlowDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const guesses = deps.guesses ?? new DeviceGuessLimits();
  const base = deps.base;

  const ticketFor = (c: WebContext, userCode: string) => csrfToken(deps, c, `device-ticket:${userCode}`);
  const continueUrl = (c: WebContext, userCode: string) =>
    `${base}/device/continue?${new URLSearchParams({ user_code: formatUserCode(userCode), ticket: ticketFor(c, userCode) })}`;

  /** The code and ticket a later step carries; undefined unless the ticket is this browser's for this code. */
  function ticketed(c: WebContext, input: { user_code?: unknown; ticket?: unknown }): string | undefined {
    const userCode = typeof input.user_code === 'string' ? normalizeUserCode(input.user_code) : undefined;
    if (!userCode || !csrfValid(deps, c, input.ticket, `device-ticket:${userCode}`)) return undefined;
    return userCode;
  }

  async function findCode(userCode: string): Promise<DeviceCode | undefined> {
    try {
      return (await deps.provider().DeviceCode.findByUserCode(userCode, { ignoreExpiration: true })) ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** A code that can still be approved, or the result page to show instead. */
  async function pendingCode(c: WebContext, userCode: string): Promise<DeviceCode | Response> {
    const code = await findCode(userCode);
    // Past its expiry the store no longer returns it: a ticket proves it existed, so it expired.
    if (!code || code.isExpired) return expiredPage(c, 'expired');
    if (code.consumed || code.accountId || code.error || code.inFlight) return expiredPage(c, 'used');
    return code;
  }

  function expiredPage(c: WebContext, why: 'expired' | 'used') {
    const text = why === 'expired' ? 'This code has expired.' : 'This code has already been used.';
    return c.html(
      page({
        title: 'Code no longer valid',
        base,
        id: 'device-expired',
        body: html`<h1>${text}</h1><p>Start the sign-in again on your device to get a new code.</p>`,
      }),
      why === 'expired' ? 410 : 409,
    );
  }

  function codeForm(c: WebContext, options: { error?: string; value?: string; status?: 200 | 400 | 403 | 429 } = {}) {
    return c.html(
      page({
        title: 'Connect a device',
        base,
        body: html`<h1>Connect a device</h1>
<p>Enter the code shown on your device or terminal.</p>
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
<form id="device-code" method="post" action="${base}/device">
<input type="hidden" name="csrf" value="${csrfToken(deps, c, 'device-code')}">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="BCDF-GHJK" required autofocus value="${options.value ?? ''}">
<div class="actions"><button class="primary" type="submit">Continue</button></div>
</form>`,
      }),
      options.status ?? 200,
    );
  }

  /** Look up a code someone typed (or brought in the link), within the guess limits. */
  async function enterCode(c: WebContext, typed: string) {
    const ip = clientIp(deps, c);
    const wait = guesses.retryAfter(ip);
    if (wait > 0) {
      c.header('retry-after', String(wait));
      return codeForm(c, { error: `Too many wrong codes. Try again in ${plainWait(wait)}.`, value: typed.slice(0, 40), status: 429 });
    }
    const shown = typed.slice(0, 40);
    const userCode = normalizeUserCode(typed);
    // Not even the shape of a code (a typo, a stray paste): nothing is looked up, nothing counted.
    if (!userCode) return codeForm(c, { error: 'Codes are 8 letters, like BCDF-GHJK. Check the code on your device.', value: shown, status: 400 });
    const code = await findCode(userCode);
    if (!code) {
      guesses.wrong(ip);
      deps.log.info({ event: 'device.code_wrong', ip }, 'wrong device user code');
      return codeForm(c, { error: 'That code is not valid. Check the code on your device and try again.', value: shown, status: 400 });
    }
    guesses.right(ip);
    return c.redirect(continueUrl(c, userCode), 303);
  }

  async function clientView(clientId: string): Promise<ClientView | undefined> {
    const client = await deps.provider().Client.find(clientId);
    if (!client) return undefined;
    const stored = await deps.store.clients.find(clientId);
    const byDocument = Boolean((client as unknown as { clientIdMetadataDocument?: boolean }).clientIdMetadataDocument);
    return {
      id: clientId,
      name: client.clientName ?? clientId,
      logo: client.logoUri && URL.parse(client.logoUri)?.protocol === 'https:' ? client.logoUri : undefined,
      verified: !byDocument && stored?.kind !== 'dynamic',
      registeredBy: byDocument ? 'a metadata document at its own address' : 'itself (dynamic registration)',
      staysConnected: client.grantTypeAllowed('refresh_token'),
    };
  }

  async function describeRequest(code: DeviceCode, userCode: string): Promise<DeviceRequest | undefined> {
    const client = code.clientId ? await clientView(code.clientId) : undefined;
    if (!client) return undefined;
    const params = (code.params ?? {}) as Record<string, unknown>;
    const named = Array.isArray(params.resource) ? (params.resource.length === 1 ? String(params.resource[0]) : undefined) : params.resource;
    const indicator = typeof named === 'string' ? named : deps.defaultResource();
    const resource = indicator ? deps.resources.get(indicator) : undefined;
    const requested = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : [];
    const own = new Set(resource?.scopes.map((s) => s.name) ?? []);
    const asked = requested.filter((s) => own.has(s));
    // Like the authorization endpoint: a request naming none of the resource's scopes gets its defaults.
    const resourceScopes = resource ? (asked.length ? asked : resource.defaultScopes.filter((s) => own.has(s))) : [];
    return { code, userCode, client, resource, resourceScopes, oidcScopes: requested.filter((s) => OIDC_SCOPES.includes(s)) };
  }

  function loginPage(c: WebContext, userCode: string, options: { error?: string; email?: string; status?: 200 | 401 | 429; again?: boolean } = {}) {
    const email = options.email ?? '';
    const title = options.again ? 'Confirm it is you' : 'Sign in';
    return c.html(
      page({
        title,
        base,
        body: html`<h1>${title}</h1>
${options.again
  ? html`<p>The device showing <strong class="user-code">${formatUserCode(userCode)}</strong> asks for actions that need a recent sign-in. Enter your password again to continue.</p>`
  : html`<p>to connect the device showing <strong class="user-code">${formatUserCode(userCode)}</strong></p>`}
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
<form id="device-login" method="post" action="${base}/device/login">
<input type="hidden" name="csrf" value="${csrfToken(deps, c, `device-login:${userCode}`)}">
<input type="hidden" name="user_code" value="${formatUserCode(userCode)}">
<input type="hidden" name="ticket" value="${ticketFor(c, userCode)}">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required ${email ? '' : html`autofocus `}value="${email}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${email ? html` autofocus` : ''}>
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>`,
      }),
      options.status ?? 200,
    );
  }

  async function confirmPage(c: WebContext, request: DeviceRequest, me: SignedIn, error?: string) {
    const { client, resource, userCode } = request;
    const choices = await orgChoices(deps.store, me.user.id, client.id);
    const offered = choices.offered;
    // Scopes shown: those asked for that the user's role allows in at least one offered organization.
    const allowedSomewhere = new Set<string>();
    if (resource) {
      for (const org of offered) {
        const permissions = await tokenPermissions(deps.store, me.user.id, org.id, resource);
        for (const scope of permissions?.allowedScopes ?? []) allowedSomewhere.add(scope);
      }
    }
    const shown = request.resourceScopes.filter((s) => allowedSomewhere.has(s));
    const deviceInfo = (request.code.deviceInfo ?? {}) as { ip?: unknown };
    const body = html`<div class="client">
${client.logo ? html`<img src="${client.logo}" alt="">` : ''}
<div><h1>Connect ${client.name}?</h1>
<p class="muted">Signed in as ${me.user.email}</p></div>
</div>
${client.verified ? '' : html`<p class="warning" role="note"><strong>Unverified application.</strong> It registered ${client.registeredBy}; Portcullis cannot vouch for who runs it. Only continue if you started this from an application you trust.</p>`}
<p>Check that your device shows this code:</p>
<p class="user-code">${formatUserCode(userCode)}</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<p class="muted">If it does not, or you did not start a sign-in on a device just now, choose Deny: someone may be trying to get you to approve their device.${typeof deviceInfo.ip === 'string' ? html` The request came from ${deviceInfo.ip}.` : ''}</p>
${offered.length === 0
  ? html`<p class="error" role="alert">None of your organizations allows ${client.name} to act for it.</p>
<form id="device-confirm" method="post" action="${base}/device/confirm">
${hiddenFields(c, userCode)}
<div class="actions"><button type="submit" name="decision" value="deny">Deny</button></div>
</form>`
  : html`<form id="device-confirm" method="post" action="${base}/device/confirm">
${hiddenFields(c, userCode)}
${offered.length > 1 ? orgPicker(offered) : ''}
${resource
  ? html`<h2>${resource.name}</h2>
<p class="muted">${resource.url}</p>
${shown.length
  ? html`<ul class="scopes">
${shown.map((scope) => {
  const tools = toolsNeeding(resource, scope);
  return html`<li><label><input type="checkbox" name="grant" value="${scope}" checked> ${scopeText(resource, scope)}</label>
<span class="tools"><code>${scope}</code>${tools.length ? html` · tools: ${tools.join(', ')}` : ''}</span></li>`;
})}
</ul>
${offered.length > 1 ? html`<p class="muted">Permissions your role in the organization you choose does not give are left out.</p>` : ''}`
  : html`<p class="muted">Your role gives no permission this application asks for.</p>`}`
  : ''}
${client.staysConnected ? html`<p class="muted">If you approve, ${client.name} stays connected for up to ${Math.round(deps.config.tokens.refreshTokenTtl / 86400)} days or until you disconnect it.</p>` : ''}
${request.oidcScopes.some((s) => OIDC_SCOPE_TEXT[s])
  ? html`<h2>Your account</h2><ul class="scopes">${request.oidcScopes.filter((s) => OIDC_SCOPE_TEXT[s]).map((s) => html`<li>${OIDC_SCOPE_TEXT[s]!}</li>`)}</ul>`
  : ''}
<div class="actions">
<button class="primary" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`}`;
    return c.html(page({ title: `Connect ${client.name}?`, base, body }), error ? 400 : 200);
  }

  function hiddenFields(c: WebContext, userCode: string): Html {
    return html`<input type="hidden" name="csrf" value="${csrfToken(deps, c, `device-confirm:${userCode}`)}">
<input type="hidden" name="user_code" value="${formatUserCode(userCode)}">
<input type="hidden" name="ticket" value="${ticketFor(c, userCode)}">`;
  }

  function formExpired(c: WebContext) {
    return c.html(page({ title: 'Form expired', base, body: html`<h1>This form has expired</h1><p>Go back, reload the page and try again.</p>` }), 403);
  }

  function lostTicket(c: WebContext) {
    return codeForm(c, { error: 'This page has expired. Enter the code from your device again.', status: 400 });
  }

  app.get('/device', async (c) => {
    const typed = c.req.query('user_code');
    // verification_uri_complete: the code arrives in the link; it goes through the same limits.
    if (typed !== undefined) return enterCode(c, typed);
    return codeForm(c);
  });

  app.post('/device', async (c) => {
    // A body that cannot be read never gets here: web/pages.ts readableForms answers it 400.
    const form = await c.req.parseBody();
    if (!csrfValid(deps, c, form.csrf, 'device-code')) return formExpired(c);
    return enterCode(c, field(form, 'user_code'));
  });

  app.get('/device/continue', async (c) => {
    const userCode = ticketed(c, c.req.query());
    if (!userCode) return lostTicket(c);
    const code = await pendingCode(c, userCode);
    if (code instanceof Response) return code;
    const me = await signedIn(deps, c);
    if (!me) return loginPage(c, userCode);
    const request = await describeRequest(code, userCode);
    if (!request) return expiredPage(c, 'expired');
    if (needsFreshSignIn(request, me, deps.now())) return loginPage(c, userCode, { again: true, email: me.user.email });
    return confirmPage(c, request, me);
  });

  app.post('/device/login', async (c) => {
    const form = await c.req.parseBody();
    const typed = normalizeUserCode(field(form, 'user_code'));
    if (typed && !csrfValid(deps, c, form.csrf, `device-login:${typed}`)) return formExpired(c);
    const userCode = ticketed(c, form);
    if (!userCode) return lostTicket(c);
    const ip = clientIp(deps, c);
    const email = field(form, 'email');
    const check = await checkPassword(deps, email, field(form, 'password'), ip);
    if (check.kind === 'locked') {
      c.header('retry-after', String(check.retryAfter));
      return loginPage(c, userCode, { error: `Too many failed attempts. Try again in ${plainWait(check.retryAfter)}.`, email, status: 429 });
    }
    if (check.kind === 'wrong') return loginPage(c, userCode, { error: 'Wrong e-mail or password.', email, status: 401 });
    const { value } = await deps.sessions.create(check.user, { amr: ['pwd'], ip, userAgent: c.req.header('user-agent') ?? null });
    setSessionCookie(c, value, deps.sessions.ttl);
    return c.redirect(continueUrl(c, userCode), 303);
  });

  app.post('/device/confirm', async (c) => {
    const form = await c.req.parseBody({ all: true });
    const typed = normalizeUserCode(field(form, 'user_code'));
    if (typed && !csrfValid(deps, c, form.csrf, `device-confirm:${typed}`)) return formExpired(c);
    const userCode = ticketed(c, { user_code: form.user_code, ticket: form.ticket });
    if (!userCode) return lostTicket(c);
    const me = await signedIn(deps, c);
    if (!me) return c.redirect(continueUrl(c, userCode), 303);
    const code = await pendingCode(c, userCode);
    if (code instanceof Response) return code;
    const request = await describeRequest(code, userCode);
    if (!request) return expiredPage(c, 'expired');
    if (form.decision !== 'approve' && form.decision !== 'deny') return confirmPage(c, request, me, 'Choose Approve or Deny.');
    if (form.decision === 'approve' && needsFreshSignIn(request, me, deps.now())) return c.redirect(continueUrl(c, userCode), 303);
    const choices = await orgChoices(deps.store, me.user.id, request.client.id);
    const org = pickOrg(choices.offered, form.org);
    if (form.decision === 'approve' && !org) return confirmPage(c, request, me, 'Choose one of the organizations offered.');
    // Exactly one decision per code, even when two arrive together.
    if (!(await takeDecision(deps.store, deps.pepper, userCode, deps.now()))) return expiredPage(c, 'used');

    if (form.decision !== 'approve' || !org) {
      Object.assign(code, { error: 'access_denied', errorDescription: 'The user denied the request.' });
      await code.save();
      deps.log.info({ event: 'device.denied', user: me.user.id, client: code.clientId }, 'device request denied');
      return resultPage(c, 'denied', request.client.name);
    }

    const ticked = new Set(([] as unknown[]).concat(form.grant ?? []).filter((v): v is string => typeof v === 'string'));
    const allowed = request.resource ? new Set((await tokenPermissions(deps.store, me.user.id, org.id, request.resource))?.allowedScopes ?? []) : new Set<string>();
    const granted = request.resourceScopes.filter((s) => ticked.has(s) && allowed.has(s));
    const refused = request.resourceScopes.filter((s) => !granted.includes(s));

    const provider = deps.provider();
    const grant = new provider.Grant({ accountId: me.user.id, clientId: request.client.id });
    if (request.oidcScopes.length) grant.addOIDCScope(request.oidcScopes.join(' '));
    if (request.resource) {
      if (granted.length) grant.addResourceScope(request.resource.url, granted.join(' '));
      if (refused.length) grant.rejectResourceScope(request.resource.url, refused.join(' '));
    }
    const grantId = await grant.save();
    await bindGrantToOrg(deps.store, { grantId, userId: me.user.id, clientId: request.client.id, orgId: org.id }, deps.now());
    // As the engine's own device flow marks an approved code (lib/actions/authorization/device.js).
    Object.assign(code, {
      accountId: me.user.id,
      acr: ACR_PASSWORD,
      amr: me.session.amr,
      authTime: me.session.authTime,
      grantId,
      scope: [...request.oidcScopes, ...granted].join(' '),
      ...(request.resource ? { resource: request.resource.url } : {}),
    });
    await code.save();
    deps.log.info({ event: 'device.approved', user: me.user.id, client: code.clientId, grant: grantId, org: org.id }, 'device request approved');
    return resultPage(c, 'approved', request.client.name);
  });

  function resultPage(c: WebContext, result: 'approved' | 'denied', clientName: string) {
    const body =
      result === 'approved'
        ? html`<h1>Device connected</h1><p>${clientName} can now act for you. You can return to your device.</p>`
        : html`<h1>Request denied</h1><p>${clientName} was not connected. You can return to your device.</p>`;
    return c.html(page({ title: result === 'approved' ? 'Device connected' : 'Request denied', base, id: `device-${result}`, body }));
  }

  return app;
}

/**
 * A step-up scope (authz/step-up.ts) is put in a token only when the sign-in behind it is recent:
 * approving it from an older session would hand the device a token without it, and the device
 * would be sent back here in a loop. So the password is asked for again first, as the consent
 * flow does.
 */
function needsFreshSignIn(request: DeviceRequest, me: SignedIn, now: number): boolean {
  const { resource } = request;
  if (!resource?.stepUpScope || resource.stepUpMaxAge === undefined || !request.resourceScopes.includes(resource.stepUpScope)) return false;
  return now - me.session.authTime > resource.stepUpMaxAge;
}

function orgPicker(orgs: MemberOrg[]): Html {
  return html`<fieldset class="orgs"><legend>Act for which organization?</legend>
${orgs.map((org, i) => html`<div><label><input type="radio" name="org" value="${org.id}"${i === 0 ? html` checked` : ''}> ${org.name}</label></div>`)}
</fieldset>`;
}

/** The org the user chose: one of those offered; with a single offer, that one. */
function pickOrg(offered: MemberOrg[], chosen: unknown): MemberOrg | undefined {
  if (offered.length === 1 && (chosen === undefined || chosen === offered[0]!.id)) return offered[0];
  return typeof chosen === 'string' ? offered.find((org) => org.id === chosen) : undefined;
}

function plainWait(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
