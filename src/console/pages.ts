/**
 * Our own pages: the stylesheet, the health check, the home page (who am I, how to connect), then
 * first-run setup (setup-page.ts) and signing in and out (sign-in-page.ts).
 */
import { Hono } from 'hono';
import { signedInPage } from './account/layout.ts';
import { html, page, STYLESHEET } from '../web/html.ts';
import { signedIn, type WebDeps, type WebEnv } from '../web/pages.ts';
import { setupRoutes } from './setup-page.ts';
import { signInRoutes } from './sign-in-page.ts';
import { passkeyAssetRoutes } from './passkey-assets.ts';
import { denialReferenceRoutes } from './denial-reference-page.ts';
import { adminHome } from './admin-home.ts';

export function consolePages(deps: WebDeps & { mcpUrl: string }): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const base = deps.base;

  app.get('/assets/portcullis.css', (c) =>
    c.body(STYLESHEET, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }),
  );
  passkeyAssetRoutes(app);

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
${me.user.isAdmin ? await adminHome(deps) : ''}${connect}`,
      }),
    );
  });

  setupRoutes(app, deps);
  signInRoutes(app, deps);
  denialReferenceRoutes(app, deps);
  return app;
}
