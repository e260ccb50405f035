/**
 * Single sign-on through a company's OpenID Connect provider: `GET /sso/<id>/start` sends the
 * browser to the IdP, `GET /sso/<id>/callback` signs it in here and sends it back where it was
 * (the authorization interaction, the console, the device page, an invitation).
 *
 * The login transaction (state, nonce, PKCE verifier, connection, where to return) is sealed and
 * kept one-time in the store under the state's keyed hash, so a replayed state finds nothing; it
 * is also bound to this browser by a random cookie (only its hash is in the transaction), so a
 * callback the browser did not start — login CSRF (RFC 6749 §10.12) — is refused.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { constantTimeEqual, keyedHash, open, randomToken, seal, type SecretKey } from '../core/crypto.ts';
import { browserOrigin, type ConnectionRegistry, type SamlConnection, type SsoConnection } from '../core/identity-providers.ts';
import type { User } from '../store/users.ts';
import { ssoConnections } from '../identity/connection-directory.ts';
import { PortcullisError, statusFor, type ErrorCode } from '../core/errors.ts';
import { ssoAccount } from '../identity/sso-accounts.ts';
import { keepUpstreamCredential } from '../identity/sso-recheck.ts';
import { html, page, type Html } from './html.ts';
import { clientIp, contentSecurityPolicy, setSessionCookie, type WebContext, type WebDeps, type WebEnv } from './pages.ts';
import { recordIdpReauthentication } from './sso-step-up.ts';
import { credentialOf, RelyingParties, SsoCallbackError, type LoginChecks } from './sso-relying-party.ts';

const BINDING_COOKIE = '__Host-pc_sso';
const TRANSACTION_KIND = 'sso-login';
const SEAL_CONTEXT = 'portcullis/sso-login-transaction/v1';
/** Long enough to sign in at the IdP (and maybe reset a password there), short enough to be useless later. */
const TRANSACTION_TTL = 15 * 60;

interface LoginTransaction extends LoginChecks {
  connectionId: string;
  returnTo: string;
  /** Keyed hash of this browser's binding cookie. */
  browser: string;
}

export interface SsoDeps extends WebDeps {
  /** Seals login transactions (the data key). */
  dataKey: SecretKey;
  relyingParties: RelyingParties;
  /** Starts a SAML connection's sign-in (web/sso-saml-routes.ts): the AuthnRequest, by redirect. */
  samlStart?: (c: WebContext, connection: SamlConnection, returnTo: string, stepUp?: { maxAge: number }) => Promise<Response>;
}

/**
 * The connections now: the configured ones and every organization's own, kept current in the
 * background by identity/connection-directory.ts (an owner's change applies without a restart).
 */
export function connections(deps: Pick<WebDeps, 'config'>): ConnectionRegistry {
  return ssoConnections(deps.config);
}

/**
 * Where the IdP may send the browser back to: a path on this server only (never another origin,
 * never `//host` or `/\host`, which browsers read as another origin) — no open redirect.
 */
export function safeReturnTo(deps: Pick<WebDeps, 'config'>, raw: string): string | undefined {
  if (!/^\/(?![/\\])[\x21-\x7e]*$/.test(raw)) return undefined;
  const origin = new URL(deps.config.publicUrl).origin;
  const url = URL.parse(raw, origin);
  return url && url.origin === origin ? `${url.pathname}${url.search}` : undefined;
}

/** The start of a sign-in through `connection` that ends at `returnTo` (a local path). */
export function ssoStartPath(deps: Pick<WebDeps, 'base'>, connection: SsoConnection, returnTo: string, loginHint?: string, stepUp?: { maxAge: number; mfa: boolean }): string {
  const query = new URLSearchParams({ return_to: returnTo });
  if (loginHint) query.set('login_hint', loginHint);
  // A step-up (authz/interaction/step-up-sign-in.ts): a fresh sign-in at the IdP. Anyone may ask for
  // one in a link; it only makes the sign-in stricter.
  if (stepUp) query.set('max_age', String(stepUp.maxAge));
  if (stepUp?.mfa) query.set('mfa', '1');
  return `${deps.base}/sso/${connection.id}/start?${query}`;
}

