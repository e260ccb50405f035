/**
 * The signed-in person's own pages: profile, password (and reset by link), two-step sign-in and
 * passkeys (and the second step of a sign-in: ../second-factor-page.ts, ../passkey-sign-in.ts), sign-in sessions,
 * connected apps, API keys, their own activity (the audit records about them). Each file adds its routes; all forms carry a CSRF token.
 */
import { Hono } from 'hono';
import type { Mailer } from '../../identity/mailer.ts';
import type { WebDeps, WebEnv } from '../../web/pages.ts';
import { activityRoutes } from './activity.ts';
import { appsRoutes } from './connected-apps.ts';
import { forgotPasswordRoutes } from './forgot-password.ts';
import { passwordChangeRoutes } from './password-change.ts';
import { passwordResetRoutes } from './password-reset.ts';
import { keyRoutes } from './keys.ts';
import { mfaRoutes } from './mfa.ts';
import { passkeyAccountRoutes } from './passkeys.ts';
import { passkeySignInRoutes } from '../passkey-sign-in.ts';
import { secondFactorRoutes } from '../second-factor-page.ts';
import { profileRoutes } from './profile.ts';
import { sessionRoutes } from './sessions.ts';

export function accountPages(deps: WebDeps & { mailer?: Mailer }): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  profileRoutes(app, deps);
  passwordChangeRoutes(app, deps);
  mfaRoutes(app, deps);
  passkeyAccountRoutes(app, deps);
  secondFactorRoutes(app, deps);
  passkeySignInRoutes(app, deps);
  passwordResetRoutes(app, deps);
  forgotPasswordRoutes(app, deps);
  sessionRoutes(app, deps);
  appsRoutes(app, deps);
  keyRoutes(app, deps);
  activityRoutes(app, deps);
  return app;
}
