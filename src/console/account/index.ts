/**
 * The signed-in person's own pages: profile, password (and reset by link), sign-in sessions,
 * connected apps, API keys. Each file adds its routes; all forms carry a CSRF token.
 */
import { Hono } from 'hono';
import type { Mailer } from '../../identity/mailer.ts';
import type { WebDeps, WebEnv } from '../../web/pages.ts';
import { appsRoutes } from './connected-apps.ts';
import { passwordRoutes } from './password.ts';
import { keyRoutes } from './keys.ts';
import { profileRoutes } from './profile.ts';
import { sessionRoutes } from './sessions.ts';

export function accountPages(deps: WebDeps & { mailer?: Mailer }): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  profileRoutes(app, deps);
  passwordRoutes(app, deps);
  sessionRoutes(app, deps);
  appsRoutes(app, deps);
  keyRoutes(app, deps);
  return app;
}
