/**
 * `/orgs/<slug>/members`: who belongs to the organization, with their role; change a role,
 * remove a member (their grants and keys in the org are revoked at once — identity/people.ts),
 * make a one-time password reset link for a member, shown to the admin once, and reset a member's
 * second factors when they lost their authenticator (identity/mfa-reset.ts: their sessions end).
 */
import type { Hono } from 'hono';
import { identityDeps } from '../../identity/context.ts';
import { issuePasswordReset, mayIssueResetFor, passwordResetDeps } from '../../identity/password-reset.ts';
import { membersOf, ORG_ROLES, removeMember, setRole } from '../../identity/people.ts';
import { checkOrgManagerMayReset, resetSecondFactors } from '../../identity/mfa-reset.ts';
import { PortcullisError } from '../../core/errors.ts';
import { audit } from '../account/audit.ts';
import { csrfField, errorPage, notFound, notice, when } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { orgAccess, orgAction, orgForm, orgPage, orgPath, type OrgAccess } from './access.ts';
import type { OrgRole } from '../../core/roles.ts';

type MemberRow = Awaited<ReturnType<typeof membersOf>>[number];

/** One member: who, their role (to change), since when, and the reset-link and remove buttons. */
function memberRow(deps: WebDeps, c: WebContext, access: OrgAccess, { member: m, user }: MemberRow): Html {
  const action = (what: string) => orgPath(deps, access.org, 'members', `/${what}`);
  return html`<tr data-testid="member" data-user="${m.userId}" data-role="${m.role}">
<td>${user?.name ? html`${user.name} ` : ''}<span class="muted">${user?.email ?? m.userId}</span>${m.userId === access.me.user.id ? html` <strong>(you)</strong>` : ''}</td>
<td><form method="post" action="${action('role')}" class="inline">${csrfField(deps, c, 'org:role')}<input type="hidden" name="user" value="${m.userId}">
<select name="role" aria-label="Role of ${user?.email ?? m.userId}">${ORG_ROLES.map((r) => html`<option value="${r}"${r === m.role ? html` selected` : ''}>${r}</option>`)}</select>
<button type="submit" data-testid="set-role">Change</button></form></td>
<td>${when(m.createdAt)}</td>
<td><form method="post" action="${action('reset-link')}" class="inline">${csrfField(deps, c, 'org:reset-link')}<input type="hidden" name="user" value="${m.userId}"><button type="submit" data-testid="reset-link">Password reset link</button></form>
<form method="post" action="${action('reset-mfa')}" class="inline">${csrfField(deps, c, 'org:reset-mfa')}<input type="hidden" name="user" value="${m.userId}"><button type="submit" data-testid="reset-mfa" title="Removes their authenticator, recovery codes and passkeys, and signs them out everywhere">Reset two-step sign-in</button></form>
<form method="post" action="${action('remove')}" class="inline">${csrfField(deps, c, 'org:remove')}<input type="hidden" name="user" value="${m.userId}"><button class="danger" type="submit" data-testid="remove-member">Remove</button></form></td>
</tr>`;
}

/** A reset link just made, shown in this answer only. */
function issuedLink(userId: string, email: string, issued: { link: string; expiresAt: number }): Html {
  return html`<section class="notice" data-testid="reset-link-issued" data-user="${userId}">
<p>A one-time link for <strong>${email}</strong> to choose a new password. It works once, until ${when(issued.expiresAt)}. Copy it now: it is not shown again.</p>
<code class="secret" data-testid="reset-link-value">${issued.link}</code>
</section>`;
}

