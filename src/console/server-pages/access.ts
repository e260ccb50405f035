/**
 * The server administrators' pages (`/server/…`): applications and their tools, OAuth clients, the
 * policy simulator, the token explainer, the connection doctor, signing keys, people and
 * organizations, the effective configuration. Only a server administrator (`users.is_admin`) sees
 * them: anyone else signed in gets 403, and someone signed out goes to the sign-in page first.
 * Every change goes through the same domain services as the admin API (admin-api/), never a copy.
 *
 * Also the section navigation (one labelled `<nav>`), and the page frame these pages share.
 */
import type { Hono } from 'hono';
import { errorPage, formExpired, requireSignedIn, signedInPage } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import type { SignedIn } from '../../web/session.ts';
import { csrfValid, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import type { ApplicationRegistry } from '../../applications/registry.ts';
import type { Application } from '../../core/application.ts';
import type { Mailer } from '../../identity/mailer.ts';
import type { SigningKey } from '../../signing-keys/key-ring.ts';
import type { TokenVerifier } from '../../shared/verify.ts';

/** What the server pages are built from — what the admin API is built from (server/web-app.ts hands both the same). */
export interface ServerPagesDeps extends WebDeps {
  /** The running gateway: its registry (reloaded after each change), and a tool-list refresh. */
  gateway: {
    registry: ApplicationRegistry;
    refreshManifest(app: Application): Promise<void>;
    /** The gateway's own token check for an application (the token explainer, server-pages/tokens.ts). */
    verifierFor?(app: Application): TokenVerifier;
  };
  /** The active token-signing key (the self-test's tokens). */
  signingKey: () => Promise<SigningKey>;
  mailer?: Mailer;
}

export type ServerSection = 'dashboard' | 'applications' | 'clients' | 'simulator' | 'tokens' | 'doctor' | 'keys' | 'people' | 'configuration';

export const SERVER_SECTIONS: { id: ServerSection; path: string; label: string }[] = [
  { id: 'dashboard', path: '/server', label: 'Dashboard' },
  { id: 'applications', path: '/server/applications', label: 'Applications' },
  { id: 'clients', path: '/server/clients', label: 'OAuth clients' },
  { id: 'simulator', path: '/server/simulator', label: 'Policy simulator' },
  { id: 'tokens', path: '/server/tokens', label: 'Token explainer' },
  { id: 'doctor', path: '/server/doctor', label: 'Connection doctor' },
  { id: 'keys', path: '/server/keys', label: 'Signing keys' },
  { id: 'people', path: '/server/people', label: 'People and organizations' },
  { id: 'configuration', path: '/server/configuration', label: 'Configuration' },
];

export function serverPath(deps: WebDeps, section: ServerSection, rest = ''): string {
  return `${deps.base}${SERVER_SECTIONS.find((s) => s.id === section)!.path}${rest}`;
}

/** The signed-in server administrator, or the page to answer with instead (sign in first, or 403). */
export async function serverAccess(deps: WebDeps, c: WebContext): Promise<SignedIn | Response> {
  const me = await requireSignedIn(deps, c);
  if (me instanceof Response) return me;
  if (!me.user.isAdmin) return errorPage(deps, c, 403, 'forbidden', 'Only server administrators', 'These pages are for the people who run this Portcullis server.');
  return me;
}

/** A server page: the account navigation, the server sections (the current one marked), the body. */
export function serverPage(deps: WebDeps, c: WebContext, me: SignedIn, section: ServerSection, body: Html, title?: string): Promise<string> {
  const current = SERVER_SECTIONS.find((s) => s.id === section)!;
  return signedInPage(deps, c, me, {
    title: title ?? `Server · ${current.label}`,
    active: 'server',
    body: html`<h1>${title ?? current.label}</h1>
<nav class="nav" aria-label="Server administration" data-testid="server-nav">${SERVER_SECTIONS.map((s) => html`<a href="${deps.base}${s.path}"${s.id === section ? html` aria-current="page"` : ''}>${s.label}</a>`)}</nav>
${body}`,
  });
}

/** A form post on a server page: a server administrator (checked first), then the CSRF token for `purpose`. */
export async function serverForm(deps: WebDeps, c: WebContext, purpose: string): Promise<{ me: SignedIn; form: Record<string, string | File> } | Response> {
  const me = await serverAccess(deps, c);
  if (me instanceof Response) return me;
  const form = await c.req.parseBody();
  if (!csrfValid(deps, c, form.csrf, purpose)) return formExpired(deps, c);
  return { me, form };
}

/** Mount a set of server routes (each section's module exports one such function). */
export type ServerRoutes = (app: Hono<WebEnv>, deps: ServerPagesDeps) => void;