/**
 * Home-realm discovery for a sign-in form: the connection that owns the typed address's domain,
 * when the person left the password empty (e-mail first). With a password typed, the password
 * is checked (a break-glass owner's way in; `requireSso` refuses everyone else's).
 */
export function homeRealm(deps: Pick<WebDeps, 'config'>, email: string, password: string): SsoConnection | undefined {
  return password ? undefined : connections(deps).forEmail(email.trim().toLowerCase());
}

/** "Continue with <name>" buttons of the public connections, returning to `returnTo`. */
export function ssoButtons(deps: Pick<WebDeps, 'config' | 'base'>, returnTo: string): Html | '' {
  const shown = connections(deps).publicOnes();
  if (shown.length === 0) return '';
  return html`<div class="sso-buttons">${shown.map((c) => html`<p><a class="button" href="${ssoStartPath(deps, c, returnTo)}">Continue with ${c.name}</a></p>`)}</div>`;
}

/** Whether any connection is configured (the form then lets the password be left empty). */
export function ssoConfigured(deps: Pick<WebDeps, 'config'>): boolean {
  return connections(deps).all().length > 0;
}

/**
 * The page for a refused SSO step: what happened (the error's message, written for people), and
 * its stable code in `data-code`; the status is the code's, from core/errors.ts's one table.
 */
export function ssoRefusalPage(c: WebContext, deps: Pick<WebDeps, 'base'>, err: PortcullisError) {
  return c.html(
    page({
      title: 'Sign-in refused',
      base: deps.base,
      body: html`<h1>Single sign-on did not complete</h1><p>${err.message}</p><p><a href="${deps.base}/login">Start again</a></p><p class="muted" data-testid="error" data-code="${err.code}">Error code: <code>${err.code}</code></p>`,
    }),
    err.status as 400 | 403 | 404 | 502,
  );
}

/** "Your organization signs in with <name>": the password is refused (`requireSso`). */
export function ssoRequiredPage(c: WebContext, deps: Pick<WebDeps, 'base' | 'config'>, connection: SsoConnection, returnTo: string) {
  return c.html(
    page({
      title: 'Sign in with single sign-on',
      base: deps.base,
      body: html`<h1>Sign in with ${connection.name}</h1><p>Your organization signs its members in through ${connection.name}; passwords are not accepted.</p><p><a class="button" href="${ssoStartPath(deps, connection, returnTo)}">Continue with ${connection.name}</a></p><p class="muted" data-testid="error" data-code="sso_required">Error code: <code>sso_required</code></p>`,
    }),
    statusFor('sso_required') as 403,
  );
}

export function ssoRoutes(deps: SsoDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get('/sso/:id/start', (c) => start(deps, c));
  app.get('/sso/:id/callback', (c) => callback(deps, c));
  return app;
}

async function start(deps: SsoDeps, c: WebContext) {
  const connection = connections(deps).get(c.req.param('id') ?? '');
  if (!connection) return ssoRefusalPage(c, deps, unknownConnection());
  const returnTo = safeReturnTo(deps, c.req.query('return_to') ?? `${deps.base}/`);
  if (!returnTo) return ssoRefusalPage(c, deps, new PortcullisError('invalid_return_to', 'The page to return to is not on this server.'));
  if (connection.type === 'saml') return deps.samlStart ? deps.samlStart(c, connection, returnTo, stepUpAsked(c)) : ssoRefusalPage(c, deps, unknownConnection());
  const checks = RelyingParties.newChecks();
  const binding = randomToken();
  const stepUp = stepUpAsked(c);
  if (stepUp) checks.maxAge = stepUp.maxAge;
  const transaction: LoginTransaction = { ...checks, connectionId: connection.id, returnTo, browser: keyedHash(deps.pepper, `sso-browser:${binding}`) };
  let target: URL;
  try {
    target = await deps.relyingParties.authorizationUrl(connection, checks, c.req.query('login_hint') || undefined, stepUp);
  } catch (err) {
    deps.log.warn({ err, connection: connection.id }, 'sso: identity provider discovery failed');
    return ssoRefusalPage(c, deps, new PortcullisError('idp_unavailable', `${connection.name} cannot be reached right now. Try again in a moment.`));
  }
  await deps.store.oneTime.put(TRANSACTION_KIND, stateKey(deps, checks.state), seal(deps.dataKey, JSON.stringify(transaction), SEAL_CONTEXT), deps.now() + TRANSACTION_TTL);
  // Lax: the IdP's redirect back is a cross-site top-level GET, which Lax cookies accompany.
  setCookie(c, BINDING_COOKIE, binding, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge: TRANSACTION_TTL });
  return c.redirect(target.href, 303);
}