export function memberRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const ids = identityDeps(deps);
  const resetDeps = passwordResetDeps(deps);

  async function membersPage(c: WebContext, access: OrgAccess, extra?: Html): Promise<string> {
    const members = await membersOf(ids, access.org.id);
    return orgPage(deps, c, access, 'members', html`${notice(c, { role_changed: 'The role was changed. It applies to their apps at the next token refresh.', removed: 'The member was removed. Their apps and keys in this organization stopped working.', mfa_reset: 'Their two-step sign-in was reset and they were signed out everywhere. They set it up again at their next sign-in if an organization of theirs requires it.' })}
${extra ?? ''}
<div class="table-scroll" tabindex="0"><table data-testid="members">
<thead><tr><th>Person</th><th>Role</th><th>Member since</th><th></th></tr></thead>
<tbody>
${members.map((row) => memberRow(deps, c, access, row))}
</tbody>
</table></div>
<p class="muted">Invite people on <a href="${orgPath(deps, access.org, 'invitations')}">Invitations</a>.</p>`);
  }

  app.get('/orgs/:org/members', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    return c.html(await membersPage(c, access));
  });

  orgAction(app, deps, { path: '/orgs/:org/members/role', purpose: 'org:role', section: 'members', done: 'role_changed' }, async (form, { org, actor }) => {
    const role = field(form, 'role') as OrgRole;
    if (!ORG_ROLES.includes(role)) throw new PortcullisError('invalid_request', 'pick owner, admin or member', { detail: { errors: [{ path: 'role', message: 'owner, admin or member' }] } });
    await setRole(ids, actor, org.id, field(form, 'user'), role);
    return { kind: 'admin.member.role', subject: field(form, 'user'), details: { role } };
  });

  const removal = async (form: Record<string, unknown>, { org }: OrgAccess) => {
    // Named only when a member here: the question must not tell an admin who else has an account.
    const member = await deps.store.orgs.member(org.id, field(form, 'user'));
    const person = member ? await deps.store.users.findById(field(form, 'user')) : undefined;
    const who = person ? person.name || person.email : 'this person';
    return {
      title: `Remove ${who} from ${org.name}?`,
      text: `They lose their role here and on every workspace and project of ${org.name}; apps they connected for ${org.name} are disconnected and their API keys for it stop working at once. Their account itself stays.`,
      button: 'Remove',
    };
  };

  orgAction(app, deps, { path: '/orgs/:org/members/remove', purpose: 'org:remove', section: 'members', done: 'removed', confirm: removal }, async (form, { org, actor }) => {
    const revoked = await removeMember(ids, actor, org.id, field(form, 'user'));
    return { kind: 'admin.member.removed', subject: field(form, 'user'), details: revoked };
  });

  orgAction(app, deps, { path: '/orgs/:org/members/reset-mfa', purpose: 'org:reset-mfa', section: 'members', done: 'mfa_reset', confirm: {
    title: 'Reset this person’s second factors?',
    text: 'Their authenticator app, recovery codes and passkeys stop working and they are signed out everywhere; an organization that requires MFA has them set up a new one at their next sign-in.',
    button: 'Reset',
  } }, async (form, { org, actor }) => {
    const userId = field(form, 'user');
    await checkOrgManagerMayReset(ids, actor, org.id, userId);
    const reset = await resetSecondFactors(ids, userId);
    return { kind: 'admin.member.mfa_reset', subject: userId, details: { ...reset } };
  });

  app.post('/orgs/:org/members/reset-link', async (c) => {
    const posted = await orgForm(deps, c, 'org:reset-link');
    if (posted instanceof Response) return posted;
    const { access, form } = posted;
    const userId = field(form, 'user');
    if (!(await deps.store.orgs.member(access.org.id, userId))) return notFound(deps, c);
    if (!(await mayIssueResetFor(deps.store, access.org.id, access.actor, userId))) {
      return errorPage(deps, c, 403, 'forbidden', 'Not for this account', 'This person is an owner, a server administrator, or also belongs to an organization you do not manage: they reset their password themselves, or ask someone who manages all of it.');
    }
    const issued = await issuePasswordReset(resetDeps, userId);
    if (!issued) return errorPage(deps, c, 409, 'account_disabled', 'Not for this account', 'This account is disabled.');
    const user = await deps.store.users.findById(userId);
    await audit(deps, { kind: 'admin.password.reset_link', orgId: access.org.id, actor: access.me.user.id, subject: userId });
    deps.log.info({ event: 'password.reset_link', user: userId, by: access.me.user.id }, 'password reset link made by an org admin');
    // Shown in this answer only (a POST, not cached): give it to the person by a channel you trust.
    return c.html(await membersPage(c, access, issuedLink(userId, user?.email ?? userId, issued)));
  });
}
