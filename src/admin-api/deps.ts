/** What the admin API is built from (server/app.ts hands it in), and what its routes see on each request. */
import type { ApplicationRegistry } from '../applications/registry.ts';
import type { Application } from '../core/application.ts';
import type { Upstream } from '../gateway/upstreams/upstream.ts';
import type { Mailer } from '../identity/mailer.ts';
import type { SigningKey } from '../signing-keys/key-ring.ts';
import type { WebDeps, WebEnv } from '../web/pages.ts';
import type { Org } from '../store/orgs.ts';
import type { OrgRole } from '../core/roles.ts';
import type { AdminPrincipal } from './auth.ts';

export interface AdminApiDeps extends WebDeps {
  /** The running gateway: its registry (reloaded after each change) and its upstream connectors. */
  gateway: {
    registry: ApplicationRegistry;
    upstreamFor(app: Application): Upstream;
    refreshManifest(app: Application): Promise<void>;
  };
  /** The active token-signing key, for the self-test's tokens. */
  signingKey: () => Promise<SigningKey>;
  /** Sends invitations when SMTP is configured (identity/mailer.ts); otherwise the link is returned. */
  mailer?: Mailer;
}

export type AdminEnv = { Bindings: WebEnv['Bindings']; Variables: WebEnv['Variables'] & { admin: AdminPrincipal } };

/** The organization routes' requests: the org named by `:org`, and the caller's role in it (admin-api/route-guards.ts). */
export type OrgEnv = { Bindings: AdminEnv['Bindings']; Variables: AdminEnv['Variables'] & { org: Org; orgRole: OrgRole } };