/** A step-up's `max_age` (whole seconds, at most a day) and `mfa` from the start link, if any. */
function stepUpAsked(c: WebContext): { maxAge: number; mfa: boolean } | undefined {
  const raw = c.req.query('max_age');
  if (!raw || !/^\d{1,5}$/.test(raw) || Number(raw) > 86_400) return undefined;
  return { maxAge: Number(raw), mfa: c.req.query('mfa') === '1' };
}

const stateKey = (deps: SsoDeps, state: string) => keyedHash(deps.pepper, `sso-state:${state}`);

/** The transaction this callback belongs to, taken (single use), and bound to this browser. */
async function takeTransaction(deps: SsoDeps, c: WebContext): Promise<LoginTransaction | { refused: string }> {
  const state = c.req.query('state');
  if (!state) return { refused: 'state_missing' };
  const sealed = await deps.store.oneTime.consume(TRANSACTION_KIND, stateKey(deps, state), deps.now());
  if (!sealed) return { refused: 'state_unknown' };
  const transaction = JSON.parse(open(deps.dataKey, sealed, SEAL_CONTEXT)) as LoginTransaction;
  const binding = getCookie(c, BINDING_COOKIE) ?? '';
  if (!binding || !constantTimeEqual(keyedHash(deps.pepper, `sso-browser:${binding}`), transaction.browser)) return { refused: 'login_csrf' };
  if (transaction.connectionId !== c.req.param('id')) return { refused: 'connection_mismatch' };
  return transaction;
}

const REFUSALS: Record<string, string> = {
  state_missing: 'The identity provider answered without the sign-in it belongs to.',
  state_unknown: 'This sign-in has already been used or has expired. Start again.',
  login_csrf: 'This sign-in was not started in this browser.',
  unverified_email: 'Your identity provider did not confirm your e-mail address.',
  email_domain: 'Your e-mail address is not in a domain this identity provider may sign in.',
  account_exists: 'An account with this e-mail address exists already: sign in as you did before. An administrator can let this provider sign it in by giving the connection its domain.',
  disabled: 'Your account is disabled.',
  github_unverified_email: 'GitHub has not verified your primary e-mail address. Verify it in your GitHub e-mail settings, then start again.',
  not_member: 'Your GitHub account is not an active member of the organization or team this sign-in requires.',
  idp_unavailable: 'The identity provider cannot be reached right now. Try again in a moment.',
};

const unknownConnection = () => new PortcullisError('unknown_connection', 'This single sign-on connection does not exist.');

/**
 * A refused SSO step as an error: `reason` — the audit record's, stable and documented — is its
 * rule; the code says what kind of refusal it is (an IdP out of reach, an account this server
 * will not sign in, else a failed check of the IdP's answer).
 */
export function ssoRefusal(connection: SsoConnection, reason: string, code: ErrorCode = reason === 'idp_unavailable' ? 'idp_unavailable' : 'sso_refused'): PortcullisError {
  return new PortcullisError(code, REFUSALS[reason] ?? `${connection.name} did not sign you in (${reason}).`, { rule: reason });
}

