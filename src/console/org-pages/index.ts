/**
 * An organization's admin pages, for its owners and admins (`/orgs/<slug>/…`): members,
 * invitations, workspaces and projects, API keys, connected apps, the audit trail, single sign-on
 * (owners), settings (require MFA, the SCIM token). Members get 403, anyone else
 * 404 (org-pages/access.ts). Every change goes through the identity services the admin API uses.
 */
import { Hono } from 'hono';
import type { Mailer } from '../../identity/mailer.ts';
import type { WebDeps, WebEnv } from '../../web/pages.ts';
import { auditRoutes } from './audit.ts';
import { invitationRoutes } from './invitations.ts';
import { accessRequestRoutes } from './requests.ts';
import { clientApprovalRoutes } from './clients.ts';
import { keysAndAppsRoutes } from './keys-apps.ts';
import { memberRoutes } from './members.ts';
import { resourceRoutes } from './resources.ts';
import { settingsRoutes } from './settings.ts';
import { ssoRoutes } from './sso.ts';
import type { ServerPagesDeps } from '../server-pages/access.ts';
import { orgApplicationRoutes } from './applications.ts';
import { orgApplicationToolRoutes } from './application-tools.ts';

export function orgPages(deps: WebDeps & { mailer?: Mailer }): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get('/orgs/:org', (c) => c.redirect(`${deps.base}/orgs/${encodeURIComponent(c.req.param('org'))}/members`, 303));
  memberRoutes(app, deps);
  invitationRoutes(app, deps);
  accessRequestRoutes(app, deps);
  clientApprovalRoutes(app, deps);
  resourceRoutes(app, deps);
  keysAndAppsRoutes(app, deps);
  auditRoutes(app, deps);
  ssoRoutes(app, deps);
  settingsRoutes(app, deps);
  return app;
}

/**
 * The organization's applications (org-pages/applications.ts, application-tools.ts): built from
 * what the server pages are built from (the gateway's registry, the self-test's signing key), so
 * mounted beside them (server/web-app.ts).
 */
export function orgApplicationPages(deps: ServerPagesDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  orgApplicationRoutes(app, deps);
  orgApplicationToolRoutes(app, deps);
  return app;
}
