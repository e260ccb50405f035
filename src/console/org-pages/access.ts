/**
 * Who may see an organization's admin pages (`/orgs/<slug>/…`): its owners and admins. A member
 * gets 403; anyone else — not a member, or no such org — gets 404, the same page whether the
 * org exists or not. Also the org's sub-navigation, and one POST route of an org page (a service
 * refusal becomes its page: console/refusals.ts).
 */
import type { Org } from '../../store/orgs.ts';
import type { AuditRecord } from '../../audit/audit-log.ts';
import { audit } from '../account/audit.ts';
import type { Hono } from 'hono';
import { errorPage, formExpired, notFound, requireSignedIn, signedInPage } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import { refusalPage } from '../refusals.ts';
import { confirmFirst, type Confirmation } from '../confirm.ts';
import type { SignedIn } from '../../web/session.ts';
import { csrfValid, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import type { OrgRole } from '../../core/roles.ts';

export interface OrgAccess {
  me: SignedIn;
  org: Org;
  role: OrgRole;
  /** For identity services: who acts, and their role here. */
  actor: { userId: string; role: OrgRole };
}

export async function orgAccess(deps: WebDeps, c: WebContext): Promise<OrgAccess | Response> {
  const me = await requireSignedIn(deps, c);
  if (me instanceof Response) return me;
  const slug = c.req.param('org') ?? '';
  const org = /^[\w-]{1,100}$/.test(slug) ? await deps.store.orgs.bySlug(slug) : undefined;
  const member = org ? await deps.store.orgs.member(org.id, me.user.id) : undefined;
  if (!org || !member) return notFound(deps, c);
  if (member.role !== 'owner' && member.role !== 'admin') {
    return errorPage(deps, c, 403, 'forbidden', 'Only administrators', `Only owners and admins of ${org.name} manage it.`);
  }
  return { me, org, role: member.role, actor: { userId: me.user.id, role: member.role } };
}

export type OrgSection = 'members' | 'invitations' | 'requests' | 'clients' | 'resources' | 'applications' | 'keys' | 'apps' | 'audit' | 'sso' | 'settings';

const SECTIONS: { id: OrgSection; label: string }[] = [
  { id: 'members', label: 'Members' },
  { id: 'invitations', label: 'Invitations' },
  { id: 'requests', label: 'Access requests' },
  { id: 'clients', label: 'Clients' },
  { id: 'resources', label: 'Workspaces and projects' },
  { id: 'applications', label: 'Applications' },
  { id: 'keys', label: 'API keys' },
  { id: 'apps', label: 'Connected apps' },
  { id: 'audit', label: 'Audit trail' },
  { id: 'sso', label: 'Single sign-on' },
  { id: 'settings', label: 'Settings' },
];

export function orgPath(deps: WebDeps, org: Org, section: OrgSection, rest = ''): string {
  return `${deps.base}/orgs/${org.slug}/${section}${rest}`;
}

export function orgPage(deps: WebDeps, c: WebContext, access: OrgAccess, section: OrgSection, body: Html): Promise<string> {
  const { org } = access;
  return signedInPage(deps, c, access.me, {
    title: `${org.name} · ${SECTIONS.find((s) => s.id === section)!.label}`,
    active: `org:${org.slug}`,
    body: html`<h1>${org.name}</h1>
<nav class="nav" aria-label="${org.name} administration" data-testid="org-nav">${SECTIONS.map((s) => html`<a href="${orgPath(deps, org, s.id)}"${s.id === section ? html` aria-current="page"` : ''}>${s.label}</a>`)}</nav>
${body}`,
  });
}

/** A form post on an org page: owners and admins only (checked first), then the CSRF token for `purpose`. */
export async function orgForm(deps: WebDeps, c: WebContext, purpose: string): Promise<{ access: OrgAccess; form: Record<string, string | File> } | Response> {
  const access = await orgAccess(deps, c);
  if (access instanceof Response) return access;
  const form = await c.req.parseBody();
  if (!csrfValid(deps, c, form.csrf, purpose)) return formExpired(deps, c);
  return { access, form };
}

/** A destructive org action's question (console/confirm.ts); "Cancel" goes back to its section. */
export type Asking = Omit<Confirmation, 'cancel'> | ((form: Record<string, string | File>, access: OrgAccess) => Promise<Omit<Confirmation, 'cancel'>>);

/**
 * One POST route of an org page: `orgForm`, then `act`; a service refusal becomes its page,
 * success is recorded in the audit log and goes back to `section` with `?done=<done>`
 * (Post/Redirect/Get).
 */
export function orgAction(
  app: Hono<WebEnv>,
  deps: WebDeps,
  route: { path: string; purpose: string; section: OrgSection; done: string; confirm?: Asking },
  /** Does the change and says what to record (kind, subject, details); org and actor are added. */
  act: (form: Record<string, string | File>, access: OrgAccess) => Promise<Omit<AuditRecord, 'orgId' | 'actor'>>,
): void {
  app.post(route.path, async (c) => {
    const posted = await orgForm(deps, c, route.purpose);
    if (posted instanceof Response) return posted;
    // A destructive action asks once more first (console/confirm.ts).
    const asking = typeof route.confirm === 'function' ? await route.confirm(posted.form, posted.access) : route.confirm;
    const ask = asking && confirmFirst(deps, c, posted.form, route.purpose, { cancel: orgPath(deps, posted.access.org, route.section), ...asking });
    if (ask) return ask;
    let record;
    try {
      record = await act(posted.form, posted.access);
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    await audit(deps, { ...record, orgId: posted.access.org.id, actor: posted.access.me.user.id });
    return c.redirect(`${orgPath(deps, posted.access.org, route.section)}?done=${route.done}`, 303);
  });
}
