/**
 * Our own pages: first-run setup (one-time link), the home page (who am I, how to connect),
 * sign-in and sign-out of Portcullis itself.
 */
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { hashPassword, keyedHash, type SecretKey } from '../core/crypto.ts';
import { checkPassword } from '../identity/password-login.ts';
import { PortcullisError } from '../core/errors.ts';
import { signedInPage } from './account/layout.ts';
import { html, page, STYLESHEET } from '../web/html.ts';
import { SESSION_COOKIE } from '../web/session.ts';
import { clearSessionCookie, clientIp, csrfToken, csrfValid, field, setSessionCookie, signedIn, type WebContext, type WebDeps, type WebEnv } from '../web/pages.ts';

export const SETUP_KIND = 'admin-setup';
/** The organization first-run setup (and `admin create-user` without --org) puts people in. */
export const DEFAULT_ORG_SLUG = 'default';
export const MIN_PASSWORD_LENGTH = 10;

export function setupKey(pepper: SecretKey, token: string): string {
  return keyedHash(pepper, `setup:${token}`);
}

export function passwordProblem(password: string, confirm: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (password.length > 1024) return 'That password is too long.';
  if (password !== confirm) return 'The two passwords differ.';
  return undefined;
}

export function consolePages(deps: WebDeps & { pepper: SecretKey; mcpUrl: string }): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const base = deps.base;

  app.get('/assets/portcullis.css', (c) =>
    c.body(STYLESHEET, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }),
  );

  app.get('/healthz', async (c) => {
    await deps.store.ping();
    return c.json({ status: 'ok' });
  });

  app.get('/', async (c) => {
    const me = await signedIn(deps, c);
    const connect = html`<h2>Connect an MCP client</h2>
<p>Add this server URL to your MCP client (Claude, VS Code, Cursor, ChatGPT…):</p>
<p><code>${deps.mcpUrl}</code></p>
<p class="muted">The client will open this site to let you sign in and approve what it may do.</p>`;
    if (!me) {
      const users = await deps.store.users.count();
      const body = users === 0
        ? html`<h1>Welcome to Portcullis</h1><p>Finish setting up with the one-time link printed in the terminal where Portcullis runs.</p>${connect}`
        : html`<h1>Portcullis</h1><p><a href="${base}/login">Sign in</a> to see your account.</p>${connect}`;
      return c.html(page({ title: 'Portcullis', base, body }));
    }
    // The navigation (account pages, orgs you manage, sign out) comes with every signed-in page.
    return c.html(
      await signedInPage(deps, c, me, {
        title: 'Your account',
        active: 'home',
        body: html`<h1>Signed in as ${me.user.email}</h1>
<p><a href="${base}/account" data-testid="account-link">Your account</a>: profile, password, sign-in sessions, connected apps, API keys.</p>
${connect}`,
      }),
    );
  });

  // ---- first-run setup: a one-time link creates the first administrator ----
  const setupForm = (c: WebContext, token: string, error?: string, values: { email?: string; name?: string } = {}) =>
    page({
      title: 'Set up Portcullis',
      base,
      body: html`<h1>Create the administrator account</h1>
<p>This link works once. The account you create here manages this Portcullis server.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="${base}/setup">
<input type="hidden" name="csrf" value="${csrfToken(deps, c, 'setup')}">
<input type="hidden" name="token" value="${token}">
<label for="name">Name</label><input id="name" name="name" type="text" autocomplete="name" value="${values.name ?? ''}">
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required value="${values.email ?? ''}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" required>
<label for="confirm">Repeat the password</label><input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<div class="actions"><button class="primary" type="submit">Create account</button></div>
</form>`,
    });

  const setupGone = (c: WebContext) =>
    c.html(
      page({ title: 'Link used', base, body: html`<h1>This setup link is no longer valid</h1><p>It was used already or it expired. Restart Portcullis to print a new one while no account exists, or run <code>portcullis admin create-user</code>.</p>` }),
      410,
    );

  app.get('/setup', async (c) => {
    const token = c.req.query('token') ?? '';
    if ((await deps.store.users.count()) > 0 || !/^[\w-]{20,}$/.test(token)) return setupGone(c);
    return c.html(setupForm(c, token));
  });

  app.post('/setup', async (c) => {
    const form = await c.req.parseBody();
    const token = field(form, 'token');
    if (!csrfValid(deps, c, form.csrf, 'setup')) return c.html(setupForm(c, token, 'The form expired; please try again.'), 403);
    const email = field(form, 'email').trim();
    const name = field(form, 'name').trim().slice(0, 200) || null;
    const problem = !/^[^\s@]+@[^\s@]+$/.test(email) ? 'Enter a valid e-mail address.' : passwordProblem(field(form, 'password'), field(form, 'confirm'));
    if (problem) return c.html(setupForm(c, token, problem, { email, name: name ?? '' }), 400);
    const passwordHash = await hashPassword(field(form, 'password'));
    // Consume first (one statement): two submissions of the same link cannot both create an admin.
    const claimed = await deps.store.oneTime.consume(SETUP_KIND, setupKey(deps.pepper, token), deps.now());
    if (!claimed || (await deps.store.users.count()) > 0) return setupGone(c);
    let user;
    try {
      user = await deps.store.users.create({ email, name, passwordHash, isAdmin: true });
    } catch (err) {
      if (err instanceof PortcullisError && err.code === 'conflict') return setupGone(c);
      throw err;
    }
    // Every token acts for an organization (docs/design/identity.md): the first one is "Default", owned by the administrator.
    const org = (await deps.store.orgs.bySlug(DEFAULT_ORG_SLUG)) ?? (await deps.store.orgs.create({ slug: DEFAULT_ORG_SLUG, name: 'Default' }));
    await deps.store.orgs.addMember(org.id, user.id, 'owner', deps.now());
    const session = await deps.sessions.create(user, { amr: ['pwd'], ip: clientIp(deps, c), userAgent: c.req.header('user-agent') ?? null });
    setSessionCookie(c, session.value, deps.sessions.ttl);
    deps.log.info({ event: 'admin.created', user: user.id, org: org.id }, 'administrator created through the setup link');
    return c.redirect(`${base}/`, 303);
  });

  // ---- sign in / sign out of Portcullis itself ----
  // Where to go after signing in: only a path on this site (never `//host` or a scheme: no open redirect).
  const safeNext = (next: string): string => (/^\/(?![\/\\])[^\\\s]*$/.test(next) && next.length < 500 ? next : `${base}/`);

  const loginPage = (c: WebContext, error?: string, next = ''): string =>
    page({
      title: 'Sign in',
      base,
      body: html`<h1>Sign in to Portcullis</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="${base}/login">
<input type="hidden" name="csrf" value="${csrfToken(deps, c, 'signin')}">
${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>
<p class="muted"><a href="${base}/forgot-password" data-testid="forgot-password">Forgot password?</a></p>`,
    });

  app.get('/login', (c) => c.html(loginPage(c, undefined, c.req.query('next') ?? '')));

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const next = field(form, 'next');
    if (!csrfValid(deps, c, form.csrf, 'signin')) return c.html(loginPage(c, 'The form expired; please try again.', next), 403);
    const ip = clientIp(deps, c);
    const check = await checkPassword(deps, field(form, 'email'), field(form, 'password'), ip);
    if (check.kind === 'locked') {
      c.header('retry-after', String(check.retryAfter));
      return c.html(loginPage(c, `Too many failed attempts. Try again in ${check.retryAfter} seconds.`, next), 429);
    }
    if (check.kind === 'wrong') return c.html(loginPage(c, 'Wrong e-mail or password.', next), 401);
    const user = check.user;
    const session = await deps.sessions.create(user, { amr: ['pwd'], ip, userAgent: c.req.header('user-agent') ?? null });
    setSessionCookie(c, session.value, deps.sessions.ttl);
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

  return app;
}

/** Signing out of Portcullis also ends the engine's single-sign-on session. */
async function endEngineSession(deps: WebDeps, c: WebContext): Promise<void> {
  const provider = deps.provider();
  const ctx = provider.createContext(c.env.incoming, c.env.outgoing);
  const session = await provider.Session.get(ctx as never);
  if (session.accountId) await session.destroy();
  c.header('set-cookie', `${provider.cookieName('session')}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`, { append: true });
}

