/**
 * Signing in to Portcullis itself (`/login`, throttled like every password check:
 * identity/password-login.ts) and out (`/logout`, which ends the engine's single-sign-on session too).
 */
import type { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { checkPassword } from '../identity/password-login.ts';
import { html, page } from '../web/html.ts';
import { signInForm } from '../web/sign-in-form.ts';
import { homeRealm, ssoFormOptions, ssoRequiredPage, ssoStartPath } from '../web/sso-routes.ts';
import { SESSION_COOKIE } from '../web/session.ts';
import { passwordSignedIn } from '../web/second-factor.ts';
import { passkeySignInButton } from '../web/passkey-button.ts';
import { clearSessionCookie, clientIp, csrfToken, csrfValid, field, type WebContext, type WebDeps, type WebEnv } from '../web/pages.ts';

export function signInRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const base = deps.base;

  // Where to go after signing in: only a path on this site (never `//host` or a scheme: no open redirect).
  const safeNext = (next: string): string => (/^\/(?![\/\\])[^\\\s]*$/.test(next) && next.length < 500 ? next : `${base}/`);

  const loginPage = (c: WebContext, error?: string, next = ''): string =>
    page({
      title: 'Sign in',
      base,
      body: html`<h1>Sign in to Portcullis</h1>
${signInForm({
  action: `${base}/login`,
  hidden: html`<input type="hidden" name="csrf" value="${csrfToken(deps, c, 'signin')}">${next ? html`<input type="hidden" name="next" value="${next}">` : ''}`,
  error,
  sso: ssoFormOptions(deps, safeNext(next)),
  passkey: passkeySignInButton(deps, c, { next: safeNext(next) }),
  forgot: `${base}/forgot-password`,
})}`,
    });

  app.get('/login', (c) => c.html(loginPage(c, undefined, c.req.query('next') ?? '')));

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const next = field(form, 'next');
    if (!csrfValid(deps, c, form.csrf, 'signin')) return c.html(loginPage(c, 'The form expired; please try again.', next), 403);
    const ip = clientIp(deps, c);
    // E-mail first: an address whose domain a connection owns goes to that IdP (home-realm discovery).
    const realm = homeRealm(deps, field(form, 'email'), field(form, 'password'));
    if (realm) return c.redirect(ssoStartPath(deps, realm, safeNext(next), field(form, 'email')), 303);
    const check = await checkPassword(deps, field(form, 'email'), field(form, 'password'), ip);
    if (check.kind === 'locked') {
      c.header('retry-after', String(check.retryAfter));
      return c.html(loginPage(c, `Too many failed attempts. Try again in ${check.retryAfter} seconds.`, next), 429);
    }
    if (check.kind === 'wrong') return c.html(loginPage(c, 'Wrong e-mail or password.', next), 401);
    if (check.kind === 'sso_required') return ssoRequiredPage(c, deps, check.connection, safeNext(next));
    // A second factor, when the person has one (or must enrol one), before the session (web/second-factor.ts).
    const started = await passwordSignedIn(deps, c, check.user, { next: safeNext(next) });
    if (started instanceof Response) return started;
    return c.redirect(safeNext(next), 303);
  });

  app.post('/logout', async (c) => {
    const form = await c.req.parseBody();
    if (!csrfValid(deps, c, form.csrf, 'logout')) return c.redirect(`${base}/`, 303);
    await deps.sessions.destroy(getCookie(c, SESSION_COOKIE));
    clearSessionCookie(c);
    await endEngineSession(deps, c);
    return c.redirect(`${base}/`, 303);
  });
}

/** Signing out of Portcullis also ends the engine's single-sign-on session. */
async function endEngineSession(deps: WebDeps, c: WebContext): Promise<void> {
  const provider = deps.provider();
  const ctx = provider.createContext(c.env.incoming, c.env.outgoing);
  const session = await provider.Session.get(ctx as never);
  if (session.accountId) await session.destroy();
  c.header('set-cookie', `${provider.cookieName('session')}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`, { append: true });
}

