/**
 * `/orgs/<slug>/invitations`: invite someone by e-mail address with a role (the link is e-mailed
 * when SMTP is configured, otherwise shown here once to pass on), see every invitation and its
 * state, and revoke pending ones. The rules are identity/invitations.ts's.
 */
import type { Org, OrgResource } from '../../store/orgs.ts';
import type { Hono } from 'hono';
import { identityDeps } from '../../identity/context.ts';
import { audit } from '../account/audit.ts';
import { DEFAULT_INVITATION_DAYS, invite, listInvitations, revokeInvitation, type InvitationView } from '../../identity/invitations.ts';
import type { Mailer } from '../../identity/mailer.ts';
import { ORG_ROLES } from '../../identity/people.ts';
import { csrfField, notice, when } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { orgAccess, orgAction, orgForm, orgPage, orgPath, type OrgAccess } from './access.ts';
import { refusalPage } from '../refusals.ts';
import { accessOptions, postedAccess } from './starting-access.ts';
import { KIND_LABEL } from '../account/resource-tree.ts';

const seconds = (iso: string | null) => (iso ? Math.floor(Date.parse(iso) / 1000) : null);

/** The form that invites someone by e-mail address, with a role and how long the link works. */
function inviteForm(deps: WebDeps & { mailer?: Mailer }, c: WebContext, org: Org, resources: OrgResource[]): Html {
  return html`<h2>Invite someone</h2>
<form method="post" action="${orgPath(deps, org, 'invitations')}" data-testid="invite">
${csrfField(deps, c, 'org:invite')}
<label for="invite-email">E-mail address</label><input id="invite-email" name="email" type="email" required>
<label for="invite-role">Role</label>
<select id="invite-role" name="role">${ORG_ROLES.map((r) => html`<option value="${r}"${r === 'member' ? html` selected` : ''}>${r}</option>`)}</select>
<label for="invite-start">Starting access</label>
<select id="invite-start" name="start">${accessOptions(resources, undefined, "the organization's default access for new members")}</select>
<label for="invite-days">The link works for</label>
<select id="invite-days" name="days">${[1, 3, 7, 14, 30].map((d) => html`<option value="${d}"${d === DEFAULT_INVITATION_DAYS ? html` selected` : ''}>${d} day${d === 1 ? '' : 's'}</option>`)}</select>
<p class="muted">Only the person signed in with this address can accept.${deps.mailer ? ' The link is e-mailed to them.' : ' You get the link to send them.'}</p>
<div class="actions"><button class="primary" type="submit">Invite</button></div>
</form>`;
}

/** What the person gets on acceptance besides the org role: a role on a workspace or project, or the org's default. */
function startingAccessText(inv: InvitationView, resources: readonly OrgResource[]): string {
  const start = inv.startingAccess;
  if (!start) return "the organization's default";
  const resource = resources.find((r) => r.id === start.resourceId);
  return resource ? `${start.role} on ${KIND_LABEL[resource.kind].toLowerCase()} ${resource.name}` : `${start.role} on a removed workspace`;
}

/** Every invitation with its state and starting access; pending ones can be revoked. */
function invitationTable(deps: WebDeps, c: WebContext, org: Org, invitations: InvitationView[], resources: readonly OrgResource[]): Html {
  if (!invitations.length) return html`<p data-testid="no-invitations" class="muted">No invitations yet.</p>`;
  return html`<div class="table-scroll" tabindex="0"><table data-testid="invitations"><thead><tr><th>E-mail</th><th>Role</th><th>Starting access</th><th>State</th><th>Sent</th><th>Expires</th><th></th></tr></thead><tbody>
${invitations.map(
  (inv) => html`<tr data-testid="invitation" data-invitation="${inv.id}" data-status="${inv.status}">
<td>${inv.email}</td><td>${inv.role}</td><td data-testid="starting-access">${startingAccessText(inv, resources)}</td><td>${inv.status}</td><td>${when(seconds(inv.createdAt))}</td><td>${when(seconds(inv.expiresAt))}</td>
<td>${inv.status === 'pending'
  ? html`<form method="post" action="${orgPath(deps, org, 'invitations', '/revoke')}" class="inline">${csrfField(deps, c, 'org:invitation-revoke')}<input type="hidden" name="invitation" value="${inv.id}"><button class="danger" type="submit" data-testid="revoke-invitation">Revoke</button></form>`
  : ''}</td></tr>`,
)}</tbody></table></div>`;
}

/** The invitation just made: its link to pass on (shown once), or that it was e-mailed. */
function invitationMade(result: { invitation: InvitationView; link?: string }): Html {
  return result.link
    ? html`<section class="notice" data-testid="invitation-created" data-invitation="${result.invitation.id}">
<p>Send this link to <strong>${result.invitation.email}</strong>; it works once, until ${when(seconds(result.invitation.expiresAt))}. It is not shown again.</p>
<code class="secret" data-testid="invitation-link">${result.link}</code></section>`
    : html`<p class="notice" role="status" data-testid="invitation-sent" data-invitation="${result.invitation.id}">The invitation was e-mailed to ${result.invitation.email}.</p>`;
}

export function invitationRoutes(app: Hono<WebEnv>, deps: WebDeps & { mailer?: Mailer }): void {
  const ids = identityDeps(deps);

  async function invitationsPage(c: WebContext, access: OrgAccess, extra?: Html): Promise<string> {
    const invitations = await listInvitations(ids, access.org.id);
    const resources = await deps.store.orgs.resources(access.org.id);
    return orgPage(deps, c, access, 'invitations', html`${notice(c, { revoked: 'The invitation was revoked: its link no longer works.' })}
${extra ?? ''}
${inviteForm(deps, c, access.org, resources)}
<h2>Invitations</h2>
${invitationTable(deps, c, access.org, invitations, resources)}`);
  }

  app.get('/orgs/:org/invitations', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    return c.html(await invitationsPage(c, access));
  });

  app.post('/orgs/:org/invitations', async (c) => {
    const posted = await orgForm(deps, c, 'org:invite');
    if (posted instanceof Response) return posted;
    const { access, form } = posted;
    const days = Number.parseInt(field(form, 'days'), 10);
    let result;
    try {
      result = await invite(
        { ...ids, publicUrl: deps.config.publicUrl },
        access.actor,
        access.org,
        {
          email: field(form, 'email').trim(),
          role: field(form, 'role') || 'member',
          expiresInDays: Number.isFinite(days) ? days : DEFAULT_INVITATION_DAYS,
          startingAccess: postedAccess(field(form, 'start')),
        },
        deps.mailer,
      );
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    await audit(deps, {
      kind: 'admin.invitation.created',
      orgId: access.org.id,
      actor: access.me.user.id,
      details: { invitation: result.invitation.id, role: result.invitation.role, sent: result.sent },
    });
    return c.html(await invitationsPage(c, access, invitationMade(result)));
  });

  orgAction(app, deps, { path: '/orgs/:org/invitations/revoke', purpose: 'org:invitation-revoke', section: 'invitations', done: 'revoked', confirm: async (_form, { org }) => ({
    title: 'Revoke this invitation?',
    text: `Its link stops working at once; to invite the person to ${org.name} again you make a new invitation.`,
    button: 'Revoke',
  }) }, async (form, { org }) => {
    await revokeInvitation(ids, org.id, field(form, 'invitation'));
    return { kind: 'admin.invitation.revoked', details: { invitation: field(form, 'invitation') } };
  });
}