async function callback(deps: SsoDeps, c: WebContext) {
  const connection = connections(deps).get(c.req.param('id') ?? '');
  // A SAML connection answers at its ACS (web/sso-saml-routes.ts), never here.
  if (!connection || connection.type === 'saml') return ssoRefusalPage(c, deps, unknownConnection());
  const ip = clientIp(deps, c);
  const refuse = (reason: string, code?: ErrorCode) => {
    deps.audit.record({ kind: 'signin.failed', actor: 'anonymous', reason, details: { connection: connection.id, ip } });
    return ssoRefusalPage(c, deps, ssoRefusal(connection, reason, code));
  };
  const transaction = await takeTransaction(deps, c);
  if ('refused' in transaction) return refuse(transaction.refused);
  const url = new URL(deps.relyingParties.redirectUri(connection));
  url.search = new URL(c.req.url).search;
  let claims;
  try {
    claims = await deps.relyingParties.complete(connection, url, transaction);
  } catch (err) {
    if (!(err instanceof SsoCallbackError)) throw err;
    deps.log.info({ err: err.cause, connection: connection.id }, 'sso: callback refused');
    return refuse(err.reason);
  }
  const account = await ssoAccount(deps, connection, claims);
  // The IdP's refresh token (or GitHub's token), to re-check the account at every refresh (identity/sso-recheck.ts).
  const credential = account.kind === 'ok' ? credentialOf(claims) : undefined;
  if (credential) await keepUpstreamCredential(deps, { issuer: claims.iss, subject: claims.sub }, credential);
  if (account.kind === 'refused') return refuse(account.reason, 'sso_account_refused');
  const amr = connection.type === 'oidc' && connection.trustAmr && Array.isArray(claims.amr) && claims.amr.every((m) => typeof m === 'string') && claims.amr.length > 0 ? (claims.amr as string[]) : ['ext'];
  // Only an OpenID provider's answer is checked against the max age asked for (sso-relying-party.ts).
  return startSsoSession(deps, c, connection, account, amr, transaction.returnTo, connection.type === 'oidc' ? transaction.maxAge : undefined);
}

/**
 * The end every SSO sign-in shares (the OIDC and GitHub callback, SAML's web/sso-saml-routes.ts):
 * a browser session for the account, the binding cookie cleared, the audit record, and back to
 * where the sign-in began.
 */
export async function startSsoSession(
  deps: WebDeps,
  c: WebContext,
  connection: SsoConnection,
  account: { user: User; orgId: string },
  amr: string[],
  returnTo: string,
  idpMaxAge?: number,
) {
  const ip = clientIp(deps, c);
  const { value, record } = await deps.sessions.create(account.user, { amr, ip, userAgent: c.req.header('user-agent') ?? null, ssoConnection: connection.id });
  // A step-up's sign-in (the IdP asked for prompt=login and max_age): this session proves a recent one.
  if (idpMaxAge !== undefined) await recordIdpReauthentication(deps, record, idpMaxAge);
  setSessionCookie(c, value, deps.sessions.ttl);
  setCookie(c, BINDING_COOKIE, '', { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge: 0 });
  deps.audit.record({ kind: 'signin.succeeded', orgId: account.orgId, actor: account.user.id, subject: account.user.id, reason: 'sso', details: { connection: connection.id, ip } });
  return c.redirect(returnTo, 303);
}

/**
 * A sign-in form that goes to the IdP (home-realm discovery) ends in a redirect there, and
 * browsers apply form-action to the whole redirect chain (CSP3 §6.4.1): the IdPs' origins join it.
 */
export function ssoFormTargets(deps: Pick<WebDeps, 'config'>): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    await next();
    // Per response: organizations add and remove connections while the server runs.
    const origins = [...new Set(connections(deps).all().map(browserOrigin))];
    if (origins.length === 0) return;
    const csp = c.res.headers.get('content-security-policy') ?? contentSecurityPolicy();
    c.res.headers.set('content-security-policy', csp.replace("form-action 'self'", `form-action 'self' ${origins.join(' ')}`));
  };
}

/** The sign-in form's SSO part (web/sign-in-form.ts) for a page returning to `returnTo`. */
export function ssoFormOptions(deps: Pick<WebDeps, 'config' | 'base'>, returnTo: string): { buttons: Html | ''; emailFirst: boolean } | undefined {
  return ssoConfigured(deps) ? { buttons: ssoButtons(deps, returnTo), emailFirst: true } : undefined;
}
