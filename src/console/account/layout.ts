/**
 * What every signed-in page shares: the navigation, the page frame, the "who is signed in" gate,
 * notices after a form (Post/Redirect/Get), times, and the error pages. Markup carries stable
 * hooks (`data-testid`, `data-code`) for tests and scripts; the words may change.
 */
import type { Org } from '../../store/orgs.ts';
import { html, page, type Html } from '../../web/html.ts';
import { csrfToken, csrfValid, signedIn, type WebContext, type WebDeps } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import type { OrgRole } from '../../core/roles.ts';

export type AccountSection = 'profile' | 'password' | 'mfa' | 'sessions' | 'apps' | 'keys' | 'activity';

const SECTIONS: { id: AccountSection; path: string; label: string }[] = [
  { id: 'profile', path: '/account', label: 'Profile' },
  { id: 'password', path: '/account/password', label: 'Password' },
  { id: 'mfa', path: '/account/mfa', label: 'Two-step sign-in' },
  { id: 'sessions', path: '/account/sessions', label: 'Sign-in sessions' },
  { id: 'apps', path: '/account/apps', label: 'Connected apps' },
  { id: 'keys', path: '/account/keys', label: 'API keys' },
  { id: 'activity', path: '/account/activity', label: 'Activity' },
];

/** The navigation of a signed-in person: their account, the orgs they administer, sign out. */
export function accountNav(deps: WebDeps, c: WebContext, active: string | undefined, orgs: (Org & { role: OrgRole })[], isAdmin = false): Html {
  const base = deps.base;
  const managed = orgs.filter((o) => o.role === 'owner' || o.role === 'admin');
  return html`<nav class="nav" aria-label="Your account" data-testid="account-nav">
<a href="${base}/"${active === 'home' ? html` aria-current="page"` : ''}>Home</a>
${SECTIONS.map((s) => html`<a href="${base}${s.path}"${active === s.id ? html` aria-current="page"` : ''}>${s.label}</a>`)}
${managed.map((o) => html`<a href="${base}/orgs/${o.slug}/members" data-testid="nav-org"${active === `org:${o.slug}` ? html` aria-current="page"` : ''}>${o.name}</a>`)}
${isAdmin ? html`<a href="${base}/server" data-testid="nav-server"${active === 'server' ? html` aria-current="page"` : ''}>Server</a>` : ''}
<form method="post" action="${base}/logout" class="inline">${csrfField(deps, c, 'logout')}<button type="submit" class="link" data-testid="sign-out">Sign out</button></form>
</nav>`;
}

export interface SignedInPage {
  title: string;
  /** Which navigation entry is current: an account section, `home`, or `org:<slug>`. */
  active?: string;
  body: Html;
}

/** A page for a signed-in person: the navigation, then the body, in the wide card. */
export async function signedInPage(deps: WebDeps, c: WebContext, me: SignedIn, { title, active, body }: SignedInPage): Promise<string> {
  const orgs = await deps.store.orgs.forUser(me.user.id);
  return page({ title, base: deps.base, wide: true, body: html`${accountNav(deps, c, active, orgs, me.user.isAdmin)}${body}` });
}

/** The signed-in person, or a redirect to the sign-in page that comes back here afterwards. */
export async function requireSignedIn(deps: WebDeps, c: WebContext): Promise<SignedIn | Response> {
  const me = await signedIn(deps, c);
  if (me) return me;
  const here = new URL(c.req.url);
  return c.redirect(`${deps.base}/login?next=${encodeURIComponent(here.pathname + here.search)}`, 303);
}

/** A notice after a form, from `?done=<code>` (Post/Redirect/Get): a fixed text per code, never the query echoed. */
export function notice(c: WebContext, texts: Record<string, string>): Html | '' {
  const code = c.req.query('done');
  const text = code ? texts[code] : undefined;
  return text ? html`<p class="notice" role="status" data-testid="notice" data-code="${code}">${text}</p>` : '';
}

/** A form problem shown above the form. */
export function problem(code: string | undefined, text: string | undefined): Html | '' {
  return code && text ? html`<p class="error" role="alert" data-testid="problem" data-code="${code}">${text}</p>` : '';
}

/** Epoch seconds as a readable UTC time, machine-readable in `datetime`. */
export function when(at: number | null | undefined, never = 'never'): Html {
  if (!at) return html`<span class="muted">${never}</span>`;
  const iso = new Date(at * 1000).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

export function errorPage(deps: WebDeps, c: WebContext, status: 400 | 403 | 404 | 409 | 410 | 429, code: string, title: string, text: string, details?: Html): Response {
  return c.html(page({ title, base: deps.base, body: html`<h1 data-testid="error" data-code="${code}">${title}</h1><p>${text}</p>${details ?? ''}<p><a href="${deps.base}/">Home</a></p>` }), status);
}

export const notFound = (deps: WebDeps, c: WebContext) => errorPage(deps, c, 404, 'not_found', 'Not found', 'There is nothing here, or it is not yours to see.');

export const formExpired = (deps: WebDeps, c: WebContext) =>
  errorPage(deps, c, 403, 'csrf_failed', 'This form has expired', 'Go back, reload the page and try again.');

/** A hidden CSRF field for a form of `purpose`. */
export function csrfField(deps: WebDeps, c: WebContext, purpose: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrfToken(deps, c, purpose)}">`;
}

/** A form post by a signed-in person: who, and the fields — or the answer already due (sign in, expired form). */
export async function signedInForm(deps: WebDeps, c: WebContext, purpose: string): Promise<{ me: SignedIn; form: Record<string, string | File> } | Response> {
  const me = await requireSignedIn(deps, c);
  if (me instanceof Response) return me;
  const form = await c.req.parseBody();
  if (!csrfValid(deps, c, form.csrf, purpose)) return formExpired(deps, c);
  return { me, form };
}
